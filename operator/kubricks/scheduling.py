"""ScheduledSparkJob: which run is due, the SparkJob it becomes, what goes (Replace, history), the status. Pure.

It follows Kubernetes' CronJob controller. The runs already made count from the latest scheduled time among them
(status.lastRun, else the SparkJobs themselves, else the object's creation): of the schedule's times since then
up to now only the latest is due, never a backlog; startingDeadlineSeconds drops those too late to start. A run's
SparkJob is named after its scheduled time, so however often a time is looked at (a restarted operator, a lost
status patch) it is made once; it is made from the template as it is then, and the schedule is read afresh every
time, so an edit of either reaches the next run.

Clocks that change for daylight saving are followed as cron does: a time the clocks skip runs when they jump, and
a time they pass twice runs once, unless the schedule runs every hour.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from kubricks.api.crd import GROUP, VERSION
from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkjob import SparkJob
from kubricks.jobs import parse_time, stamp
from kubricks.k8s.conditions import Progress, with_kstatus
from kubricks.spark.attempt import MANAGED_BY

SCHEDULE_LABEL = f"{GROUP}/scheduled-job"
"""On each SparkJob a ScheduledSparkJob made: the ScheduledSparkJob's name."""
SCHEDULED_TIME_ANNOTATION = f"{GROUP}/scheduled-time"
"""On each SparkJob a ScheduledSparkJob made: the time of the schedule it runs for."""

SUCCEEDED = "Succeeded"
FAILED_PHASES = ("Failed", "Cancelled")
TOO_MANY_MISSED = 100
"""More missed times than this since the last run point at a wrong clock or a deadline worth setting, as
Kubernetes' CronJob controller warns."""
REFERENCE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Where a schedule is first tried, to tell one that never comes (the 30th of February)."""
HOUR_FIELD = 1

Phase = Literal["Scheduled", "Suspended", "Invalid"]


class InvalidSchedule(ValueError):
    """spec.schedule or spec.timeZone as the API server let them through, but no clock can follow them."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            "UnknownTimeZone",
            f'spec.timeZone "{name}" is no time zone of the IANA database: use a name such as Europe/Berlin, '
            "America/New_York or UTC",
        ) from None


def _utc(moment: datetime) -> datetime:
    """An aware time as the naive UTC the state machines compare."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Schedule:
    """A cron expression in a time zone; the times it takes and gives are naive UTC."""

    expression: str
    zone: ZoneInfo
    every_hour: bool
    """Whether it runs in every hour of the day, where a time the clocks pass twice runs twice."""

    @classmethod
    def of(cls, expression: str, time_zone: str | None) -> "Schedule":
        """The schedule, or InvalidSchedule saying what is wrong with it."""
        zone = _zone(time_zone)
        try:
            hours = croniter(expression, REFERENCE_TIME).expanded[HOUR_FIELD]
            schedule = cls(expression, zone, every_hour=hours == ["*"])
            schedule.next_after(_utc(REFERENCE_TIME))
        except CroniterBadDateError:
            raise InvalidSchedule(
                "InvalidSchedule", f'spec.schedule "{expression}" never comes: no date matches it; fix spec.schedule'
            ) from None
        except CroniterError as error:
            raise InvalidSchedule(
                "InvalidSchedule", f'spec.schedule "{expression}" is not a cron expression: {error}'
            ) from None
        return schedule

    def _local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(self.zone)

    def _repeated(self, local: datetime) -> bool:
        """A time the clocks pass for the second time (fall back), which runs only if the schedule is hourly."""
        ambiguous = local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
        return ambiguous and local.fold == 1 and not self.every_hour

    def next_after(self, moment: datetime) -> datetime:
        """The schedule's first time after ``moment``."""
        times = croniter(self.expression, self._local(moment))
        local = times.get_next(datetime)
        while self._repeated(local):
            local = times.get_next(datetime)
        return _utc(local)

    def latest_until(self, moment: datetime) -> datetime:
        """The schedule's last time at or before ``moment``."""
        # get_prev gives times strictly before its start; a microsecond later, ``moment`` itself counts.
        times = croniter(self.expression, self._local(moment + timedelta(microseconds=1)))
        local = times.get_prev(datetime)
        while self._repeated(local):
            local = times.get_prev(datetime)
        return _utc(local)

    def describe(self, moment: datetime) -> str:
        """``moment`` as status shows it, with the local time when the zone is not UTC."""
        if self.zone.key == "UTC":
            return stamp(moment)
        return f"{stamp(moment)} ({self._local(moment):%Y-%m-%d %H:%M} {self.zone.key})"


@dataclass(frozen=True)
class RunView:
    """What the schedule needs to know of one of its SparkJobs."""

    name: str
    scheduled_time: datetime
    phase: str | None
    controller_uid: str | None
    """The uid of the object its controlling ownerReference names: only the schedule's own runs are its."""

    @property
    def finished(self) -> bool:
        return self.phase == SUCCEEDED or self.phase in FAILED_PHASES

    def reference(self) -> dict[str, str]:
        return {"name": self.name, "scheduledTime": stamp(self.scheduled_time)}


