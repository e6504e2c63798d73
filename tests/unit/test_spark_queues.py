"""Queues and batch schedulers, table-driven: what each asks of the driver pod, the executors (through Spark's
settings and their pod template) and the attempt's other objects."""

import json
from typing import Any, NamedTuple

import pytest
import yaml
from pydantic import ValidationError

from kubricks.api.sparkjob import SparkJob
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    EXECUTOR_TEMPLATE_FILE,
    PROPERTIES_FILE,
    attempt_resources,
    optional_kinds,
    parse_properties,
)
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-000000000004"
IMAGE = "registry.example.com/etl@sha256:" + "d" * 64
ATTEMPT = Attempt("etl-daily", "team", UID, 1)
GROUP = f"{ATTEMPT.prefix}-podgroup"
# The example: a Python driver of 512m (+384Mi overhead) asking 250m, two executors of 512Mi (+384Mi) asking 250m.
DRIVER = {"cpu": "250m", "memory": "896Mi"}
EXECUTOR = {"cpu": "250m", "memory": "896Mi"}


def job(kubernetes: dict[str, Any]) -> SparkJob:
    changes = {"metadata.namespace": "team", **{f"spec.kubernetes.{k}": v for k, v in kubernetes.items()}}
    return SparkJob.model_validate(patched(example("sparkjob-kubernetes-wheel.yaml"), changes))


def rendered(kubernetes: dict[str, Any]) -> dict[str, Any]:
    """What the scheduling of each role comes to: the driver pod's, the executors' (Spark's settings for labels and
    annotations, the pod template for schedulerName), and the attempt's PodGroups."""
    resources = attempt_resources(job(kubernetes), ATTEMPT, IMAGE, None)
    pod = next(m for m in resources if m["kind"] == "Pod")
    conf = next(m for m in resources if m["kind"] == "ConfigMap")["data"]
    properties = parse_properties(conf[PROPERTIES_FILE])
    template = yaml.safe_load(conf[EXECUTOR_TEMPLATE_FILE])
    executor_labels = {
        key.removeprefix("spark.kubernetes.executor.label."): value
        for key, value in properties.items()
        if key.startswith("spark.kubernetes.executor.label.")
        and not key.startswith("spark.kubernetes.executor.label.kubricks")
    }
    executor_annotations = {
        key.removeprefix("spark.kubernetes.executor.annotation."): value
        for key, value in properties.items()
        if key.startswith("spark.kubernetes.executor.annotation.")
    }
    driver_labels = {
        k: v for k, v in pod["metadata"]["labels"].items() if not k.startswith(("kubricks", "spark-", "app."))
    }
    return {
        "driver_labels": driver_labels,
        "driver_annotations": pod["metadata"].get("annotations", {}),
        "driver_scheduler": pod["spec"].get("schedulerName"),
        "executor_labels": executor_labels,
        "executor_annotations": executor_annotations,
        "executor_scheduler": template["spec"].get("schedulerName"),
        "pod_groups": [m for m in resources if m["kind"] == "PodGroup"],
    }


def task_groups(executors: int) -> str:
    groups = [{"name": "spark-driver", "minMember": 1, "minResource": DRIVER}]
    if executors:
        groups.append({"name": "spark-executor", "minMember": executors, "minResource": EXECUTOR})
    return json.dumps(groups, separators=(",", ":"))


