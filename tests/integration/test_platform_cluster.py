"""The local cluster is real: API server, scheduler, kwok nodes, garbage collection, RBAC, tokens."""

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support import wait_until

EXIT_CODE_ANNOTATION = "kwok.kubricks.dev/exit-code"


def spark_pod(name: str, *, gpus: int = 0) -> client.V1Pod:
    resources = client.V1ResourceRequirements(
        requests={"cpu": "500m", "memory": "512Mi"},
        limits={"nvidia.com/gpu": str(gpus)} if gpus else None,
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"spark-role": "driver"}),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="spark-kubernetes-driver", image="spark:test", resources=resources)],
            restart_policy="Never",
        ),
    )


def pod_phase(core_v1: client.CoreV1Api, namespace: str, name: str, phase: str) -> client.V1Pod | None:
    pod = core_v1.read_namespaced_pod(name, namespace)
    return pod if pod.status.phase == phase else None


def test_nodes_are_ready_and_one_has_gpus(core_v1: client.CoreV1Api) -> None:
    nodes = core_v1.list_node(label_selector="type=kwok").items
    ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)]
    assert len(ready) >= 2
    assert any(n.status.capacity.get("nvidia.com/gpu") == "4" for n in ready)


@pytest.mark.parametrize(("exit_code", "phase"), [("0", "Succeeded"), ("3", "Failed")])
def test_pod_is_scheduled_runs_and_ends_on_the_tests_signal(
    core_v1: client.CoreV1Api, namespace: str, exit_code: str, phase: str
) -> None:
    core_v1.create_namespaced_pod(namespace, spark_pod("driver"))
    running = wait_until(lambda: pod_phase(core_v1, namespace, "driver", "Running"), timeout=30, what="Running")
    assert running.spec.node_name.startswith("kwok-")
    assert running.status.pod_ip

    core_v1.patch_namespaced_pod("driver", namespace, {"metadata": {"annotations": {EXIT_CODE_ANNOTATION: exit_code}}})
    ended = wait_until(lambda: pod_phase(core_v1, namespace, "driver", phase), timeout=30, what=phase)
    terminated = ended.status.container_statuses[0].state.terminated
    assert terminated.exit_code == int(exit_code)


def test_a_running_pod_stays_running_without_the_signal(core_v1: client.CoreV1Api, namespace: str) -> None:
    core_v1.create_namespaced_pod(namespace, spark_pod("driver"))
    wait_until(lambda: pod_phase(core_v1, namespace, "driver", "Running"), timeout=30, what="Running")
    with pytest.raises(AssertionError, match="timed out"):
        wait_until(lambda: pod_phase(core_v1, namespace, "driver", "Succeeded"), timeout=3, what="no end")


def test_gpu_pod_lands_on_the_gpu_node(core_v1: client.CoreV1Api, namespace: str) -> None:
    core_v1.create_namespaced_pod(namespace, spark_pod("gpu-driver", gpus=2))
    running = wait_until(lambda: pod_phase(core_v1, namespace, "gpu-driver", "Running"), timeout=30, what="Running")
    node = core_v1.read_node(running.spec.node_name)
    assert node.status.capacity["nvidia.com/gpu"] == "4"


def test_pod_asking_for_more_gpus_than_any_node_has_stays_pending(core_v1: client.CoreV1Api, namespace: str) -> None:
    core_v1.create_namespaced_pod(namespace, spark_pod("greedy", gpus=5))

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
