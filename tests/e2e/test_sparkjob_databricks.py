"""SparkJob on Databricks end to end: the operator as a process, the emulator as the workspace."""

import json
from typing import Any

import httpx

from tests.databricks_support import OAUTH_CLIENT, TOKEN, EmulatorProcess, emulator
from tests.e2e.conftest import OperatorProcess, apply, kubectl
from tests.support import wait_until

IMAGE = "registry.example.com/team/etl@sha256:" + "d" * 64
SUBMIT = "POST /api/2.2/jobs/runs/submit"


def wheel_job(namespace: str, name: str, **spec: Any) -> None:
    body = {
        "image": {"ref": IMAGE},
        "app": {"wheel": {"packageName": "etl", "entryPoint": "run"}, "arguments": ["--date", "2026-11-22"]},
        "databricks": {
            "workspace": "prod",
            "cluster": {"new": {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "Standard_DS3_v2", "numWorkers": 1}},
        },
        **spec,
    }
    apply(namespace, "SparkJob", name, body)


def finalizers(namespace: str, kind: str, name: str) -> list[str]:
    metadata = json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)["metadata"]
    return list(metadata.get("finalizers") or [])


def status(namespace: str, kind: str, name: str) -> dict[str, Any]:
    result = kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout).get("status", {}) if result.returncode == 0 else {}


def wait_phase(namespace: str, name: str, phases: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        current = status(namespace, "sparkjob", name)
        return current if current.get("phase") in phases else None

    return wait_until(reached, timeout=timeout, what=f"SparkJob {name} to be {' or '.join(phases)}", interval=0.5)


def ready(current: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in current.get("conditions", []) if c["type"] == "Ready")


def test_a_wheel_job_runs_on_a_new_cluster(namespace: str, workspace: EmulatorProcess, operator_log: object) -> None:
    wheel_job(namespace, "etl")
    done = wait_phase(namespace, "etl", ("Succeeded", "Failed"))
    assert done["phase"] == "Succeeded", done
    assert done["target"] == "databricks"
    run = done["databricks"]
    (submitted,) = workspace.runs()
    assert run["runId"] == submitted["run_id"]
    assert run["runPageUrl"] == submitted["run_page_url"]
    assert run["runPageUrl"].startswith(workspace.url)
    assert (run["lifeCycleState"], run["resultState"]) == ("TERMINATED", "SUCCESS")
    assert run["clusterId"] == submitted["cluster_instance"]["cluster_id"]
    task = submitted["tasks"][0]
    assert task["task_key"] == "etl"
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "sparkjob/etl", "--timeout=10s")
    # Deleting the job must cancel a run that is not over: only Databricks jobs hold the finalizer for that.
    assert finalizers(namespace, "sparkjob", "etl") == ["kubricks.dev/finalizer"]
    assert not finalizers(namespace, "databricksworkspace", "prod")


