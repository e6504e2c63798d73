"""The pieces of one BuildKit build in the cluster: buildctl's flags, buildkitd's settings, the credentials and
the rootless pod."""

import base64
import json
from typing import Any

import pytest

from kubricks.images.buildkit import (
    BuildPod,
    build_config_map,
    build_pod,
    buildctl_flags,
    buildkitd_toml,
    credentials_secret,
    docker_config,
    pushed_digest,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("target", "build_args", "cache_ref", "expected"),
    [
        (
            "cpu",
            {},
            None,
            ["--frontend", "dockerfile.v0", "--opt", "target=cpu", "--output", "type=image,name=r/app:t,push=true"],
        ),
        (
            "gpu",
            {"B": "2", "A": "1"},
            None,
            [
                "--frontend", "dockerfile.v0", "--opt", "target=gpu", "--opt", "build-arg:A=1", "--opt",
                "build-arg:B=2", "--output", "type=image,name=r/app:t,push=true",
            ],
        ),
        (
            "cpu",
            {},
            "r/app:buildcache",
            [
                "--frontend", "dockerfile.v0", "--opt", "target=cpu", "--output", "type=image,name=r/app:t,push=true",
                "--export-cache", "type=registry,ref=r/app:buildcache,mode=max",
                "--import-cache", "type=registry,ref=r/app:buildcache",
            ],
        ),
    ],
    ids=["plain", "build-args-sorted", "registry-cache"],
)  # fmt: skip
def test_buildctl_flags(target: str, build_args: dict[str, str], cache_ref: str | None, expected: list[str]) -> None:
    assert buildctl_flags(target, "r/app:t", build_args, cache_ref) == expected


@pytest.mark.parametrize(
    ("plain_http", "expected"),
    [
        ((), ""),
        (("10.0.0.1:5000",), '[registry."10.0.0.1:5000"]\n  http = true\n'),
        (("b:1", "a:1"), '[registry."a:1"]\n  http = true\n[registry."b:1"]\n  http = true\n'),
    ],
)
def test_buildkitd_toml_names_the_plain_http_registries(plain_http: tuple[str, ...], expected: str) -> None:
    assert buildkitd_toml(plain_http) == expected


def test_docker_config_holds_basic_credentials_per_registry() -> None:
    auths = json.loads(docker_config({"r:5000": ("user", "pa:ss"), "other.io": ("u", "p")}))["auths"]
    assert {host: base64.b64decode(entry["auth"]).decode() for host, entry in auths.items()} == {
        "r:5000": "user:pa:ss",
        "other.io": "u:p",
    }


def pod(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "img-cpu-build",
        "namespace": "team",
        "image": "kubricks.local/buildkit:1",
        "flags": ("--opt", "target=cpu"),
        "config_map": "img-cpu-build",
        "secret": "img-cpu-build",
        "deadline_seconds": 1800,
        "labels": {"kubricks.dev/sparkimage": "img"},
    }
    return build_pod(BuildPod(**{**fields, **changes}))


def test_the_build_pod_is_rootless_and_unprivileged_with_what_rootless_buildkit_needs() -> None:
    container = pod()["spec"]["containers"][0]
    assert container["securityContext"] == {
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "Unconfined"},
        "appArmorProfile": {"type": "Unconfined"},
    }
    assert "privileged" not in json.dumps(pod())
    assert "hostPath" not in json.dumps(pod())


@pytest.mark.parametrize(
    ("changes", "path", "expected"),
    [
        ({}, ("spec", "activeDeadlineSeconds"), 1800),
        ({}, ("spec", "restartPolicy"), "Never"),
        ({}, ("spec", "automountServiceAccountToken"), False),
        ({}, ("spec", "containers", 0, "args"), ["--opt", "target=cpu"]),
        ({}, ("spec", "containers", 0, "env"), [{"name": "DOCKER_CONFIG", "value": "/kubricks/docker"}]),
        ({}, ("metadata", "labels"), {"kubricks.dev/sparkimage": "img"}),
        ({"owner": {"kind": "SparkImage", "name": "img"}}, ("metadata", "ownerReferences"),
         [{"kind": "SparkImage", "name": "img"}]),
        ({"resources": {"limits": {"memory": "4Gi"}}}, ("spec", "containers", 0, "resources"),
         {"limits": {"memory": "4Gi"}}),
        ({"image_pull_secret": "regcred"}, ("spec", "imagePullSecrets"), [{"name": "regcred"}]),
    ],
)  # fmt: skip
def test_build_pod_fields(changes: dict[str, Any], path: tuple[Any, ...], expected: Any) -> None:
    found: Any = pod(**changes)
    for step in path:
        found = found[step]
    assert found == expected


@pytest.mark.parametrize("absent", ["ownerReferences", "resources", "imagePullSecrets"])
def test_build_pod_leaves_out_what_is_not_asked_for(absent: str) -> None:
    assert absent not in json.dumps(pod())


def test_the_build_config_map_carries_the_context_and_buildkitd_settings() -> None:
    config_map = build_config_map("b", "team", b"tar bytes", ("r:5000",))
    assert base64.b64decode(config_map["binaryData"]["context.tar"]) == b"tar bytes"
    assert config_map["data"]["buildkitd.toml"] == '[registry."r:5000"]\n  http = true\n'


def test_the_credentials_secret_holds_config_json() -> None:
    secret = credentials_secret("b", "team", {"r:5000": ("u", "p")})
    assert json.loads(secret["stringData"]["config.json"])["auths"]["r:5000"]["auth"] == "dTpw"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (json.dumps({"containerimage.digest": DIGEST, "image.name": "r/app:t"}), DIGEST),
        (json.dumps({"image.name": "r/app:t"}), None),
        (json.dumps({"containerimage.digest": "md5:x"}), None),
        ("not json", None),
        ("[]", None),
        ("", None),
    ],
    ids=["digest", "none", "not-sha256", "not-json", "not-an-object", "empty"],
)
def test_pushed_digest(message: str, expected: str | None) -> None:
    assert pushed_digest(message) == expected
