"""``kubricks dev``: a local kind cluster with a registry and the operator installed from the chart. The side
effects: docker, kind, helm and kubectl run as subprocesses; what they are given comes from dev.config."""

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from kubricks.dev.config import (
    DevCluster,
    chart_values,
    emulator_manifests,
    kind_config,
    lacks_cap_sys_resource,
    local_registry_hosting,
    next_steps,
    registry_hosts_toml,
)

INSTALL_HINTS = {
    "docker": "install Docker Engine (https://docs.docker.com/engine/install/) and make sure `docker info` answers",
    "kind": "go install sigs.k8s.io/kind@v0.33.0 (or https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
    "helm": "install Helm 3 (https://helm.sh/docs/intro/install/)",
    "kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
}
KIND_NETWORK = "kind"
OPERATOR_REPOSITORY = "kubricks.local/kubricks"
BUILDKIT_REPOSITORY = "kubricks.local/buildkit"
COMMAND_TIMEOUT_SECONDS = 1200


class DevError(Exception):
    """A step of ``kubricks dev`` failed; the message says which and how to fix it."""


@dataclass(frozen=True)
class UpOptions:
    node_image: str | None
    registry_image: str
    operator_image: str | None
    base_image: str | None
    ca_bundle: Path | None
    source: Path
    emulator: bool


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise DevError("missing: " + "; ".join(f"{name}: {INSTALL_HINTS[name]}" for name in missing))


def run(*command: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DevError(f"`{' '.join(command[:3])} ...` did not finish within {COMMAND_TIMEOUT_SECONDS}s") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise DevError(f"`{' '.join(command[:3])} ...` failed:\n{output}")
    return result.stdout


def cluster_exists(cluster: DevCluster) -> bool:
    return cluster.name in run("kind", "get", "clusters").split()


def container_running(name: str) -> bool:
    result = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Running}}", name], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() == "true"


def create_cluster(cluster: DevCluster, node_image: str | None) -> None:
    command = ["kind", "create", "cluster", "--name", cluster.name, "--config", "-", "--wait", "180s"]
    run(
        *command,
        *(["--image", node_image] if node_image else []),
        stdin=kind_config(lacks_cap_sys_resource(Path("/proc/self/status").read_text())),
    )


def start_registry(cluster: DevCluster, image: str) -> None:
    """The registry container of kind's local-registry guide: on this machine's loopback and the kind network."""
    if not container_running(cluster.registry_container):
        subprocess.run(["docker", "rm", "-f", cluster.registry_container], capture_output=True, check=False)
        run(
            "docker", "run", "-d", "--restart=always", "--name", cluster.registry_container,
            "-p", f"127.0.0.1:{cluster.registry_port}:5000", image,
        )  # fmt: skip
    networks = run("docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", cluster.registry_container)
    if f'"{KIND_NETWORK}"' not in networks:
        run("docker", "network", "connect", KIND_NETWORK, cluster.registry_container)


def wire_registry(cluster: DevCluster) -> None:
    directory = f"/etc/containerd/certs.d/{cluster.registry_host}"
    for node in run("kind", "get", "nodes", "--name", cluster.name).split():
        run("docker", "exec", node, "mkdir", "-p", directory)
        run(
            "docker",
            "exec",
            "-i",
            node,
            "cp",
            "/dev/stdin",
            f"{directory}/hosts.toml",
            stdin=registry_hosts_toml(cluster),
        )
    kubectl(cluster, "apply", "-f", "-", stdin=yaml.safe_dump(local_registry_hosting(cluster)))


def kubectl(cluster: DevCluster, *args: str, stdin: str | None = None) -> str:
    return run("kubectl", "--context", cluster.context, *args, stdin=stdin)


@contextmanager
def trusted_build_ca(image_dir: Path, ca_bundle: Path | None) -> Iterator[None]:
    """An image's build trusts the PEM files in its directory's extra-ca/ while it downloads."""
    if ca_bundle is None:
        yield
        return
    target = image_dir / "extra-ca" / "kubricks-dev.pem"
    shutil.copyfile(ca_bundle, target)
    try:
        yield
    finally:
        target.unlink(missing_ok=True)