def test_a_failing_run_fails_the_job_with_the_runs_error(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(fail_runs=True)
    wheel_job(namespace, "broken", restartPolicy={"type": "OnFailure", "retries": 1, "backoffSeconds": 1})
    done = wait_phase(namespace, "broken", ("Failed",))
    assert done["attempt"] == 2, "one retry, as restartPolicy says"
    assert ready(done)["reason"] == "RunFailed"
    assert "the run ended FAILED: Task failed" in done["message"]
    assert len(workspace.runs()) == 2, "each attempt is a run of its own"


def test_deleting_a_job_mid_run_cancels_the_run(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(running=60.0)
    wheel_job(namespace, "long")
    wait_phase(namespace, "long", ("Running",))
    kubectl("delete", "sparkjob", "long", "-n", namespace, "--timeout=60s")
    assert workspace.requests().get("POST /api/2.2/jobs/runs/cancel") == 1
    (run,) = workspace.runs()
    wait_until(
        lambda: next(r for r in workspace.runs())["state"].get("result_state") == "CANCELED",
        timeout=10,
        what="the run to end CANCELED",
    )
    assert run["run_id"]


def test_an_operator_killed_after_submitting_starts_no_second_run(
    namespace: str, workspace: EmulatorProcess, operator_process: OperatorProcess, operator_log: object
) -> None:
    workspace.faults(running=6.0)
    wheel_job(namespace, "once")
    wait_until(lambda: workspace.requests().get(SUBMIT), timeout=30, what="the run to be submitted")
    operator_process.stop(kill=True)
    try:
        kubectl("patch", "sparkjob", "once", "-n", namespace, "--subresource=status", "--type=merge",
                "-p", json.dumps({"status": {"databricks": None, "phase": "Pending"}}))  # fmt: skip
    finally:
        operator_process.start()
    done = wait_phase(namespace, "once", ("Succeeded", "Failed"))
    assert done["phase"] == "Succeeded"
    assert len(workspace.runs()) == 1, "the same idempotency token found the same run"
    assert workspace.requests()[SUBMIT] >= 2


def test_rate_limits_and_server_errors_do_not_fail_the_job(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(rate_limit=3, retry_after=1, server_errors=2)
    wheel_job(namespace, "patient")
    assert wait_phase(namespace, "patient", ("Succeeded", "Failed"))["phase"] == "Succeeded"
    assert len(workspace.runs()) == 1


def test_container_services_off_fails_jobs_at_once(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(enableDcs=False)
    apply(namespace, "DatabricksWorkspace", "nodcs", {"host": workspace.url, "auth": {"token": {"secret": "dbx-pat"}}})

    def disabled() -> dict[str, Any] | None:
        current = status(namespace, "databricksworkspace", "nodcs")
        return current if current.get("containerServicesEnabled") is False else None

    checked = wait_until(disabled, timeout=30, what="the workspace to report enableDcs off")
    assert checked["phase"] == "Error"
    assert ready(checked) | {"lastTransitionTime": ""} == ready(checked) | {
        "status": "False",
        "reason": "ContainerServicesDisabled",
        "lastTransitionTime": "",
    }
    wheel_job(
        namespace,
        "nodcs",
        restartPolicy={"type": "OnFailure", "retries": 3},
        databricks={"workspace": "nodcs", "cluster": {"existingClusterId": "0101-000000-abc"}},
    )
    done = wait_phase(namespace, "nodcs", ("Failed",))
    assert ready(done)["reason"] == "ContainerServicesDisabled"
    assert done["attempt"] == 1, "no retry can fix a workspace setting"
    assert workspace.runs() == []


def test_refused_credentials_make_the_workspace_not_ready(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    kubectl("create", "secret", "generic", "wrong", "-n", namespace, "--from-literal=token=dapi-wrong")
    apply(namespace, "DatabricksWorkspace", "denied", {"host": workspace.url, "auth": {"token": {"secret": "wrong"}}})

    def refused() -> dict[str, Any] | None:
        current = status(namespace, "databricksworkspace", "denied")
        return current if current.get("phase") == "Error" else None

    checked = wait_until(refused, timeout=30, what="the workspace to be refused")
    assert ready(checked)["reason"] == "CredentialsRefused"
    assert "dapi-wrong" not in json.dumps(checked)


def cluster_spec(image: str, policy: str = "Delete") -> dict[str, Any]:
    return {
        "workspace": "prod",
        "image": {"ref": image},
        "sparkVersion": "15.4.x-scala2.12",
        "nodeTypeId": "Standard_DS3_v2",
        "numWorkers": 1,
        "deletionPolicy": policy,
    }


def cluster_phase(namespace: str, name: str, phase: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        current = status(namespace, "databrickscluster", name)
        return current if current.get("phase") == phase else None

    return wait_until(reached, timeout=60, what=f"DatabricksCluster {name} to be {phase}", interval=0.5)


def test_a_cluster_is_created_edited_for_a_new_image_runs_jobs_and_is_deleted(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    apply(namespace, "DatabricksCluster", "shared", cluster_spec(IMAGE))
    running = cluster_phase(namespace, "shared", "Running")
    cluster_id = running["clusterId"]
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "databrickscluster/shared", "--timeout=10s")

    wheel_job(namespace, "on-shared", databricks={"workspace": "prod", "cluster": {"clusterRef": "shared"}})
    done = wait_phase(namespace, "on-shared", ("Succeeded", "Failed"))
    assert done["phase"] == "Succeeded", done
    assert done["databricks"]["clusterId"] == cluster_id

    new_image = "registry.example.com/team/etl@sha256:" + "e" * 64
    apply(namespace, "DatabricksCluster", "shared", cluster_spec(new_image))

    def edited() -> bool:
        return workspace.requests().get("POST /api/2.1/clusters/edit", 0) >= 1

    wait_until(edited, timeout=60, what="clusters/edit")
    again = cluster_phase(namespace, "shared", "Running")
    assert again["clusterId"] == cluster_id, "edited in place, not recreated"
    assert again["image"] == new_image

    kubectl("delete", "databrickscluster", "shared", "-n", namespace, "--timeout=60s")
    assert workspace.requests().get("POST /api/2.1/clusters/permanent-delete") == 1


def test_deletion_policy_terminate_keeps_the_cluster_terminated(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    apply(namespace, "DatabricksCluster", "kept", cluster_spec(IMAGE, policy="Terminate"))
    cluster_phase(namespace, "kept", "Running")
    kubectl("delete", "databrickscluster", "kept", "-n", namespace, "--timeout=60s")
    counts = workspace.requests()
    assert counts.get("POST /api/2.1/clusters/delete") == 1
    assert "POST /api/2.1/clusters/permanent-delete" not in counts


def test_an_image_pull_failure_is_reported_with_databricks_reason(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    apply(namespace, "DatabricksCluster", "unpullable", cluster_spec(IMAGE))
    cluster_phase(namespace, "unpullable", "Running")
    workspace.faults(
        clusterTerminationReason={
            "code": "DOCKER_IMAGE_PULL_FAILURE",
            "type": "CLIENT_ERROR",
            "parameters": {"databricks_error_message": "manifest unknown"},
        }
    )
    terminated = cluster_phase(namespace, "unpullable", "Terminated")
    assert ready(terminated)["reason"] == "ImagePullFailed"
    assert "DOCKER_IMAGE_PULL_FAILURE" in terminated["message"]
    assert "manifest unknown" in terminated["message"]


def clusters_tagged(fake: EmulatorProcess, uid: str) -> list[str]:
    response = httpx.get(f"{fake.url}/api/2.1/clusters/list", headers={"Authorization": f"Bearer {TOKEN}"})
    clusters = response.json().get("clusters") or []
    return [c["cluster_id"] for c in clusters if (c.get("custom_tags") or {}).get("kubricks-uid") == uid]


def test_a_create_whose_answer_is_lost_makes_no_second_cluster(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(lost_creates=1)
    apply(namespace, "DatabricksCluster", "once", cluster_spec(IMAGE))
    running = cluster_phase(namespace, "once", "Running")
    uid = json.loads(kubectl("get", "databrickscluster", "once", "-n", namespace, "-o", "json").stdout)["metadata"][
        "uid"
    ]
    assert clusters_tagged(workspace, uid) == [running["clusterId"]]
    assert workspace.requests()["POST /api/2.1/clusters/create"] == 1, "the lost create is found, not sent again"


def test_one_client_per_workspace_reuses_its_oauth_token_and_reads_a_changed_secret(
    namespace: str, operator_log: object
) -> None:
    with emulator() as fake:
        client_id, client_secret = OAUTH_CLIENT
        kubectl(
            "create", "secret", "generic", "dbx-sp", "-n", namespace,
            f"--from-literal=client-id={client_id}", f"--from-literal=client-secret={client_secret}",
        )  # fmt: skip
        apply(namespace, "DatabricksWorkspace", "prod", {"host": fake.url, "auth": {"oauth": {"secret": "dbx-sp"}}})
        kubectl("wait", "-n", namespace, "--for=condition=Ready", "databricksworkspace/prod", "--timeout=60s")
        fake.faults(pending=1.0, running=5.0)
        wheel_job(namespace, "polled")
        assert wait_phase(namespace, "polled", ("Succeeded", "Failed"))["phase"] == "Succeeded"
        counts = fake.requests()
        assert counts["GET /api/2.2/jobs/runs/get"] >= 3, counts
        assert counts["POST /oidc/v1/token"] == 1, "one token for the check and every poll"

        # The service principal's secret is rotated in the workspace, then in the Secret: the refused token drops
        # the client, and the next job reads the new Secret.
        fake.faults(oauthClients={client_id: "rotated"})
        kubectl("delete", "secret", "dbx-sp", "-n", namespace)
        kubectl(
            "create", "secret", "generic", "dbx-sp", "-n", namespace,
            f"--from-literal=client-id={client_id}", "--from-literal=client-secret=rotated",
        )  # fmt: skip
        wheel_job(namespace, "after-rotation")
        assert wait_phase(namespace, "after-rotation", ("Succeeded", "Failed"))["phase"] == "Succeeded"
        assert fake.requests()["POST /oidc/v1/token"] == 2