def run_view(body: Any) -> RunView:
    """A SparkJob as the schedule sees it, from its body as the API server serves it."""
    metadata = body["metadata"]
    scheduled = (metadata.get("annotations") or {}).get(SCHEDULED_TIME_ANNOTATION)
    controller: dict[str, Any] = next(
        (ref for ref in metadata.get("ownerReferences") or [] if ref.get("controller")), {}
    )
    return RunView(
        name=metadata["name"],
        scheduled_time=parse_time(scheduled) or parse_time(metadata["creationTimestamp"]) or datetime.min,
        phase=(body.get("status") or {}).get("phase"),
        controller_uid=controller.get("uid"),
    )


@dataclass(frozen=True)
class Observation:
    scheduled: ScheduledSparkJob
    uid: str
    generation: int
    created: datetime
    """When the ScheduledSparkJob was created: its runs count from there until the first one."""
    status: dict[str, Any]
    runs: list[RunView]
    """The SparkJobs labelled with its name (those another object controls are ignored)."""
    now: datetime

    @property
    def name(self) -> str:
        return str(self.scheduled.metadata["name"])

    @property
    def namespace(self) -> str:
        return str(self.scheduled.metadata["namespace"])


@dataclass
class Decision:
    status: dict[str, Any]
    create: list[dict[str, Any]] = field(default_factory=list)
    """SparkJobs to create; one that exists already was made before and stays as it is."""
    delete: list[str] = field(default_factory=list)
    """SparkJobs to delete: active ones that a Replace run replaces, finished ones beyond the history limits."""
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, reason, message) of the Kubernetes Events to post."""
    wake_after: float | None = None
    """Seconds until the next run is due; None: on the next change."""


def run_name(schedule_name: str, scheduled_time: datetime) -> str:
    """``<schedule>-<minutes since 1970>``: the same for every look at one scheduled time."""
    return f"{schedule_name}-{int(scheduled_time.replace(tzinfo=UTC).timestamp()) // 60}"


def run_manifest(observation: Observation, scheduled_time: datetime) -> dict[str, Any]:
    """The SparkJob of one run: the template as it is now, owned by the schedule, so deleting it deletes its runs."""
    owner = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": ScheduledSparkJob.KIND,
        "name": observation.name,
        "uid": observation.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": SparkJob.KIND,
        "metadata": {
            "name": run_name(observation.name, scheduled_time),
            "namespace": observation.namespace,
            "labels": {**MANAGED_BY, SCHEDULE_LABEL: observation.name},
            "annotations": {SCHEDULED_TIME_ANNOTATION: stamp(scheduled_time)},
            "ownerReferences": [owner],
        },
        # What the template says, no more: the API server fills in the SparkJob's defaults as for any other.
        "spec": observation.scheduled.spec.template.model_dump(mode="json", by_alias=True, exclude_unset=True),
    }


def own_runs(observation: Observation) -> list[RunView]:
    """The schedule's runs, oldest first."""
    runs = [run for run in observation.runs if run.controller_uid == observation.uid]
    return sorted(runs, key=lambda run: (run.scheduled_time, run.name))


def beyond_history(runs: list[RunView], successful_limit: int, failed_limit: int) -> list[str]:
    """The finished runs to delete: the oldest beyond each limit (succeeded; failed or cancelled)."""
    succeeded = [run.name for run in runs if run.phase == SUCCEEDED]
    failed = [run.name for run in runs if run.phase in FAILED_PHASES]
    return succeeded[: max(len(succeeded) - successful_limit, 0)] + failed[: max(len(failed) - failed_limit, 0)]


def last_run_time(observation: Observation, runs: list[RunView]) -> datetime:
    """Where the schedule's times count from: the latest run made, whether status or the SparkJobs say so (either
    may lag the other), else the creation of the ScheduledSparkJob."""
    recorded = parse_time((observation.status.get("lastRun") or {}).get("scheduledTime"))
    return max([observation.created, *([recorded] if recorded else []), *(run.scheduled_time for run in runs)])


def missed_times(schedule: Schedule, after: datetime, until: datetime) -> int:
    """How many of the schedule's times lie in (after, until], counted up to one more than TOO_MANY_MISSED."""
    count, moment = 0, after
    while count <= TOO_MANY_MISSED:
        moment = schedule.next_after(moment)
        if moment > until:
            break
        count += 1
    return count


def names(runs: list[RunView]) -> str:
    return ", ".join(run.name for run in runs)


def latest_run(observation: Observation, runs: list[RunView]) -> dict[str, str] | None:
    """status.lastRun: the recorded one, or a later run the SparkJobs show (made by a step whose status patch was
    lost)."""
    recorded = observation.status.get("lastRun")
    recorded_time = parse_time((recorded or {}).get("scheduledTime"))
    if runs and (recorded_time is None or runs[-1].scheduled_time > recorded_time):
        return runs[-1].reference()
    return dict(recorded) if recorded else None


def is_news(observation: Observation, text: str) -> bool:
    """Whether status does not say ``text`` yet: what an Event tells once, not on every look."""
    return text not in str(observation.status.get("message") or "")


