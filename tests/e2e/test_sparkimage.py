"""SparkImage end to end: kubectl apply → the operator builds and pushes → Ready with digests."""

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.e2e.conftest import kubectl
from tests.support import wait_until

DATA = Path(__file__).resolve().parents[2] / "examples" / "apps"


def spark_image(platform: dict[str, str], name: str, packages: list[str] | None = None) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "kubricks.dev/v1alpha1",
            "kind": "SparkImage",
            "metadata": {"name": name},
            "spec": {
                "spark": {"version": "3.5.3"},
                "python": {"packages": packages or ["six==1.16.0"]},
                "app": {"sources": [{"configMap": {"name": "wordcount"}}], "wheel": True},
                "base": {"cpu": platform["KUBRICKS_TEST_BASE_IMAGE"]},
                "databricks": {"runtime": "15.4-LTS"},
                "registry": {
                    "repository": f"{platform['KUBRICKS_TEST_REGISTRY']}/e2e/{name}",
                    "credentialsSecret": "regcred",
                },
                "build": {"caCertificates": {"configMap": "build-ca"}},
            },
        }
    )


def registry_secret(platform: dict[str, str], namespace: str, password: str) -> None:
    rendered = kubectl(
        "create", "secret", "docker-registry", "regcred", "-n", namespace,
        f"--docker-server={platform['KUBRICKS_TEST_REGISTRY']}",
        f"--docker-username={platform['KUBRICKS_TEST_REGISTRY_USER']}",
        f"--docker-password={password}",
        "--dry-run=client", "-o", "yaml",
    ).stdout  # fmt: skip
    kubectl("apply", "-n", namespace, "-f", "-", stdin=rendered)


def prepare(platform: dict[str, str], namespace: str, password: str) -> None:
    kubectl("create", "configmap", "wordcount", "-n", namespace, f"--from-file={DATA / 'wordcount'}")
    kubectl(
        "create", "configmap", "build-ca", "-n", namespace, f"--from-file=ca.pem={platform['KUBRICKS_TEST_CA_BUNDLE']}"
    )
    registry_secret(platform, namespace, password)


def get(namespace: str, name: str) -> dict[str, Any]:
    return json.loads(kubectl("get", "sparkimage", name, "-n", namespace, "-o", "json").stdout)


def ready_condition(resource: dict[str, Any]) -> dict[str, Any]:
    conditions = resource.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "Ready"), {})


def registry_digest(platform: dict[str, str], ref: str) -> str:
    repository, tag = ref.removeprefix(platform["KUBRICKS_TEST_REGISTRY"] + "/").rsplit(":", 1)
    response = httpx.get(
        f"http://{platform['KUBRICKS_TEST_REGISTRY']}/v2/{repository}/manifests/{tag}",
        auth=(platform["KUBRICKS_TEST_REGISTRY_USER"], platform["KUBRICKS_TEST_REGISTRY_PASSWORD"]),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert response.status_code == 200, response.text
    return response.headers["Docker-Content-Digest"]


def test_sparkimage_becomes_ready_with_the_pushed_digest(
    platform: dict[str, str], namespace: str, operator_log: Path
) -> None:
    prepare(platform, namespace, platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_image(platform, "wordcount"))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "sparkimage/wordcount", "--timeout=600s")
    resource = get(namespace, "wordcount")
    status = resource["status"]
    assert status["phase"] == "Ready"
    assert status["observedGeneration"] == resource["metadata"]["generation"]
    assert status["inputsHash"].startswith("sha256:")
    (image,) = status["images"]
    assert image["variant"] == "cpu"
    assert image["digest"] == registry_digest(platform, image["ref"])
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=wordcount").stdout
    assert "Building" in events
    assert "Ready" in events

    # A spec change builds again, under a new content address.
    kubectl(
        "patch", "sparkimage", "wordcount", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"python": {"packages": ["six==1.17.0"]}}}),
    )  # fmt: skip

    def rebuilt() -> dict[str, Any] | None:
        current = get(namespace, "wordcount")
        settled = current["status"].get("observedGeneration") == current["metadata"]["generation"]
        return current if settled and current["status"]["phase"] == "Ready" else None

    after = wait_until(rebuilt, timeout=600, what="the rebuild of generation 2", interval=2)
    assert after["status"]["inputsHash"] != status["inputsHash"]


def test_wrong_registry_password_is_reported_and_recovers_when_fixed(
    platform: dict[str, str], namespace: str, operator_log: Path
) -> None:
    prepare(platform, namespace, "wrong-password")
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_image(platform, "denied"))

    def refused() -> dict[str, Any] | None:
        condition = ready_condition(get(namespace, "denied"))
        return condition if condition.get("reason") == "RegistryAuthFailed" else None

    condition = wait_until(refused, timeout=120, what="Ready=False with reason RegistryAuthFailed", interval=1)
    assert condition["status"] == "False"
    assert "refused the credentials given" in condition["message"]
    assert "spec.registry.credentialsSecret" in condition["message"]
    assert "wrong-password" not in json.dumps(get(namespace, "denied"))
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "reason=RegistryAuthFailed").stdout
    assert "denied" in events

    registry_secret(platform, namespace, platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "sparkimage/denied", "--timeout=600s")


def test_a_spec_change_during_a_build_supersedes_it(
    platform: dict[str, str], namespace: str, operator_log: Path
) -> None:
    prepare(platform, namespace, platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])
    manifest = yaml.safe_load(spark_image(platform, "moving"))
    # A value never built before, so the final stage really builds (copying Spark takes a while).
    manifest["spec"]["env"] = {"BUILD_MARKER": uuid.uuid4().hex}
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))

    def building() -> dict[str, Any] | None:
        status = get(namespace, "moving").get("status", {})
        return status if status.get("phase") == "Building" else None

    wait_until(building, timeout=300, what="the build to be under way", interval=0.1)
    manifest["spec"]["env"] = {"BUILD_MARKER": uuid.uuid4().hex}
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "sparkimage/moving", "--timeout=600s")
    resource = get(namespace, "moving")
    assert resource["metadata"]["generation"] == 2
    assert resource["status"]["observedGeneration"] == 2
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "reason=Superseded").stdout
    assert "moving" in events


def test_the_same_spec_under_another_name_and_namespace_builds_nothing(
    platform: dict[str, str], namespace: str, operator_log: Path
) -> None:
    other = f"{namespace}-other"
    kubectl("create", "namespace", other)
    try:
        for where, name in ((namespace, "first"), (other, "second")):
            prepare(platform, where, platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])
            manifest = yaml.safe_load(spark_image(platform, name))
            manifest["spec"]["registry"]["repository"] = f"{platform['KUBRICKS_TEST_REGISTRY']}/e2e/shared"
            kubectl("apply", "-n", where, "-f", "-", stdin=yaml.safe_dump(manifest))
            kubectl("wait", "-n", where, "--for=condition=Ready", f"sparkimage/{name}", "--timeout=600s")
        first, second = get(namespace, "first")["status"], get(other, "second")["status"]
        assert first["inputsHash"] == second["inputsHash"]
        assert first["images"] == second["images"]
        assert second["message"] == "images ready: cpu already in the registry"
    finally:
        kubectl("delete", "namespace", other, "--wait=false")
