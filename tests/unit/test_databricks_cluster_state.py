"""A DatabricksCluster's decisions: create, follow, edit only when allowed, report termination reasons."""

from typing import Any

import pytest

from kubricks.api.databricks import DatabricksCluster
from kubricks.databricks.cluster_state import ClusterObservation, decide_cluster, spec_hash
from kubricks.databricks.payloads import create_cluster
from kubricks.databricks.state import WorkspaceState
from kubricks.jobs import ImageState
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-000000000003"
IMAGE = ImageState(ref="registry.example.com/team/shared@sha256:" + "b" * 64)
CONNECTED = WorkspaceState(exists=True, connected=True, container_services=True)
CLUSTER = DatabricksCluster.model_validate(patched(example("databrickscluster.yaml"), {"metadata.namespace": "team"}))
APPLIED = spec_hash(create_cluster(CLUSTER, UID, IMAGE.ref or "", None))


def observe(status: dict[str, Any], details: dict[str, Any] | None, **fields: Any) -> Any:
    return decide_cluster(
        ClusterObservation(
            cluster=CLUSTER,
            uid=UID,
            generation=2,
            status=status,
            image=fields.pop("image", IMAGE),
            workspace=fields.pop("workspace", CONNECTED),
            details=details,
            **fields,
        )
    )


def test_a_new_cluster_is_created_from_the_image_digest() -> None:
    decision = observe({}, None)
    assert decision.create is not None
    assert decision.create["docker_image"]["url"] == IMAGE.ref
    assert decision.status["appliedSpecHash"] == APPLIED
    assert decision.status["phase"] == "Pending"


def test_a_cluster_that_vanished_is_created_again() -> None:
    decision = observe({"clusterId": "0101-gone"}, None)
    assert decision.create is not None
    assert "creating it again" in decision.status["message"]


@pytest.mark.parametrize(
    ("state", "phase", "ready"),
    [
        ("PENDING", "Pending", False),
        ("RUNNING", "Running", True),
        ("RESIZING", "Running", True),
        ("TERMINATED", "Terminated", False),
        ("ERROR", "Error", False),
    ],
)
def test_states_map_to_phases(state: str, phase: str, ready: bool) -> None:
    decision = observe({"clusterId": "0101-a", "appliedSpecHash": APPLIED}, {"cluster_id": "0101-a", "state": state})
    assert decision.status["phase"] == phase
    assert (decision.status["conditions"][-1]["status"] == "True") == ready
    assert decision.create is None
    assert decision.edit is None


def test_a_changed_spec_is_edited_only_in_running_or_terminated() -> None:
    status = {"clusterId": "0101-a", "appliedSpecHash": "sha256:old"}
    pending = observe(status, {"cluster_id": "0101-a", "state": "PENDING"})
    assert pending.edit is None
    assert "waits for the cluster to leave PENDING" in pending.status["message"]
    running = observe(status, {"cluster_id": "0101-a", "state": "RUNNING"})
    assert running.edit is not None
    assert running.edit["cluster_id"] == "0101-a"
    assert running.status["appliedSpecHash"] == APPLIED


def test_an_image_pull_failure_names_databricks_reason() -> None:
    details = {
        "cluster_id": "0101-a",
        "state": "TERMINATED",
        "termination_reason": {
            "code": "DOCKER_IMAGE_PULL_FAILURE",
            "type": "CLIENT_ERROR",
            "parameters": {"databricks_error_message": "denied"},
        },
    }
    decision = observe({"clusterId": "0101-a", "appliedSpecHash": APPLIED}, details)
    assert decision.status["conditions"][-1]["reason"] == "ImagePullFailed"
    assert "DOCKER_IMAGE_PULL_FAILURE (CLIENT_ERROR: databricks_error_message=denied)" in decision.status["message"]


def test_waits_for_the_image_and_the_workspace_and_refuses_a_workspace_without_dcs() -> None:
    assert (
        observe({}, None, image=ImageState(waiting="Building")).status["conditions"][-1]["reason"] == "WaitingForImage"
    )
    assert observe({}, None, workspace=WorkspaceState()).status["conditions"][-1]["reason"] == "WaitingForWorkspace"
    off = observe({}, None, workspace=WorkspaceState(exists=True, container_services=False))
    assert off.status["phase"] == "Error"
    assert off.create is None
