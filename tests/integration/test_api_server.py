"""The API on a real API server: CRDs install, examples apply, bad input is refused, nothing is lost."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubricks.api.crd import GROUP, KINDS, VERSION, plural
from tests.invalid_manifests import (
    CASES,
    IMMUTABLE_CHANGES,
    VALID_WORKSPACE_HOSTS,
    ImmutableChange,
    Invalid,
    merge_patch,
    patched,
)
from tests.invalid_manifests import example as example_manifest
from tests.support import VENV_BIN, wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MODELS = {kind.KIND: kind for kind in KINDS}


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def crds_installed(platform: dict[str, str], api_client: client.ApiClient) -> None:
    """Installs the CRDs exactly as the README says: kubricks crds | kubectl apply --server-side -f -"""
    crds = subprocess.run([str(VENV_BIN / "kubricks"), "crds"], capture_output=True, text=True, check=True).stdout
    applied = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=crds)
    assert applied.returncode == 0, applied.stderr
    extensions = client.ApiextensionsV1Api(api_client)

    def established() -> bool:
        for kind in KINDS:
            crd = extensions.read_custom_resource_definition(f"{plural(kind)}.{GROUP}")
            conditions = {c.type: c.status for c in (crd.status.conditions or [])}
            if conditions.get("Established") != "True":
                return False
        return True

    wait_until(established, timeout=30, what="the CRDs to be Established")


@pytest.fixture(scope="module")
def objects(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def create(objects: client.CustomObjectsApi, namespace: str, manifest: dict[str, Any], **options: Any) -> Any:
    return objects.create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural(MODELS[manifest["kind"]]), manifest, field_validation="Strict", **options
    )


def test_every_example_applies_server_side(crds_installed: None, namespace: str) -> None:
    for example in EXAMPLES:
        applied = kubectl("apply", "--server-side", "-n", namespace, "-f", str(example))
        assert applied.returncode == 0, f"{example.name}: {applied.stderr}"


def test_get_kubricks_lists_every_kind_with_its_columns(crds_installed: None, namespace: str) -> None:
    assert kubectl("apply", "--server-side", "-n", namespace, "-f", str(ROOT / "examples")).returncode == 0
    listed = kubectl("get", "kubricks", "-n", namespace)
    assert listed.returncode == 0, listed.stderr
    headers = [line.split() for line in listed.stdout.splitlines() if line.startswith("NAME")]
    assert ["NAME", "PHASE", "VARIANTS", "IMAGE", "AGE"] in headers
    assert ["NAME", "PHASE", "TARGET", "ATTEMPT", "IMAGE", "AGE"] in headers
    assert ["NAME", "PHASE", "HOST", "AGE"] in headers
    assert ["NAME", "PHASE", "CLUSTERID", "AGE"] in headers
    assert "sparkjob.kubricks.dev/etl-daily" in listed.stdout
    short = kubectl("get", "spjob,spimg,dbws,dbcl", "-n", namespace, "-o", "name")
    assert short.returncode == 0, short.stderr
    assert len(short.stdout.split()) >= 11


def test_explain_describes_the_fields(crds_installed: None) -> None:
    def explained() -> str | None:
        result = kubectl("explain", "sparkjob.spec.databricks.cluster.new")
        return result.stdout if result.returncode == 0 else None

    text = wait_until(explained, timeout=30, what="kubectl explain to know SparkJob")
    assert "A new job cluster, booted from the image" in text
    assert "sparkVersion" in text
    assert "The Databricks Runtime version key" in text
    assert "autoscale" in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_invalid_manifest_is_refused_by_the_api_server(
    crds_installed: None, objects: client.CustomObjectsApi, namespace: str, case: Invalid
) -> None:
    with pytest.raises(ApiException) as refused:
        create(objects, namespace, case.manifest(), dry_run="All")
    assert refused.value.status in (400, 422), refused.value.body
    assert case.field in refused.value.body


@pytest.mark.parametrize("host", VALID_WORKSPACE_HOSTS)
def test_a_workspace_host_that_is_an_origin_is_accepted_by_the_api_server(
    crds_installed: None, objects: client.CustomObjectsApi, namespace: str, host: str
) -> None:
    workspace = patched(example_manifest("databricksworkspace.yaml", "prod"), {"spec.host": host})
    assert create(objects, namespace, workspace, dry_run="All")["spec"]["host"] == host


@pytest.mark.parametrize("case", IMMUTABLE_CHANGES, ids=lambda c: c.id)
def test_immutable_field_cannot_change(
    crds_installed: None, objects: client.CustomObjectsApi, namespace: str, case: ImmutableChange
) -> None:
    original, _ = case.manifests()
    create(objects, namespace, original)
    kind_plural = plural(MODELS[original["kind"]])
    # A merge patch, not a replace: it needs no resourceVersion, so nothing else touching the object interferes.
    with pytest.raises(ApiException) as refused:
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, kind_plural, original["metadata"]["name"], merge_patch(case.changes)
        )
    assert refused.value.status == 422, refused.value.body
    assert case.field in refused.value.body


@pytest.mark.parametrize(
    "manifest",
    [doc for example in EXAMPLES for doc in yaml.safe_load_all(example.read_text())],
    ids=lambda m: f"{m['kind']}/{m['metadata']['name']}",
)
def test_round_trip_through_the_api_server_preserves_every_field(
    crds_installed: None, objects: client.CustomObjectsApi, namespace: str, manifest: dict[str, Any]
) -> None:
    model = MODELS[manifest["kind"]].model_validate(manifest)
    sent = model.to_json()
    stored = create(objects, namespace, sent)
    assert stored["spec"] == sent["spec"], "the API server changed or dropped fields"
    read_back = MODELS[manifest["kind"]].model_validate(stored)
    assert read_back.spec == model.spec


def test_defaults_are_applied_by_the_api_server(
    crds_installed: None, objects: client.CustomObjectsApi, namespace: str
) -> None:
    job = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SparkJob",
        "metadata": {"name": "minimal"},
        "spec": {
            "image": {"ref": "registry.example.com/team/etl:1"},
            "app": {"mainApplicationFile": "local:///opt/app/main.py"},
            "kubernetes": {},
        },
    }
    stored = create(objects, namespace, job)
    kubernetes = stored["spec"]["kubernetes"]
    assert kubernetes["executor"] == {"instances": 2, "cores": 1, "memory": "1g", "gpus": 0}
    assert kubernetes["dynamicAllocation"] == {"enabled": False, "minExecutors": 0, "maxExecutors": 10}
    assert stored["spec"]["image"]["variant"] == "cpu"
    assert stored["spec"]["restartPolicy"] == {"type": "Never", "retries": 0, "backoffSeconds": 30}
    # The API server's defaults and the models' defaults agree.
    assert MODELS["SparkJob"].model_validate(stored).spec == MODELS["SparkJob"].model_validate(job).spec