@dataclass
class Outline:
    """A decision being built: the runs that stay active, what the status says beyond them, what is done."""

    active: list[RunView]
    last_run: dict[str, str] | None
    notes: list[str] = field(default_factory=list)
    """What the status message adds: a run skipped, and why."""
    decision: Decision = field(default_factory=lambda: Decision(status={}))


def _skipped(outline: Outline, observation: Observation, event: tuple[str, str], note: str) -> None:
    """A due run that does not start: the status says why, and so does an Event (type, reason) the first time it
    does."""
    outline.notes.append(note)
    if is_news(observation, note):
        outline.decision.events.append((*event, note))


def _start(outline: Outline, observation: Observation, schedule: Schedule, due: datetime, missed: int) -> None:
    """The run of ``due`` starts: made from the template, after the active runs it replaces are deleted."""
    spec, decision = observation.scheduled.spec, outline.decision
    manifest = run_manifest(observation, due)
    name = manifest["metadata"]["name"]
    if spec.concurrency_policy == "Replace" and outline.active:
        decision.delete += [run.name for run in outline.active]
        replaced = f"deleted {names(outline.active)}, still active, to start {name} (concurrencyPolicy: Replace)"
        decision.events.append(("Normal", "RunReplaced", replaced))
        outline.active = []
    decision.create.append(manifest)
    decision.events.append(("Normal", "RunCreated", f"created SparkJob {name} for {schedule.describe(due)}"))
    if missed > TOO_MANY_MISSED:
        decision.events.append(
            (
                "Warning",
                "TooManyMissedTimes",
                f"more than {TOO_MANY_MISSED} start times were missed: only the latest, {stamp(due)}, runs; set or "
                "lower spec.startingDeadlineSeconds, or check the clocks of the operator and the API server",
            )
        )
    outline.active = [*outline.active, RunView(name, due, None, observation.uid)]
    outline.last_run = {"name": name, "scheduledTime": stamp(due)}


def _due(outline: Outline, observation: Observation, schedule: Schedule, runs: list[RunView]) -> None:
    """Starts the run that is due, or says why it does not start."""
    spec, now = observation.scheduled.spec, observation.now
    last = last_run_time(observation, runs)
    latest = schedule.latest_until(now)
    if latest <= last:
        return
    deadline = spec.starting_deadline_seconds
    if deadline is not None and latest < now - timedelta(seconds=deadline):
        note = f"the run of {stamp(latest)} is skipped: it could not start within startingDeadlineSeconds ({deadline})"
        _skipped(outline, observation, ("Warning", "MissedSchedule"), note)
        return
    if spec.concurrency_policy == "Forbid" and outline.active:
        when = " if that is within startingDeadlineSeconds" if deadline is not None else ""
        note = (
            f"the run of {stamp(latest)} is skipped: {names(outline.active)} is still active and concurrencyPolicy is "
            f"Forbid; when it ends, the latest run due by then starts{when}"
        )
        _skipped(outline, observation, ("Normal", "RunSkipped"), note)
        return
    counted_from = max(last, now - timedelta(seconds=deadline)) if deadline is not None else last
    _start(outline, observation, schedule, latest, missed_times(schedule, counted_from, latest))


def _status(outline: Outline, observation: Observation, phase: Phase, reason: str, message: str) -> dict[str, Any]:
    text = "; ".join([message, *outline.notes, *([f"active: {names(outline.active)}"] if outline.active else [])])
    ready = phase != "Invalid"
    progress = Progress.SETTLED if ready else Progress.STALLED
    return {
        "phase": phase,
        "observedGeneration": observation.generation,
        "message": text,
        "conditions": with_kstatus(
            observation.status.get("conditions"), ready, progress, reason, text, observation.generation
        ),
        "lastRun": outline.last_run,
        "active": [run.reference() for run in outline.active],
        "activeCount": len(outline.active),
    }


def decide(observation: Observation) -> Decision:
    spec, now = observation.scheduled.spec, observation.now
    runs = own_runs(observation)
    outline = Outline(active=[run for run in runs if not run.finished], last_run=latest_run(observation, runs))
    decision = outline.decision
    decision.delete += beyond_history(runs, spec.successful_runs_history_limit, spec.failed_runs_history_limit)
    try:
        schedule = Schedule.of(spec.schedule, spec.time_zone)
    except InvalidSchedule as invalid:
        if is_news(observation, str(invalid)):
            decision.events.append(("Warning", invalid.reason, str(invalid)))
        decision.status = {**_status(outline, observation, "Invalid", invalid.reason, str(invalid)), "nextRun": None}
        return decision
    if spec.suspend:
        message = "suspended: no run starts while spec.suspend is true"
        decision.status = {**_status(outline, observation, "Suspended", "Suspended", message), "nextRun": None}
        return decision
    _due(outline, observation, schedule, runs)
    next_run = schedule.next_after(now)
    message = f"next run at {schedule.describe(next_run)}"
    decision.status = {**_status(outline, observation, "Scheduled", "Scheduled", message), "nextRun": stamp(next_run)}
    decision.wake_after = (next_run - now).total_seconds()
    return decision
