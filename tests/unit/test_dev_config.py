"""What ``kubricks dev up`` creates: the kind configuration, the registry wiring, the chart values, the emulator."""

import pytest
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

CLUSTER = DevCluster("try", 5099)


@pytest.mark.parametrize(
    ("status", "lacks"),
    [
        ("Name:\tx\nCapBnd:\t000001ffffffffff\n", False),
        ("CapBnd:\t000001fffeffffff\n", True),
        ("CapBnd:\t0000000000000000\n", True),
        ("Name:\tno capabilities line\n", False),
    ],
    ids=["all", "without-sys-resource", "none", "unknown"],
)
def test_cap_sys_resource_is_read_from_the_bounding_set(status: str, lacks: bool) -> None:
    assert lacks_cap_sys_resource(status) is lacks


@pytest.mark.parametrize(("restrict", "patches"), [(False, 1), (True, 2)])
def test_kind_config_points_containerd_at_the_hosts_directory(restrict: bool, patches: int) -> None:
    config = yaml.safe_load(kind_config(restrict))
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    assert config["nodes"] == [{"role": "control-plane"}]
    assert len(config["containerdConfigPatches"]) == patches
    assert 'config_path = "/etc/containerd/certs.d"' in config["containerdConfigPatches"][0]
    assert ("restrict_oom_score_adj = true" in "".join(config["containerdConfigPatches"])) is restrict


def test_the_node_pulls_local_registry_images_from_the_registry_container() -> None:
    assert registry_hosts_toml(CLUSTER).splitlines() == [
        'server = "http://try-registry:5000"',
        "",
        '[host."http://try-registry:5000"]',
        '  capabilities = ["pull", "resolve"]',
    ]


def test_local_registry_hosting_names_the_registry_from_the_host_and_from_inside_the_cluster() -> None:
    config_map = local_registry_hosting(CLUSTER)
    assert config_map["metadata"] == {"name": "local-registry-hosting", "namespace": "kube-public"}
    hosting = yaml.safe_load(config_map["data"]["localRegistryHosting.v1"])
    assert hosting["host"] == "localhost:5099"
    assert hosting["hostFromContainerRuntime"] == hosting["hostFromClusterNetwork"] == "try-registry:5000"


@pytest.mark.parametrize(
    ("image", "values"),
    [
        ("kubricks.local/kubricks:0123456789ab", ("kubricks.local/kubricks", "0123456789ab")),
        ("localhost:5001/team/kubricks:dev", ("localhost:5001/team/kubricks", "dev")),
    ],
)
def test_chart_values_load_the_image_never_pull_and_run_one_replica(image: str, values: tuple[str, str]) -> None:
    assert chart_values(image) == [
        "--set", f"image.repository={values[0]}", "--set", f"image.tag={values[1]}", "--set", "image.pullPolicy=Never",
        "--set", "replicas=1",
    ]  # fmt: skip


def test_the_emulator_takes_its_token_from_a_secret_never_from_its_arguments() -> None:
    secret, deployment, service = emulator_manifests(CLUSTER, "kubricks.local/kubricks:abc", "s3cret")
    assert secret["stringData"] == {"token": "s3cret"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "s3cret" not in str(deployment)
    assert container["args"][-2:] == ["--token", "$(TOKEN)"]
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert {m["metadata"]["namespace"] for m in (secret, deployment, service)} == {"kubricks-system"}


@pytest.mark.parametrize(("emulator", "mentions_emulator"), [(False, False), (True, True)])
def test_next_steps_name_the_context_the_registry_and_the_way_out(emulator: bool, mentions_emulator: bool) -> None:
    text = next_steps(CLUSTER, emulator)
    assert "kubectl --context kind-try" in text
    assert "localhost:5099" in text
    assert "kubricks dev down --name try" in text
    assert ("databricks-emulator.kubricks-system.svc:8765" in text) is mentions_emulator
