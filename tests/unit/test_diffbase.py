"""The essence kopf records must not change because it is built from less: compared with kopf's own builder."""

from typing import Any

import kopf
import pytest

from kubricks.control.diffbase import EssenceOnlyDiffBaseStorage

PREFIX, KEY = "kubricks.dev", "last-handled-configuration"
MANAGED = [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {"f:app": {}}}}]
POD_STATUS = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}


def sparkjob(**metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "SparkJob",
        "metadata": {"name": "etl", "namespace": "team", "uid": "1", "resourceVersion": "7", **metadata},
        "spec": {"image": {"ref": "r/i:1"}, "app": {"mainApplicationFile": "local:///a.py"}},
        "status": {"phase": "Submitted", "attempt": 1},
    }


BODIES = {
    "bare": sparkjob(),
    "labels, annotations and managed fields": sparkjob(
        labels={"team": "data"},
        annotations={
            "owner": "ana",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            f"{PREFIX}/{KEY}": '{"spec": {}}',
        },
        managedFields=MANAGED,
        finalizers=["kubricks.dev/finalizer"],
        deletionTimestamp="2026-11-24T00:00:00Z",
    ),
    "empty labels and annotations": sparkjob(labels={}, annotations={}),
    "a pod owned by a job": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "d", "ownerReferences": [{"kind": "SparkJob", "name": "etl"}], "managedFields": MANAGED},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "env": [{"name": "A", "value": "1"}]}]},
        "status": POD_STATUS,
    },
    "a replica set of a deployment": {
        "kind": "ReplicaSet",
        "metadata": {"name": "r", "ownerReferences": [{"kind": "Deployment", "name": "d"}]},
        "spec": {"replicas": 1},
    },
    "no metadata": {"kind": "Thing", "spec": {"a": 1}},
}

EXTRA_FIELDS: list[list[str]] = [[], ["status.phase"], ["metadata.uid"]]


@pytest.mark.parametrize("extra_fields", EXTRA_FIELDS, ids=lambda fields: ",".join(fields) or "none")
@pytest.mark.parametrize("raw", BODIES.values(), ids=BODIES.keys())
def test_the_essence_is_the_one_kopf_builds(raw: Any, extra_fields: list[str]) -> None:
    upstream = kopf.AnnotationsDiffBaseStorage(prefix=PREFIX, key=KEY)
    ours = EssenceOnlyDiffBaseStorage(prefix=PREFIX, key=KEY)
    body = kopf.Body(raw)
    expected = upstream.build(body=body, extra_fields=extra_fields)
    assert ours.build(body=body, extra_fields=extra_fields) == expected
    patch_ours, patch_upstream = kopf.Patch(), kopf.Patch()
    ours.store(body=body, patch=patch_ours, essence=expected)
    upstream.store(body=body, patch=patch_upstream, essence=expected)
    assert patch_ours == patch_upstream


def test_building_leaves_the_body_as_it_was() -> None:
    raw = sparkjob(labels={"team": "data"}, managedFields=MANAGED)
    before = repr(raw)
    EssenceOnlyDiffBaseStorage(prefix=PREFIX, key=KEY).build(body=kopf.Body(raw))["metadata"]["labels"]["x"] = "y"
    assert repr(raw) == before
