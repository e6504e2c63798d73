"""What the operator need not write or read again: shared objects applied lately, labels read a moment ago."""

from typing import Any

import pytest

from kubricks.control.caches import SHARED_FOR_SECONDS, AppliedOnce, RecentReads, shared
from kubricks.spark.manifests import driver_rbac


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def attempt_object(name: str) -> dict[str, Any]:
    labels = {"kubricks.dev/sparkjob": "etl", "kubricks.dev/attempt": "1"}
    return {"kind": "ConfigMap", "metadata": {"name": name, "namespace": "team", "labels": labels}}


def test_the_driver_rbac_is_shared_and_an_attempts_objects_are_not() -> None:
    assert all(shared(m) for m in driver_rbac("team"))
    assert not shared(attempt_object("etl-1-conf"))


@pytest.mark.parametrize(
    ("later", "change", "applied_again"),
    [
        (1.0, None, False),
        (SHARED_FOR_SECONDS, None, True),
        (1.0, "other-namespace", True),
        (1.0, "changed-role", True),
        (1.0, "forgotten", True),
    ],
    ids=["lately", "long-ago", "another-namespace", "changed", "forgotten-after-a-failure"],
)
def test_shared_objects_are_applied_once_in_a_while(later: float, change: str | None, applied_again: bool) -> None:
    clock = Clock()
    applied = AppliedOnce(clock)
    first = [*driver_rbac("team"), attempt_object("etl-1-conf")]
    assert applied.wanted(first) == first
    for manifest in first:
        applied.applied(manifest)
    clock.now += later
    namespace = "other" if change == "other-namespace" else "team"
    again = [*driver_rbac(namespace), attempt_object("etl-2-conf")]
    if change == "changed-role":
        again[1] = {**again[1], "rules": []}
    if change == "forgotten":
        assert applied.forget("team")
        assert not applied.forget("team")
    wanted = applied.wanted(again)
    assert attempt_object("etl-2-conf") in wanted, "an attempt's own objects are always applied"
    assert (len(wanted) > 1) == applied_again


def test_recent_reads_expire() -> None:
    clock = Clock()
    reads = RecentReads[dict[str, str]](5.0, clock)
    assert reads.get("team") is None
    reads.put("team", {"pod-security.kubernetes.io/enforce": "baseline"})
    clock.now += 4.9
    assert reads.get("team") == {"pod-security.kubernetes.io/enforce": "baseline"}
    clock.now += 0.1
    assert reads.get("team") is None
