"""What one BuildKit build in the cluster is made of: the ``buildctl build`` flags, buildkitd's registry settings,
the credentials file, and the pod that runs images/buildkit's ``kubricks-build`` rootless. Pure: the backend
creates these objects and follows the pod.

The pod needs no privilege, but it does need what a rootless BuildKit needs, and no less:
- seccomp ``Unconfined`` (and AppArmor ``Unconfined`` where the node has it): the runtime's default profiles
  refuse the user namespace and the mounts RootlessKit and runc make inside it;
- privilege escalation allowed and the default capabilities kept: ``newuidmap`` and ``newgidmap`` are setuid
  helpers that map the user's subordinate ids into that namespace.
Pod Security's ``baseline`` level refuses seccomp ``Unconfined``, so the build namespace is labelled
``privileged`` (or given a Localhost profile by the cluster's admin).
"""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BUILD_DIR = "/kubricks/build"
"""Where the build's ConfigMap (the context tar and buildkitd.toml) is mounted."""
DOCKER_CONFIG_DIR = "/kubricks/docker"
BUILDKIT_STATE_DIR = "/home/user/.local/share/buildkit"
CONTEXT_KEY = "context.tar"
BUILDKITD_CONFIG_KEY = "buildkitd.toml"
DOCKER_CONFIG_KEY = "config.json"
BUILDKIT_USER = 1000
CONTAINER = "buildkit"


def buildctl_flags(target: str, push_ref: str, build_args: Mapping[str, str], cache_ref: str | None) -> list[str]:
    """``buildctl build`` flags (the context comes from the pod): build ``target`` of the Dockerfile, push it as
    ``push_ref``, and keep every stage's layers in ``cache_ref`` for the next build."""
    flags = ["--frontend", "dockerfile.v0", "--opt", f"target={target}"]
    for name, value in sorted(build_args.items()):
        flags += ["--opt", f"build-arg:{name}={value}"]
    flags += ["--output", f"type=image,name={push_ref},push=true"]
    if cache_ref:
        flags += ["--export-cache", f"type=registry,ref={cache_ref},mode=max"]
        flags += ["--import-cache", f"type=registry,ref={cache_ref}"]
    return flags


def buildkitd_toml(plain_http: tuple[str, ...]) -> str:
    """buildkitd's configuration: the registries it speaks plain HTTP to."""
    return "".join(f'[registry."{host}"]\n  http = true\n' for host in sorted(plain_http))


def docker_config(credentials: Mapping[str, tuple[str, str]]) -> str:
    """``config.json`` as buildctl reads it: registry host → basic credentials."""
    auths = {
        host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        for host, (user, password) in sorted(credentials.items())
    }
    return json.dumps({"auths": auths}, sort_keys=True)


@dataclass(frozen=True)
class BuildPod:
    name: str
    namespace: str
    image: str
    """The BuildKit image (images/buildkit)."""
    flags: tuple[str, ...]
    """``buildctl build`` flags, from :func:`buildctl_flags`."""
    config_map: str
    """Holds the context tar and buildkitd.toml."""
    secret: str
    """Holds config.json."""
    deadline_seconds: int
    labels: Mapping[str, str]
    owner: Mapping[str, Any] | None = None
    """An ownerReference: deleting the owner deletes the build."""
    resources: Mapping[str, Any] | None = None
    image_pull_secret: str | None = None


def build_pod(pod: BuildPod) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": pod.name, "namespace": pod.namespace, "labels": dict(pod.labels)}
    if pod.owner:
        metadata["ownerReferences"] = [dict(pod.owner)]
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": pod.image,
        "args": list(pod.flags),
        "env": [{"name": "DOCKER_CONFIG", "value": DOCKER_CONFIG_DIR}],
        "securityContext": {
            "runAsUser": BUILDKIT_USER,
            "runAsGroup": BUILDKIT_USER,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "Unconfined"},
            "appArmorProfile": {"type": "Unconfined"},
        },
        "volumeMounts": [
            {"name": "build", "mountPath": BUILD_DIR, "readOnly": True},
            {"name": "docker-config", "mountPath": DOCKER_CONFIG_DIR, "readOnly": True},
            {"name": "buildkit-state", "mountPath": BUILDKIT_STATE_DIR},
        ],
        "terminationMessagePolicy": "File",
    }
    if pod.resources:
        container["resources"] = dict(pod.resources)
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": pod.deadline_seconds,
        "terminationGracePeriodSeconds": 5,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "containers": [container],
        "volumes": [
            {"name": "build", "configMap": {"name": pod.config_map}},
            {
                "name": "docker-config",
                "secret": {"secretName": pod.secret, "items": [{"key": DOCKER_CONFIG_KEY, "path": DOCKER_CONFIG_KEY}]},
            },
            {"name": "buildkit-state", "emptyDir": {}},
        ],
    }
    if pod.image_pull_secret:
        spec["imagePullSecrets"] = [{"name": pod.image_pull_secret}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def build_config_map(name: str, namespace: str, context_tar: bytes, plain_http: tuple[str, ...]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "binaryData": {CONTEXT_KEY: base64.b64encode(context_tar).decode()},
        "data": {BUILDKITD_CONFIG_KEY: buildkitd_toml(plain_http)},
    }


def credentials_secret(name: str, namespace: str, credentials: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": {DOCKER_CONFIG_KEY: docker_config(credentials)},
    }


def pushed_digest(termination_message: str) -> str | None:
    """The digest buildctl's metadata file reports for the pushed image; None when it reports none."""
    try:
        metadata = json.loads(termination_message)
    except ValueError:
        return None
    digest = metadata.get("containerimage.digest") if isinstance(metadata, dict) else None
    return digest if isinstance(digest, str) and digest.startswith("sha256:") else None