def build_image(source: Path, name: str, repository: str, base_image: str | None, ca_bundle: Path | None) -> str:
    """Builds images/<name>/Dockerfile from the source tree; the tag names the image's content."""
    image_dir = source / "images" / name
    dockerfile = image_dir / "Dockerfile"
    if not dockerfile.is_file():
        raise DevError(f"{dockerfile} is missing: run from a kubricks checkout, pass --source, or --operator-image")
    build_args = ["--build-arg", f"BASE={base_image}"] if base_image else []
    if os.environ.get("GOPROXY"):
        build_args += ["--build-arg", f"GOPROXY={os.environ['GOPROXY']}"]
    with trusted_build_ca(image_dir, ca_bundle):
        run("docker", "build", "-q", "-f", str(dockerfile), *build_args, "-t", f"{repository}:dev", ".", cwd=source)
    image_id = run("docker", "image", "inspect", "--format", "{{.Id}}", f"{repository}:dev").strip()
    image = f"{repository}:{image_id.removeprefix('sha256:')[:12]}"
    run("docker", "tag", f"{repository}:dev", image)
    return image


def build_operator_image(source: Path, base_image: str | None, ca_bundle: Path | None) -> str:
    return build_image(source, "operator", OPERATOR_REPOSITORY, base_image, ca_bundle)


def build_buildkit_image(source: Path, base_image: str | None, ca_bundle: Path | None) -> str:
    """The rootless BuildKit image in-cluster builds run (images/buildkit/Dockerfile)."""
    return build_image(source, "buildkit", BUILDKIT_REPOSITORY, base_image, ca_bundle)


def install_operator(cluster: DevCluster, image: str, source: Path) -> None:
    run("kind", "load", "docker-image", image, "--name", cluster.name)
    run(
        "helm", "upgrade", "--install", cluster.release, str(source / "charts" / "kubricks"),
        "--kube-context", cluster.context, "--namespace", cluster.namespace, "--create-namespace",
        "--wait", "--timeout", "5m", *chart_values(image),
    )  # fmt: skip


def up(cluster: DevCluster, options: UpOptions, say: Callable[[str], None]) -> None:
    require_tools("docker", "kind", "helm", "kubectl")
    if cluster_exists(cluster):
        say(f"the kind cluster {cluster.name} exists")
    else:
        say(f"creating the kind cluster {cluster.name} ({options.node_image or 'kind default node image'})")
        create_cluster(cluster, options.node_image)
    say(f"the registry {cluster.registry_host} ({options.registry_image})")
    start_registry(cluster, options.registry_image)
    wire_registry(cluster)
    image = options.operator_image
    if image is None:
        say("building the operator image from images/operator/Dockerfile")
        image = build_operator_image(options.source, options.base_image, options.ca_bundle)
    say(f"installing the operator {image} with the chart")
    install_operator(cluster, image, options.source)
    if options.emulator:
        say("starting the Databricks emulator")
        manifests = emulator_manifests(cluster, image, secrets.token_hex(16))
        kubectl(cluster, "apply", "-f", "-", stdin=yaml.safe_dump_all(manifests))
        kubectl(
            cluster, "-n", cluster.namespace, "rollout", "status", "deployment/databricks-emulator", "--timeout=180s"
        )
    say(next_steps(cluster, options.emulator))


def down(cluster: DevCluster, say: Callable[[str], None]) -> None:
    require_tools("docker", "kind")
    if cluster_exists(cluster):
        run("kind", "delete", "cluster", "--name", cluster.name)
        say(f"deleted the kind cluster {cluster.name}")
    if (
        subprocess.run(["docker", "rm", "-f", cluster.registry_container], capture_output=True, check=False).returncode
        == 0
    ):
        say(f"removed the registry {cluster.registry_container}")


def status(cluster: DevCluster) -> list[tuple[str, bool, str]]:
    """(part, up, detail) for the cluster, the registry and the operator."""
    require_tools("docker", "kind", "kubectl")
    if not cluster_exists(cluster):
        return [("cluster", False, f"no kind cluster {cluster.name}: kubricks dev up --name {cluster.name}")]
    nodes = [line.split() for line in kubectl(cluster, "get", "nodes", "--no-headers").splitlines()]
    ready = [fields[0] for fields in nodes if fields[1:2] == ["Ready"]]
    operator = subprocess.run(
        ["kubectl", "--context", cluster.context, "-n", cluster.namespace, "get", "deployment",
         "-l", "app.kubernetes.io/name=kubricks", "-o", "jsonpath={.items[*].status.readyReplicas}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [
        ("cluster", bool(ready), f"{cluster.context}, nodes ready: {', '.join(ready) or 'none'}"),
        ("registry", container_running(cluster.registry_container), cluster.registry_host),
        ("operator", operator.stdout.strip() not in ("", "0"), f"namespace {cluster.namespace}"),
    ]
