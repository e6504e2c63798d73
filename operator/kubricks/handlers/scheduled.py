"""ScheduledSparkJob: a supervised step per object runs kubricks.scheduling's decision: it creates the run that is
due, deletes what Replace and the history limits say, patches status and sleeps until the next scheduled time.

Its SparkJobs are indexed by the schedule's label, and any change of one (a new phase, its deletion) wakes the
schedule, so a Forbid run starts as soon as the active one ends and the history is pruned as runs finish. No
finalizer: ownerReferences take the runs with the schedule.
"""

import asyncio
from functools import partial
from typing import Any

import kopf

from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkjob import SparkJob
from kubricks.control.bodies import generation_of, status_of
from kubricks.control.status import post_event, write_status
from kubricks.control.supervisor import Live, Step
from kubricks.jobs import parse_time, utc_now
from kubricks.k8s.client import create_custom_object, delete_custom_object
from kubricks.scheduling import SCHEDULE_LABEL, Decision, Observation, RunView, decide, run_view

PLURAL = plural(ScheduledSparkJob)
RUNS_PLURAL = plural(SparkJob)


@kopf.index(GROUP, VERSION, RUNS_PLURAL, labels={SCHEDULE_LABEL: kopf.PRESENT})
def scheduled_runs(namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any) -> dict[Any, RunView]:
    return {(namespace or "", labels[SCHEDULE_LABEL]): run_view(body)}


@kopf.on.event(GROUP, VERSION, RUNS_PLURAL, labels={SCHEDULE_LABEL: kopf.PRESENT})
async def scheduled_run_changed(namespace: str | None, labels: kopf.Labels, memo: Any, **_: Any) -> None:
    memo.scheduledsparkjobs.wake(namespace or "", labels[SCHEDULE_LABEL])


def observe(body: kopf.Body, runs: Any) -> Observation:
    metadata = body["metadata"]
    return Observation(
        scheduled=ScheduledSparkJob.model_validate(dict(body)),
        uid=metadata["uid"],
        generation=generation_of(body),
        created=parse_time(metadata["creationTimestamp"]) or utc_now(),
        status=status_of(body),
        runs=list(runs.get((metadata["namespace"], metadata["name"]), [])),
        now=utc_now(),
    )


async def carry_out(live: Live, decision: Decision) -> None:
    """Deletes first, so that a Replace run starts after the one it replaces is gone."""
    for name in decision.delete:
        await asyncio.to_thread(delete_custom_object, RUNS_PLURAL, live.namespace, name)
    for manifest in decision.create:
        await asyncio.to_thread(create_custom_object, RUNS_PLURAL, live.namespace, manifest)
    await write_status(live, decision.status)
    for event in decision.events:
        post_event(live, *event)


async def scheduled_step(live: Live, runs: Any) -> float | None:
    decision = decide(observe(live.body, runs))
    await carry_out(live, decision)
    return decision.wake_after


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.on.event(GROUP, VERSION, PLURAL)  # type: ignore[arg-type]
async def scheduled_event(
    event: kopf.RawEvent, body: kopf.Body, memo: Any, scheduled_runs: kopf.Index[Any, Any], **_: Any
) -> None:
    def new_step(_: Live) -> Step:
        return partial(scheduled_step, runs=scheduled_runs)

    memo.scheduledsparkjobs.observe(event["type"], body, new_step)