def pod_group(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.volcano.sh/v1beta1",
        "kind": "PodGroup",
        "metadata": {
            "name": GROUP,
            "namespace": "team",
            "labels": {
                "app.kubernetes.io/managed-by": "kubricks",
                "kubricks.dev/sparkjob": "etl-daily",
                "kubricks.dev/attempt": "1",
            },
            "ownerReferences": [
                {
                    "apiVersion": "kubricks.dev/v1alpha1",
                    "kind": "SparkJob",
                    "name": "etl-daily",
                    "uid": UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


NOTHING = {
    "driver_labels": {},
    "driver_annotations": {},
    "driver_scheduler": None,
    "executor_labels": {},
    "executor_annotations": {},
    "executor_scheduler": None,
    "pod_groups": [],
}


class Case(NamedTuple):
    name: str
    kubernetes: dict[str, Any]
    expected: dict[str, Any]
    """What differs from NOTHING."""
    kinds: tuple[str, ...] = ()
    """The kinds beyond pods, Services and ConfigMaps that the attempt's clean-up deletes."""


KUEUE = {"kueue.x-k8s.io/queue-name": "team-a"}
VOLCANO_GANG = {"scheduling.k8s.io/group-name": GROUP}

CASES = [
    Case("no-queue", {}, {}),
    Case("kueue-labels-both-roles", {"queueName": "team-a"}, {"driver_labels": KUEUE, "executor_labels": KUEUE}),
    Case(
        "kueue-wins-over-the-users-label",
        {"queueName": "team-a", "pods": {"labels": {"kueue.x-k8s.io/queue-name": "other", "team": "a"}}},
        {"driver_labels": {**KUEUE, "team": "a"}, "executor_labels": {**KUEUE, "team": "a"}},
    ),
    Case(
        "volcano-gang-with-queue-and-priority",
        {"batchScheduler": {"name": "volcano", "queue": "batch"}, "pods": {"priorityClassName": "high"}},
        {
            "driver_annotations": VOLCANO_GANG,
            "executor_annotations": VOLCANO_GANG,
            "driver_scheduler": "volcano",
            "executor_scheduler": "volcano",
            "pod_groups": [
                pod_group(
                    {
                        "minMember": 1,
                        "minResources": {"cpu": "750m", "memory": "2688Mi"},
                        "queue": "batch",
                        "priorityClassName": "high",
                    }
                )
            ],
        },
        kinds=("PodGroup",),
    ),
    Case(
        "volcano-gang-counts-the-initial-executors-of-dynamic-allocation",
        {
            "batchScheduler": {"name": "volcano"},
            "dynamicAllocation": {"enabled": True, "minExecutors": 3, "maxExecutors": 8},
        },
        {
            "driver_annotations": VOLCANO_GANG,
            "executor_annotations": VOLCANO_GANG,
            "driver_scheduler": "volcano",
            "executor_scheduler": "volcano",
            "pod_groups": [pod_group({"minMember": 1, "minResources": {"cpu": "1000m", "memory": "3584Mi"}})],
        },
        kinds=("PodGroup",),
    ),
    Case(
        "volcano-without-gang-only-schedules",
        {"batchScheduler": {"name": "volcano", "gang": False}},
        {"driver_scheduler": "volcano", "executor_scheduler": "volcano"},
    ),
    Case(
        "yunikorn-gang-with-queue",
        {"batchScheduler": {"name": "yunikorn", "queue": "root.team-a"}},
        {
            "driver_labels": {"queue": "root.team-a"},
            "executor_labels": {"queue": "root.team-a"},
            "driver_annotations": {
                "yunikorn.apache.org/task-group-name": "spark-driver",
                "yunikorn.apache.org/task-groups": task_groups(2),
            },
            "executor_annotations": {"yunikorn.apache.org/task-group-name": "spark-executor"},
            "driver_scheduler": "yunikorn",
            "executor_scheduler": "yunikorn",
        },
    ),
    Case(
        "yunikorn-leaves-out-an-empty-executor-group",
        {
            "batchScheduler": {"name": "yunikorn"},
            "executor": {"instances": 0},
            "dynamicAllocation": {"enabled": True, "minExecutors": 0},
        },
        {
            "driver_annotations": {
                "yunikorn.apache.org/task-group-name": "spark-driver",
                "yunikorn.apache.org/task-groups": task_groups(0),
            },
            "executor_annotations": {"yunikorn.apache.org/task-group-name": "spark-executor"},
            "driver_scheduler": "yunikorn",
            "executor_scheduler": "yunikorn",
        },
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_queues_and_schedulers(case: Case) -> None:
    assert rendered(case.kubernetes) == {**NOTHING, **case.expected}
    target = job(case.kubernetes).spec.kubernetes
    assert target is not None
    assert [kind for _, kind in optional_kinds(target)] == list(case.kinds)


def test_a_batch_scheduler_and_a_scheduler_name_are_refused_together() -> None:
    with pytest.raises(ValidationError, match="batchScheduler sets the pods' schedulerName"):
        job({"batchScheduler": {"name": "volcano"}, "executor": {"schedulerName": "custom"}})
