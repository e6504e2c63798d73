"""Queues and batch schedulers, pure: the labels Kueue admits pods by, and how Volcano and YuniKorn are told that
the driver and the initial executors form a gang (as Spark's VolcanoFeatureStep and YuniKorn's Spark guide do).

A gang covers the driver and the executors Spark starts with; executors that dynamic allocation adds later are
placed one by one, so it keeps working under every scheduler.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from kubricks.api.base import cpu_millicores
from kubricks.api.sparkjob import KubernetesTarget
from kubricks.spark.attempt import Attempt, attempt_metadata

Role = Literal["driver", "executor"]

KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name"
VOLCANO_POD_GROUP = ("scheduling.volcano.sh/v1beta1", "PodGroup")
YUNIKORN_QUEUE_LABEL = "queue"
YUNIKORN_TASK_GROUP_NAME = "yunikorn.apache.org/task-group-name"
YUNIKORN_TASK_GROUPS = "yunikorn.apache.org/task-groups"
TASK_GROUPS: dict[Role, str] = {"driver": "spark-driver", "executor": "spark-executor"}


@dataclass(frozen=True)
class Demand:
    """What the pods of one role request, and how many of them the gang waits for."""

    cpu: str
    memory_mib: int
    count: int

    def resources(self) -> dict[str, str]:
        """One pod's requests."""
        return {"cpu": self.cpu, "memory": f"{self.memory_mib}Mi"}


def scheduler_name(kubernetes: KubernetesTarget) -> str | None:
    return kubernetes.batch_scheduler.name if kubernetes.batch_scheduler else None


def queue_labels(kubernetes: KubernetesTarget) -> dict[str, str]:
    """Labels of both roles' pods: Kueue's queue, and YuniKorn's."""
    labels = {KUEUE_QUEUE_LABEL: kubernetes.queue_name} if kubernetes.queue_name else {}
    scheduler = kubernetes.batch_scheduler
    if scheduler and scheduler.name == "yunikorn" and scheduler.queue:
        labels[YUNIKORN_QUEUE_LABEL] = scheduler.queue
    return labels


def gang_annotations(
    kubernetes: KubernetesTarget, attempt: Attempt, role: Role, demands: dict[Role, Demand]
) -> dict[str, str]:
    """Annotations of one role's pods that put it in the attempt's gang."""
    scheduler = kubernetes.batch_scheduler
    if scheduler is None or not scheduler.gang:
        return {}
    if scheduler.name == "volcano":
        return {VOLCANO_GROUP_ANNOTATION: pod_group_name(attempt)}
    annotations = {YUNIKORN_TASK_GROUP_NAME: TASK_GROUPS[role]}
    if role == "driver":
        # The driver creates the application, so the task groups are declared on it alone.
        annotations[YUNIKORN_TASK_GROUPS] = json.dumps(_task_groups(demands), separators=(",", ":"))
    return annotations


def _task_groups(demands: dict[Role, Demand]) -> list[dict[str, Any]]:
    # YuniKorn refuses a task group of no members: executors that all come later have none.
    return [
        {"name": TASK_GROUPS[role], "minMember": demand.count, "minResource": demand.resources()}
        for role, demand in demands.items()
        if demand.count
    ]


def pod_group_name(attempt: Attempt) -> str:
    return f"{attempt.prefix}-podgroup"


def pod_groups(
    kubernetes: KubernetesTarget,
    attempt: Attempt,
    owner: dict[str, Any],
    demands: dict[Role, Demand],
    priority_class: str | None,
) -> list[dict[str, Any]]:
    """Volcano's PodGroup of the attempt: one member (the driver) and the resources of the whole gang, so Volcano
    starts the driver only where the executors it starts with fit too."""
    scheduler = kubernetes.batch_scheduler
    if scheduler is None or scheduler.name != "volcano" or not scheduler.gang:
        return []
    spec: dict[str, Any] = {"minMember": 1, "minResources": _total(demands.values())}
    if scheduler.queue:
        spec["queue"] = scheduler.queue
    if priority_class:
        spec["priorityClassName"] = priority_class
    api_version, kind = VOLCANO_POD_GROUP
    metadata = attempt_metadata(pod_group_name(attempt), attempt, owner)
    return [{"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}]


def _total(demands: Iterable[Demand]) -> dict[str, str]:
    millicores = sum(cpu_millicores(d.cpu) * d.count for d in demands)
    memory_mib = sum(d.memory_mib * d.count for d in demands)
    return {"cpu": f"{millicores}m", "memory": f"{memory_mib}Mi"}


def queue_kinds(kubernetes: KubernetesTarget) -> list[tuple[str, str]]:
    """(apiVersion, kind) of the objects an attempt makes for its scheduler, which its clean-up deletes too."""
    scheduler = kubernetes.batch_scheduler
    return [VOLCANO_POD_GROUP] if scheduler and scheduler.name == "volcano" and scheduler.gang else []
