"""A DatabricksCluster's life, pure: create it from the image digest, follow its state, edit it when the
image or the size changes (only RUNNING or TERMINATED clusters may be edited), recreate it when it is
gone."""

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from kubricks.api.databricks import DatabricksCluster
from kubricks.databricks.payloads import UID_TAG, BasicAuth, create_cluster, edit_cluster
from kubricks.databricks.state import WorkspaceState
from kubricks.jobs import ImageState
from kubricks.k8s.conditions import Progress, with_kstatus

POLL_SECONDS = float(os.environ.get("KUBRICKS_CLUSTER_POLL_SECONDS", "60"))
"""How often a settled cluster's state is read again."""
EDITABLE = frozenset({"RUNNING", "TERMINATED"})
PHASES = {
    "PENDING": "Pending",
    "RESTARTING": "Pending",
    "RESIZING": "Running",
    "RUNNING": "Running",
    "TERMINATING": "Terminated",
    "TERMINATED": "Terminated",
    "ERROR": "Error",
}


@dataclass(frozen=True)
class ClusterObservation:
    cluster: DatabricksCluster
    uid: str
    generation: int
    status: dict[str, Any]
    image: ImageState
    workspace: WorkspaceState
    registry_auth: BasicAuth | None = None
    details: dict[str, Any] | None = None
    """clusters/get of status.clusterId; None when there is none or Databricks no longer knows it."""
    adopted: bool = False
    """``details`` is of a cluster found by this object's uid tag, created by a call whose answer was lost."""


@dataclass
class ClusterDecision:
    status: dict[str, Any]
    create: dict[str, Any] | None = None
    edit: dict[str, Any] | None = None
    wake_after: float | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)


def spec_hash(body: dict[str, Any]) -> str:
    """A content address of what was sent, so a change of image or size is seen; credentials included, as
    a changed password must reach the cluster too (only the hash is stored)."""
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


STALLED_REASONS = frozenset({"ContainerServicesDisabled", "ImagePullFailed", "ClusterError"})


def progress_of(phase: str, reason: str) -> Progress:
    """Running and (auto-)terminated clusters are settled; one that cannot start needs a person."""
    if reason in STALLED_REASONS:
        return Progress.STALLED
    if phase in ("Running", "Terminated"):
        return Progress.SETTLED
    return Progress.RECONCILING


def _status(
    obs: ClusterObservation, phase: str, ready: bool, reason: str, message: str, **fields: Any
) -> dict[str, Any]:
    return {
        "phase": phase,
        "observedGeneration": obs.generation,
        "message": message,
        "conditions": with_kstatus(
            obs.status.get("conditions"), ready, progress_of(phase, reason), reason, message, obs.generation
        ),
        **fields,
    }


def _termination(details: dict[str, Any]) -> str:
    reason = details.get("termination_reason") or {}
    if not reason:
        return details.get("state_message") or ""
    parameters = ", ".join(f"{k}={v}" for k, v in (reason.get("parameters") or {}).items())
    return f"{reason.get('code', 'UNKNOWN')} ({reason.get('type', '')}{': ' + parameters if parameters else ''})"


def tagged_cluster(clusters: list[dict[str, Any]], uid: str) -> dict[str, Any] | None:
    """The cluster clusters/list shows with this object's uid tag: one whose create call was answered with an
    error (or not at all) after Databricks had made it."""
    return next((c for c in clusters if (c.get("custom_tags") or {}).get(UID_TAG) == uid), None)


def _applied_spec_hash(obs: ClusterObservation, desired: dict[str, Any], wanted: str) -> str | None:
    """An adopted cluster was created from what this generation wants if it runs the same image; else an edit
    brings it in line."""
    if (
        obs.adopted
        and obs.details
        and (obs.details.get("docker_image") or {}).get("url") == desired["docker_image"]["url"]
    ):
        return wanted
    return obs.status.get("appliedSpecHash")


def decide_cluster(obs: ClusterObservation) -> ClusterDecision:
    name = obs.cluster.spec.workspace
    if obs.image.ref is None:
        return ClusterDecision(
            _status(obs, "Pending", False, "WaitingForImage", f"waiting for the image: {obs.image.waiting}")
        )
    if not obs.workspace.exists or (not obs.workspace.connected and obs.workspace.container_services is not False):
        message = f"waiting for the DatabricksWorkspace {name}: {obs.workspace.message or 'it does not exist yet'}"
        return ClusterDecision(_status(obs, "Pending", False, "WaitingForWorkspace", message), wake_after=30)
    if obs.workspace.container_services is False:
        message = f"the workspace {name} has Databricks Container Services disabled (enableDcs)"
        return ClusterDecision(_status(obs, "Error", False, "ContainerServicesDisabled", message))
    desired = create_cluster(obs.cluster, obs.uid, obs.image.ref, obs.registry_auth, obs.image.rapids)
    wanted = spec_hash(desired)
    if obs.details is None:
        message = (
            "creating the cluster" if not obs.status.get("clusterId") else "the cluster was gone; creating it again"
        )
        return ClusterDecision(
            _status(
                obs, "Pending", False, "Creating", message, image=obs.image.ref, appliedSpecHash=wanted, state="PENDING"
            ),
            create=desired,
            wake_after=5,
            events=[("Normal", "Creating", message)],
        )
    state = obs.details.get("state", "UNKNOWN")
    phase = PHASES.get(state, "Pending")
    cluster_id = obs.status.get("clusterId") or obs.details.get("cluster_id", "")
    applied = _applied_spec_hash(obs, desired, wanted)
    fields = {"clusterId": cluster_id, "state": state}
    if applied != wanted:
        if state in EDITABLE:
            message = f"editing the cluster for the new image or specification (it was {state})"
            return ClusterDecision(
                _status(obs, phase, False, "Editing", message, image=obs.image.ref, appliedSpecHash=wanted, **fields),
                edit=edit_cluster(obs.cluster, obs.uid, cluster_id, obs.image.ref, obs.registry_auth, obs.image.rapids),
                wake_after=5,
                events=[("Normal", "Editing", message)],
            )
        message = (
            f"an edit waits for the cluster to leave {state} (Databricks edits only RUNNING or TERMINATED clusters)"
        )
        return ClusterDecision(_status(obs, phase, False, "EditPending", message, **fields), wake_after=10)
    fields["appliedSpecHash"] = wanted
    if phase == "Running":
        return ClusterDecision(
            _status(obs, "Running", True, "Running", f"cluster {cluster_id} is {state}", **fields),
            wake_after=POLL_SECONDS,
        )
    if phase == "Terminated":
        why = _termination(obs.details)
        message = f"cluster {cluster_id} is {state}" + (f": {why}" if why else "")
        reason = "ImagePullFailed" if "DOCKER_IMAGE_PULL_FAILURE" in why else "Terminated"
        return ClusterDecision(_status(obs, "Terminated", False, reason, message, **fields), wake_after=POLL_SECONDS)
    if phase == "Error":
        message = f"cluster {cluster_id} is in ERROR: {_termination(obs.details)}"
        return ClusterDecision(_status(obs, "Error", False, "ClusterError", message, **fields), wake_after=POLL_SECONDS)
    return ClusterDecision(
        _status(obs, "Pending", False, state.title(), f"cluster {cluster_id} is {state}", **fields), wake_after=5
    )
