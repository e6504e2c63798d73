"""The local cluster is real: a kind node whose kubelet runs every pod, pulls from the private registry with
a pull Secret, resolves Services by DNS, binds volumes, kills what exceeds its memory; a kwok GPU node for
scheduling only; garbage collection, RBAC, tokens."""

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support import small_claim, wait_until


def shell_pod(
    name: str, script: str, image: str, *, pull_secret: str | None, memory: str = "64Mi", **spec: Any
) -> client.V1Pod:
    """A pod that runs ``script`` with sh in ``image``, small enough for the one 2-CPU node."""
    resources = client.V1ResourceRequirements(
        requests={"cpu": "50m", "memory": memory}, limits={"memory": memory, **spec.pop("limits", {})}
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(name="main", image=image, command=["sh", "-c", script], resources=resources)
            ],
            image_pull_secrets=[client.V1LocalObjectReference(name=pull_secret)] if pull_secret else None,
            restart_policy="Never",
            termination_grace_period_seconds=1,
            **spec,
        ),
    )


def pod_in_phase(core_v1: client.CoreV1Api, namespace: str, name: str, *phases: str) -> client.V1Pod | None:
    pod = core_v1.read_namespaced_pod(name, namespace)
    return pod if pod.status.phase in phases else None


def wait_pod_end(core_v1: client.CoreV1Api, namespace: str, name: str, timeout: float = 120) -> client.V1Pod:
    return wait_until(
        lambda: pod_in_phase(core_v1, namespace, name, "Succeeded", "Failed"), timeout=timeout, what=f"{name} to end"
    )


def container_waiting_reason(core_v1: client.CoreV1Api, namespace: str, name: str) -> str | None:
    statuses = core_v1.read_namespaced_pod(name, namespace).status.container_statuses or []
    return next((s.state.waiting.reason for s in statuses if s.state.waiting), None)


def test_one_real_node_and_one_fake_gpu_node(core_v1: client.CoreV1Api) -> None:
    nodes = {node.metadata.name: node for node in core_v1.list_node().items}
    real = [n for n in nodes.values() if "kwok.x-k8s.io/node" not in (n.metadata.annotations or {})]
    (node,) = real
    assert node.status.node_info.kubelet_version == "v1.33.13"
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    gpu = nodes["kwok-gpu-0"]
    assert gpu.status.capacity["nvidia.com/gpu"] == "4"
    assert [(t.key, t.effect) for t in gpu.spec.taints] == [("nvidia.com/gpu", "NoSchedule")]


@pytest.mark.parametrize(("exit_code", "phase"), [(0, "Succeeded"), (3, "Failed")])
def test_a_pod_from_the_private_registry_really_runs(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str], pull_secret: str, exit_code: int, phase: str
) -> None:
    script = f"echo hello from $(hostname); exit {exit_code}"
    core_v1.create_namespaced_pod(
        namespace, shell_pod("hello", script, platform["KUBRICKS_TEST_BASE_IMAGE"], pull_secret=pull_secret)
    )
    ended = wait_pod_end(core_v1, namespace, "hello")
    assert ended.status.phase == phase
    assert ended.status.container_statuses[0].state.terminated.exit_code == exit_code
    assert core_v1.read_namespaced_pod_log("hello", namespace) == "hello from hello\n"


def test_a_pull_without_the_secret_is_refused_by_the_registry(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str]
) -> None:
    pod = shell_pod("anonymous", "true", platform["KUBRICKS_TEST_BASE_IMAGE"], pull_secret=None)
    # Always: the node may hold the image from an earlier pull, which IfNotPresent would reuse without asking.
    pod.spec.containers[0].image_pull_policy = "Always"
    core_v1.create_namespaced_pod(namespace, pod)

    def pull_failed() -> str | None:
        reason = container_waiting_reason(core_v1, namespace, "anonymous")
        return reason if reason in ("ErrImagePull", "ImagePullBackOff") else None

    wait_until(pull_failed, timeout=60, what="the kubelet to fail the unauthenticated pull")
    events = core_v1.list_namespaced_event(namespace, field_selector="involvedObject.name=anonymous").items
    assert any(
        "401 Unauthorized" in (e.message or "") or "authorization failed" in (e.message or "") for e in events
    ), [e.message for e in events]


def test_service_names_resolve_inside_the_cluster(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str], pull_secret: str
) -> None:
    image = platform["KUBRICKS_TEST_BASE_IMAGE"]
    core_v1.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="target"),
            spec=client.V1ServiceSpec(cluster_ip="None", selector={"app": "target"}),
        ),
    )
    core_v1.create_namespaced_pod(namespace, shell_pod("target", "sleep 300", image, pull_secret=pull_secret))
    target = wait_until(lambda: pod_in_phase(core_v1, namespace, "target", "Running"), timeout=60, what="target")
    lookup = f"getent hosts target.{namespace}.svc.cluster.local && getent hosts kubernetes.default.svc.cluster.local"
    core_v1.create_namespaced_pod(namespace, shell_pod("client", lookup, image, pull_secret=pull_secret))
    ended = wait_pod_end(core_v1, namespace, "client")
    log = core_v1.read_namespaced_pod_log("client", namespace)
    assert ended.status.phase == "Succeeded", log
    assert log.splitlines()[0].split()[0] == target.status.pod_ip


