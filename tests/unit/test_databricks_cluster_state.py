"""A DatabricksCluster's decisions: create, follow, edit only when allowed, report termination reasons."""

from typing import Any

import pytest

from kubricks.api.databricks import DatabricksCluster
from kubricks.databricks.cluster_state import (
    POLL_SECONDS,
    ClusterObservation,
    decide_cluster,
    spec_hash,
    tagged_cluster,
)
from kubricks.databricks.payloads import create_cluster
from kubricks.databricks.state import WorkspaceState
from kubricks.jobs import ImageState
from tests.invalid_manifests import example, patched
from tests.support import decision_summary

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
    assert (decision.status["conditions"][0]["status"] == "True") == ready
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
    assert decision.status["conditions"][0]["reason"] == "ImagePullFailed"
    assert "DOCKER_IMAGE_PULL_FAILURE (CLIENT_ERROR: databricks_error_message=denied)" in decision.status["message"]


def test_waits_for_the_image_and_the_workspace_and_refuses_a_workspace_without_dcs() -> None:
    assert (
        observe({}, None, image=ImageState(waiting="Building")).status["conditions"][0]["reason"] == "WaitingForImage"
    )
    assert observe({}, None, workspace=WorkspaceState()).status["conditions"][0]["reason"] == "WaitingForWorkspace"
    off = observe({}, None, workspace=WorkspaceState(exists=True, container_services=False))
    assert off.status["phase"] == "Error"
    assert off.create is None


@pytest.mark.parametrize(
    ("tags", "found"),
    [
        ({"kubricks-uid": UID}, "0101-mine"),
        ({"kubricks-uid": "another-uid"}, None),
        ({}, None),
    ],
    ids=["tagged-with-this-uid", "another-objects", "untagged"],
)
def test_a_cluster_is_found_by_the_uid_tag(tags: dict[str, str], found: str | None) -> None:
    clusters = [{"cluster_id": "0101-other"}, {"cluster_id": "0101-mine", "custom_tags": tags}]
    assert (tagged_cluster(clusters, UID) or {}).get("cluster_id") == found


@pytest.mark.parametrize(
    ("image", "edits"),
    [(IMAGE.ref, False), ("registry.example.com/team/shared@sha256:" + "c" * 64, True)],
    ids=["same-image-kept", "other-image-edited"],
)
def test_an_adopted_cluster_is_kept_when_it_runs_the_wanted_image(image: str, edits: bool) -> None:
    details = {"cluster_id": "0101-lost", "state": "RUNNING", "docker_image": {"url": image}}
    decision = observe({}, details, adopted=True)
    assert decision.create is None, "an adopted cluster is never created again"
    assert decision.status["clusterId"] == "0101-lost"
    assert (decision.edit is not None) == edits
    assert decision.status["appliedSpecHash"] == APPLIED


@pytest.mark.parametrize(
    ("state", "termination", "progress"),
    [
        ("RUNNING", None, ("False", "False")),
        ("PENDING", None, ("True", "False")),
        ("TERMINATED", None, ("False", "False")),
        ("TERMINATED", {"code": "DOCKER_IMAGE_PULL_FAILURE", "type": "CLIENT_ERROR"}, ("False", "True")),
        ("ERROR", None, ("False", "True")),
    ],
    ids=["running", "pending", "terminated", "image-pull-failure", "error"],
)
def test_kstatus_reconciling_and_stalled_follow_the_cluster(
    state: str, termination: dict[str, str] | None, progress: tuple[str, str]
) -> None:
    details = {"cluster_id": "0101-a", "state": state, **({"termination_reason": termination} if termination else {})}
    conditions = observe({"clusterId": "0101-a", "appliedSpecHash": APPLIED}, details).status["conditions"]
    by_type = {c["type"]: c["status"] for c in conditions}
    assert (by_type["Reconciling"], by_type["Stalled"]) == progress


def summary(decision: Any) -> dict[str, Any]:
    """Everything a decision says (see decision_summary), with what it sends reduced to whether it does."""
    said = decision_summary(decision, 2)
    assert said.pop("observedGeneration") == 2
    return {
        **said,
        "create": decision.create is not None,
        "edit": decision.edit is not None,
        "wake_after": decision.wake_after,
        "events": decision.events,
    }


RUNNING_STATUS = {"clusterId": "0101-a", "appliedSpecHash": APPLIED}
FIELDS = {"clusterId": "0101-a", "appliedSpecHash": APPLIED}
PULL_FAILURE = {"code": "DOCKER_IMAGE_PULL_FAILURE", "type": "CLIENT_ERROR", "parameters": {"why": "denied"}}


