"""What ``kubricks dev up`` creates, as pure functions: the kind configuration, the node's registry wiring,
the chart values, the Databricks emulator's manifests and the closing hints."""

from dataclasses import dataclass
from typing import Any

import yaml

REGISTRY_CONTAINER_PORT = 5000
EMULATOR_PORT = 8765
EMULATOR_TOKEN_SECRET = "databricks-emulator-token"  # noqa: S105 (a Secret's name, not a password)
CAP_SYS_RESOURCE = 24


@dataclass(frozen=True)
class DevCluster:
    """A local kind cluster for trying kubricks, with its registry and the operator from the chart."""

    name: str = "kubricks-dev"
    registry_port: int = 5001
    namespace: str = "kubricks-system"

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    @property
    def registry_container(self) -> str:
        return f"{self.name}-registry"

    @property
    def registry_host(self) -> str:
        """Where images are pushed from this machine and pulled from inside the cluster."""
        return f"localhost:{self.registry_port}"

    @property
    def release(self) -> str:
        return "kubricks"


def lacks_cap_sys_resource(proc_status: str) -> bool:
    """True where a process's capability bounding set (from /proc/PID/status) lacks CAP_SYS_RESOURCE, as in some
    sandboxes and CI runners: containerd in the kind node must then be told not to lower oom_score_adj."""
    for line in proc_status.splitlines():
        if line.startswith("CapBnd:"):
            return not (int(line.split()[1], 16) >> CAP_SYS_RESOURCE) & 1
    return False


def kind_config(restrict_oom_score_adj: bool) -> str:
    """A one-node kind cluster whose containerd reads registry mirrors from /etc/containerd/certs.d."""
    patches = ['[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"']
    if restrict_oom_score_adj:
        # Where the host withholds CAP_SYS_RESOURCE, containerd must not lower any oom_score_adj.
        patches.append('[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true')
    config = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "containerdConfigPatches": patches,
        "nodes": [{"role": "control-plane"}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def registry_hosts_toml(cluster: DevCluster) -> str:
    """containerd's hosts.toml: pulls of localhost:PORT/... go to the registry container on the kind network
    (containerd 1.6 insists on a host table, so the address is given as server and host)."""
    url = f"http://{cluster.registry_container}:{REGISTRY_CONTAINER_PORT}"
    return f'server = "{url}"\n\n[host."{url}"]\n  capabilities = ["pull", "resolve"]\n'


def local_registry_hosting(cluster: DevCluster) -> dict[str, Any]:
    """The ConfigMap by which tools find a cluster's local registry (KEP-1755): its address from the host, and
    from the node's container runtime and the pods, which reach the registry container on the kind network."""
    in_cluster = f"{cluster.registry_container}:{REGISTRY_CONTAINER_PORT}"
    hosting = {
        "host": cluster.registry_host,
        "hostFromContainerRuntime": in_cluster,
        "hostFromClusterNetwork": in_cluster,
        "help": "https://kind.sigs.k8s.io/docs/user/local-registry/",
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": yaml.safe_dump(hosting, sort_keys=False)},
    }


def chart_values(image: str) -> list[str]:
    """``helm --set`` arguments: the operator image loaded into the node, never pulled; one replica, as a one-node
    cluster gains nothing from a standby (and its metrics Service then always reaches the replica that leads)."""
    repository, tag = image.rsplit(":", 1)
    return [
        "--set", f"image.repository={repository}", "--set", f"image.tag={tag}", "--set", "image.pullPolicy=Never",
        "--set", "replicas=1",
    ]  # fmt: skip


def emulator_manifests(cluster: DevCluster, image: str, token: str) -> list[dict[str, Any]]:
    """The Databricks emulator as a Deployment and a Service, from the operator's image."""
    labels = {"app.kubernetes.io/name": "databricks-emulator", "app.kubernetes.io/part-of": "kubricks"}
    metadata = {"namespace": cluster.namespace, "labels": labels}
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": EMULATOR_TOKEN_SECRET, **metadata},
            "stringData": {"token": token},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "databricks-emulator", **metadata},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "emulator",
                                "image": image,
                                "imagePullPolicy": "Never",
                                # Every interface of the pod: the Service forwards to the pod's address.
                                "args": [
                                    *("databricks", "emulate", "--host", "0.0.0.0", "--port", str(EMULATOR_PORT)),  # noqa: S104
                                    *("--token", "$(TOKEN)"),
                                ],
                                "env": [
                                    {
                                        "name": "TOKEN",
                                        "valueFrom": {"secretKeyRef": {"name": EMULATOR_TOKEN_SECRET, "key": "token"}},
                                    }
                                ],
                                "ports": [{"name": "http", "containerPort": EMULATOR_PORT}],
                                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}},
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "databricks-emulator", **metadata},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": EMULATOR_PORT, "targetPort": "http"}]},
        },
    ]


def emulator_url(cluster: DevCluster) -> str:
    return f"http://databricks-emulator.{cluster.namespace}.svc:{EMULATOR_PORT}"


def next_steps(cluster: DevCluster, with_emulator: bool) -> str:
    lines = [
        f"kubricks is running in the kind cluster {cluster.name} (kubectl context {cluster.context}).",
        "",
        f"Push images to {cluster.registry_host}; pods pull them from there. Try:",
        f"  kubectl --context {cluster.context} create namespace demo",
        "  kubricks image build -f examples/sparkimage-pip.yaml   # with registry.repository under "
        + cluster.registry_host,
        f"  kubectl --context {cluster.context} apply -n demo -f examples/sparkjob-kubernetes-wheel.yaml",
        f"  kubectl --context {cluster.context} get spjob -n demo -w",
    ]
    if with_emulator:
        lines += [
            "",
            f"A Databricks workspace to try the databricks target against: host {emulator_url(cluster)},",
            f"token in Secret {cluster.namespace}/{EMULATOR_TOKEN_SECRET} (copy it into your namespace as dbx-pat).",
        ]
    lines += [
        "",
        f"kubricks dev status --name {cluster.name} shows it; kubricks dev down --name {cluster.name} removes it.",
    ]
    return "\n".join(lines)