def test_a_container_over_its_memory_limit_is_oom_killed(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str], pull_secret: str
) -> None:
    # tail keeps the one endless line of /dev/zero in memory, growing until the kernel kills it.
    pod = shell_pod(
        "hog", "tail /dev/zero", platform["KUBRICKS_TEST_BASE_IMAGE"], pull_secret=pull_secret, memory="32Mi"
    )
    core_v1.create_namespaced_pod(namespace, pod)
    ended = wait_pod_end(core_v1, namespace, "hog")
    terminated = ended.status.container_statuses[0].state.terminated
    assert (ended.status.phase, terminated.reason, terminated.exit_code) == ("Failed", "OOMKilled", 137)


def test_a_claim_is_bound_by_the_default_storage_class(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str], pull_secret: str
) -> None:
    core_v1.create_namespaced_persistent_volume_claim(
        namespace,
        small_claim("data"),
    )
    pod = shell_pod(
        "writer",
        "echo kept > /data/file && cat /data/file",
        platform["KUBRICKS_TEST_BASE_IMAGE"],
        pull_secret=pull_secret,
        volumes=[client.V1Volume(name="data", persistent_volume_claim={"claimName": "data"})],
    )
    pod.spec.containers[0].volume_mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
    core_v1.create_namespaced_pod(namespace, pod)
    assert wait_pod_end(core_v1, namespace, "writer").status.phase == "Succeeded"
    assert core_v1.read_namespaced_pod_log("writer", namespace) == "kept\n"
    assert core_v1.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Bound"


GPU_TOLERATION = client.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")


def test_a_gpu_pod_is_scheduled_onto_the_fake_gpu_node(
    core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str]
) -> None:
    pod = shell_pod(
        "gpu", "nvidia-smi", platform["KUBRICKS_TEST_GPU_BASE_IMAGE"], pull_secret=None,
        limits={"nvidia.com/gpu": "2"}, tolerations=[GPU_TOLERATION],
    )  # fmt: skip
    core_v1.create_namespaced_pod(namespace, pod)
    running = wait_until(lambda: pod_in_phase(core_v1, namespace, "gpu", "Running"), timeout=30, what="Running")
    assert running.spec.node_name == "kwok-gpu-0"


def test_a_pod_without_gpus_never_lands_on_the_gpu_node(core_v1: client.CoreV1Api, namespace: str) -> None:
    pod = shell_pod("cpu", "true", "unused", pull_secret=None, node_selector={"kubernetes.io/hostname": "kwok-gpu-0"})
    core_v1.create_namespaced_pod(namespace, pod)

    def unschedulable() -> bool:
        conditions = core_v1.read_namespaced_pod("cpu", namespace).status.conditions or []
        return any(
            c.type == "PodScheduled" and c.reason == "Unschedulable" and "taint" in c.message for c in conditions
        )

    wait_until(unschedulable, timeout=30, what="the scheduler to keep the pod off the tainted GPU node")


def test_a_pod_asking_for_more_gpus_than_any_node_has_stays_pending(core_v1: client.CoreV1Api, namespace: str) -> None:
    pod = shell_pod(
        "greedy", "true", "unused", pull_secret=None, limits={"nvidia.com/gpu": "5"}, tolerations=[GPU_TOLERATION]
    )
    core_v1.create_namespaced_pod(namespace, pod)

    def unschedulable() -> bool:
        conditions = core_v1.read_namespaced_pod("greedy", namespace).status.conditions or []
        return any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in conditions)

    wait_until(unschedulable, timeout=30, what="the scheduler to report Unschedulable")


def test_dependents_are_garbage_collected_with_their_owner(core_v1: client.CoreV1Api, namespace: str) -> None:
    owner = core_v1.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    reference = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    core_v1.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dependent", owner_references=[reference])),
    )
    core_v1.delete_namespaced_config_map("owner", namespace)

    def dependent_gone() -> bool:
        names = {cm.metadata.name for cm in core_v1.list_namespaced_config_map(namespace).items}
        return "dependent" not in names

    wait_until(dependent_gone, timeout=60, what="the garbage collector to delete the dependent")


def client_for_service_account(
    api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> client.CoreV1Api:
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))
    token = core_v1.create_namespaced_service_account_token("runner", namespace, request).status.token
    configuration = client.Configuration()
    configuration.host = api_client.configuration.host
    configuration.ssl_ca_cert = api_client.configuration.ssl_ca_cert
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.CoreV1Api(client.ApiClient(configuration))


def test_service_account_is_forbidden_until_bound(
    api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> None:
    core_v1.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="runner"))
    )
    as_runner = client_for_service_account(api_client, core_v1, namespace)

    with pytest.raises(ApiException) as refused:
        as_runner.list_namespaced_pod(namespace)
    assert refused.value.status == 403
    assert f"system:serviceaccount:{namespace}:runner" in refused.value.body

    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(
        namespace,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="pod-reader"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["list"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="runner-reads-pods"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="pod-reader"),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name="runner", namespace=namespace)],
        ),
    )

    def allowed() -> bool:
        try:
            as_runner.list_namespaced_pod(namespace)
        except ApiException as error:
            if error.status != 403:
                raise
            return False
        return True

    wait_until(allowed, timeout=30, what="the RoleBinding to take effect")
    with pytest.raises(ApiException) as still_refused:
        as_runner.list_namespaced_secret(namespace)
    assert still_refused.value.status == 403
