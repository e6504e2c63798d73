"""The BuildKit image builds in a pod of the real cluster: rootless, unprivileged, no Docker engine. Its RUN steps
execute (runc in RootlessKit's user namespace), it pulls its base from and pushes to the authenticated registry
at the address pods reach it by, and reports the digest the registry then serves."""

import io
import tarfile
import time
from typing import Any

import httpx
import yaml
from kubernetes import client

from kubricks.images.buildkit import (
    BuildPod,
    build_config_map,
    build_pod,
    buildctl_flags,
    credentials_secret,
    pushed_digest,
)
from kubricks.k8s.client import create, read_log_tail

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


def registry_from_pods(core_v1: client.CoreV1Api) -> str:
    """The registry's address inside the cluster, as the platform publishes it (KEP-1755)."""
    hosting = core_v1.read_namespaced_config_map("local-registry-hosting", "kube-public")
    return str(yaml.safe_load(hosting.data["localRegistryHosting.v1"])["hostFromClusterNetwork"])


def context_tar(dockerfile: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile.encode())
        archive.addfile(info, io.BytesIO(dockerfile.encode()))
    return buffer.getvalue()


def finished(core_v1: client.CoreV1Api, namespace: str, name: str, timeout: float) -> client.V1Pod:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = core_v1.read_namespaced_pod(name, namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            return pod
        time.sleep(2)
    raise AssertionError(
        f"the build pod did not finish in {timeout} s: {read_log_tail(namespace, name, 'buildkit', 40, 65536)}"
    )


def test_a_rootless_buildkit_pod_builds_and_pushes_to_the_authenticated_registry(
    platform: dict[str, str], core_v1: client.CoreV1Api, namespace: str, buildkit_image_in_cluster: str
) -> None:
    core_v1.patch_namespace(namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}})
    registry = registry_from_pods(core_v1)
    base = platform["KUBRICKS_TEST_BASE_IMAGE"].replace(platform["KUBRICKS_TEST_REGISTRY"], registry, 1)
    tag = f"{namespace}-probe"
    dockerfile = f"FROM {base} AS probe\nRUN id -u > /built-as && echo built > /built\n"
    credentials = {registry: (platform["KUBRICKS_TEST_REGISTRY_USER"], platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])}
    name = "probe-build"
    create(build_config_map(name, namespace, context_tar(dockerfile), (registry,)))
    create(credentials_secret(name, namespace, credentials))
    flags = buildctl_flags("probe", f"{registry}/tests/buildkit-probe:{tag}", {}, None)
    manifest: dict[str, Any] = build_pod(
        BuildPod(name, namespace, buildkit_image_in_cluster, tuple(flags), name, name, 600, {"test": "buildkit"})
    )
    manifest["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    create(manifest)

    pod = finished(core_v1, namespace, name, timeout=600)

    log = read_log_tail(namespace, name, "buildkit", 60, 65536)
    assert pod.status.phase == "Succeeded", log
    assert not pod.spec.containers[0].security_context.privileged
    terminated = pod.status.container_statuses[0].state.terminated
    digest = pushed_digest(terminated.message or "")
    assert digest, terminated.message
    served = httpx.get(
        f"http://{platform['KUBRICKS_TEST_REGISTRY']}/v2/tests/buildkit-probe/manifests/{tag}",
        auth=(platform["KUBRICKS_TEST_REGISTRY_USER"], platform["KUBRICKS_TEST_REGISTRY_PASSWORD"]),
        headers={"Accept": MANIFEST_TYPES},
    )
    assert served.status_code == 200, served.text
    assert served.headers["Docker-Content-Digest"] == digest
