"""The ScheduledSparkJob handler's glue: the body and the index it observes, and the order it acts in."""

import asyncio
from datetime import datetime
from typing import Any

import pytest

from kubricks.handlers import scheduled
from kubricks.scheduling import Decision, RunView
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-00000000000b"


def body() -> dict[str, Any]:
    metadata = {"namespace": "team", "uid": UID, "generation": 4, "creationTimestamp": "2026-11-24T09:30:00Z"}
    return patched(example("scheduledsparkjob.yaml", "etl-nightly"), {"metadata": {"name": "etl-nightly", **metadata}})


def test_the_observation_holds_the_schedules_own_entries_of_the_index() -> None:
    mine = RunView("etl-nightly-29925240", datetime(2026, 11, 24, 10), "Running", UID)
    other = RunView("other-29925240", datetime(2026, 11, 24, 10), "Running", "x")
    index = {("team", "etl-nightly"): [mine], ("team", "other"): [other], ("elsewhere", "etl-nightly"): [other]}
    observation = scheduled.observe(body(), index)  # type: ignore[arg-type]
    assert (observation.uid, observation.generation, observation.created) == (UID, 4, datetime(2026, 11, 24, 9, 30))
    assert observation.runs == [mine]
    assert observation.scheduled.spec.schedule == "0 3 * * *"


class Recorder:
    """Stands in for the Kubernetes API: what the handler asked of it, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def delete(self, plural: str, namespace: str, name: str) -> None:
        self.calls.append(("delete", plural, namespace, name))

    def create(self, plural: str, namespace: str, manifest: dict[str, Any]) -> None:
        self.calls.append(("create", plural, namespace, manifest["metadata"]["name"]))

    async def write_status(self, live: Any, status: dict[str, Any]) -> bool:
        self.calls.append(("status", status["phase"]))
        return True

    def post_event(self, live: Any, kind: str, reason: str, message: str) -> None:
        self.calls.append(("event", reason))


def test_a_replace_deletes_before_it_creates_then_writes_status_and_tells(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(scheduled, "delete_custom_object", recorder.delete)
    monkeypatch.setattr(scheduled, "create_custom_object", recorder.create)
    monkeypatch.setattr(scheduled, "write_status", recorder.write_status)
    monkeypatch.setattr(scheduled, "post_event", recorder.post_event)
    decision = Decision(
        status={"phase": "Scheduled"},
        create=[{"metadata": {"name": "etl-nightly-2"}}],
        delete=["etl-nightly-1"],
        events=[("Normal", "RunReplaced", "..."), ("Normal", "RunCreated", "...")],
    )
    live = type("FakeLive", (), {"namespace": "team"})()
    asyncio.run(scheduled.carry_out(live, decision))  # type: ignore[arg-type]
    assert recorder.calls == [
        ("delete", "sparkjobs", "team", "etl-nightly-1"),
        ("create", "sparkjobs", "team", "etl-nightly-2"),
        ("status", "Scheduled"),
        ("event", "RunReplaced"),
        ("event", "RunCreated"),
    ]