@pytest.mark.parametrize(
    ("status", "details", "observed", "expected"),
    [
        (
            {},
            None,
            {"image": ImageState(waiting="Building")},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "WaitingForImage",
                "message": "waiting for the image: Building",
            },
        ),
        (
            {},
            None,
            {"workspace": WorkspaceState()},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "WaitingForWorkspace",
                "message": "waiting for the DatabricksWorkspace prod: it does not exist yet",
                "wake_after": 30,
            },
        ),
        (
            {},
            None,
            {"workspace": WorkspaceState(exists=True, message="HTTP 503")},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "WaitingForWorkspace",
                "message": "waiting for the DatabricksWorkspace prod: HTTP 503",
                "wake_after": 30,
            },
        ),
        (
            {},
            None,
            {"workspace": WorkspaceState(exists=True, connected=True, container_services=False)},
            {
                "phase": "Error",
                "ready": "False",
                "reason": "ContainerServicesDisabled",
                "message": "the workspace prod has Databricks Container Services disabled (enableDcs)",
            },
        ),
        (
            {},
            None,
            {},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "Creating",
                "message": "creating the cluster",
                "image": IMAGE.ref,
                "appliedSpecHash": APPLIED,
                "state": "PENDING",
                "create": True,
                "wake_after": 5,
                "events": [("Normal", "Creating", "creating the cluster")],
            },
        ),
        (
            {"clusterId": "0101-gone"},
            None,
            {},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "Creating",
                "message": "the cluster was gone; creating it again",
                "image": IMAGE.ref,
                "appliedSpecHash": APPLIED,
                "state": "PENDING",
                "create": True,
                "wake_after": 5,
                "events": [("Normal", "Creating", "the cluster was gone; creating it again")],
            },
        ),
        (
            {"clusterId": "0101-a", "appliedSpecHash": "sha256:old"},
            {"cluster_id": "0101-a", "state": "TERMINATED"},
            {},
            {
                "phase": "Terminated",
                "ready": "False",
                "reason": "Editing",
                "message": "editing the cluster for the new image or specification (it was TERMINATED)",
                "image": IMAGE.ref,
                "state": "TERMINATED",
                **FIELDS,
                "edit": True,
                "wake_after": 5,
                "events": [
                    ("Normal", "Editing", "editing the cluster for the new image or specification (it was TERMINATED)")
                ],
            },
        ),
        (
            {"clusterId": "0101-a", "appliedSpecHash": "sha256:old"},
            {"cluster_id": "0101-a", "state": "RESTARTING"},
            {},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "EditPending",
                "message": "an edit waits for the cluster to leave RESTARTING "
                "(Databricks edits only RUNNING or TERMINATED clusters)",
                "clusterId": "0101-a",
                "state": "RESTARTING",
                "wake_after": 10,
            },
        ),
        (
            RUNNING_STATUS,
            {"cluster_id": "0101-a", "state": "RUNNING"},
            {},
            {
                "phase": "Running",
                "ready": "True",
                "reason": "Running",
                "message": "cluster 0101-a is RUNNING",
                "state": "RUNNING",
                **FIELDS,
                "wake_after": POLL_SECONDS,
            },
        ),
        (
            RUNNING_STATUS,
            {"cluster_id": "0101-a", "state": "TERMINATED", "state_message": "Inactive for 60 minutes"},
            {},
            {
                "phase": "Terminated",
                "ready": "False",
                "reason": "Terminated",
                "message": "cluster 0101-a is TERMINATED: Inactive for 60 minutes",
                "state": "TERMINATED",
                **FIELDS,
                "wake_after": POLL_SECONDS,
            },
        ),
        (
            RUNNING_STATUS,
            {"cluster_id": "0101-a", "state": "TERMINATED", "termination_reason": PULL_FAILURE},
            {},
            {
                "phase": "Terminated",
                "ready": "False",
                "reason": "ImagePullFailed",
                "message": "cluster 0101-a is TERMINATED: DOCKER_IMAGE_PULL_FAILURE (CLIENT_ERROR: why=denied)",
                "state": "TERMINATED",
                **FIELDS,
                "wake_after": POLL_SECONDS,
            },
        ),
        (
            RUNNING_STATUS,
            {"cluster_id": "0101-a", "state": "ERROR", "termination_reason": {"code": "CLOUD_FAILURE"}},
            {},
            {
                "phase": "Error",
                "ready": "False",
                "reason": "ClusterError",
                "message": "cluster 0101-a is in ERROR: CLOUD_FAILURE ()",
                "state": "ERROR",
                **FIELDS,
                "wake_after": POLL_SECONDS,
            },
        ),
        (
            RUNNING_STATUS,
            {"cluster_id": "0101-a", "state": "RESTARTING"},
            {},
            {
                "phase": "Pending",
                "ready": "False",
                "reason": "Restarting",
                "message": "cluster 0101-a is RESTARTING",
                "state": "RESTARTING",
                **FIELDS,
                "wake_after": 5,
            },
        ),
        (
            {},
            {"cluster_id": "0101-lost", "state": "RUNNING", "docker_image": {"url": IMAGE.ref}},
            {"adopted": True},
            {
                "phase": "Running",
                "ready": "True",
                "reason": "Running",
                "message": "cluster 0101-lost is RUNNING",
                "state": "RUNNING",
                "clusterId": "0101-lost",
                "appliedSpecHash": APPLIED,
                "wake_after": POLL_SECONDS,
            },
        ),
    ],
    ids=[
        "no-image",
        "no-workspace",
        "workspace-not-connected",
        "container-services-off",
        "create",
        "recreate",
        "edit-terminated",
        "edit-waits",
        "running",
        "auto-terminated",
        "image-pull-failure",
        "error",
        "restarting",
        "adopted",
    ],
)
def test_every_decision(
    status: dict[str, Any], details: dict[str, Any] | None, observed: dict[str, Any], expected: dict[str, Any]
) -> None:
    defaults = {"create": False, "edit": False, "wake_after": None, "events": []}
    assert summary(observe(status, details, **observed)) == {**defaults, **expected}
