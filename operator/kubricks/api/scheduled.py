"""ScheduledSparkJob: SparkJobs made from a template on a cron schedule, as Kubernetes' CronJob makes Jobs."""

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from kubricks.api.base import AGE_COLUMN, ApiModel, Resource, Rule, Status
from kubricks.api.sparkjob import SparkJobSpec

NAME_LIMIT = 52
"""The longest name a ScheduledSparkJob may have: its runs are named ``<name>-<minutes since 1970>`` (8 digits until
the year 2160), and a SparkJob's name is a label value of its pods, which Kubernetes limits to 63 characters."""

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")

_MONTH_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DAY_NAMES = "sun|mon|tue|wed|thu|fri|sat"


def _cron_field(value: str, *, any_day: bool = False) -> str:
    """One field of a cron expression: ``*`` or a value or a range a-b, each with an optional step /n, in a list
    a,b; with ``any_day``, also a lone ``?`` (a day field whose other day field decides)."""
    item = rf"(\*|({value})(-({value}))?)(/[1-9][0-9]?)?"
    items = f"{item}(,{item})*"
    return rf"(\?|{items})" if any_day else items


_FIELDS = (
    _cron_field("[0-5]?[0-9]"),
    _cron_field("[01]?[0-9]|2[0-3]"),
    _cron_field("0?[1-9]|[12][0-9]|3[01]", any_day=True),
    _cron_field(f"0?[1-9]|1[0-2]|{_MONTH_NAMES}"),
    _cron_field(f"[0-7]|{_DAY_NAMES}", any_day=True),
)
CRON_PATTERN = f"(?i)^(({'|'.join(MACROS)})|{' +'.join(f'({field})' for field in _FIELDS)})$"
"""What spec.schedule may be, in the syntax both Python and the API server's CEL (RE2) read: five fields or a
macro, names in any case. Whether such an expression ever comes, only the operator can tell."""
_CRON = re.compile(CRON_PATTERN)

TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"

_TIME_ZONE_IN_SCHEDULE = "self.schedule.contains('TZ=')"


class ScheduledSparkJobSpec(ApiModel):
    """When runs start, how they overlap, how many finished ones are kept, and the SparkJob each run is."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel=f"!{_TIME_ZONE_IN_SCHEDULE}",
            message="spec.schedule must not name a time zone (CRON_TZ= or TZ=): set spec.timeZone instead",
            check=lambda spec: "TZ=" not in spec.schedule,
        ),
        Rule(
            # A schedule naming a time zone has the rule above to say so; this one would only repeat it.
            cel=f"{_TIME_ZONE_IN_SCHEDULE} || self.schedule.matches(r'{CRON_PATTERN}')",
            message="spec.schedule must be five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or "
            "JAN-DEC) day-of-week (0-7 or SUN-SAT), each *, a value, a range a-b or a list a,b, with an optional step "
            '/n, separated by spaces, such as "0 3 * * *" or "*/15 9-17 * * MON-FRI"; or one of ' + ", ".join(MACROS),
            check=lambda spec: "TZ=" in spec.schedule or bool(_CRON.fullmatch(spec.schedule)),
        ),
    )

    schedule: Annotated[str, Field(min_length=1, max_length=128)]
    """When runs start: a cron expression of five fields (minute hour day-of-month month day-of-week), such as
    "0 3 * * *" or "*/15 9-17 * * MON-FRI", or @yearly, @monthly, @weekly, @daily or @hourly; in spec.timeZone's
    local time. A changed schedule counts from the last run: its first time after that run is the next run."""
    time_zone: Annotated[str, Field(pattern=TIME_ZONE_PATTERN, max_length=64)] | None = None
    """The IANA time zone the schedule's times are in, such as Europe/Berlin or America/New_York; UTC without.
    Clocks changing for daylight saving move the runs with them."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Allow"
    """What happens when a run is due while an earlier one is still active: Allow starts it beside the earlier one,
    Forbid skips it (it starts when the earlier one ends, if no later run is due by then), Replace deletes the
    earlier one and starts it."""
    suspend: bool = False
    """No run starts while true; active runs go on. Set back to false, the latest run missed meanwhile starts at
    once, unless startingDeadlineSeconds has passed for it."""
    starting_deadline_seconds: Annotated[int, Field(ge=1, le=2147483647)] | None = None
    """How late a run may still start, in seconds after its scheduled time (the operator was down, the schedule
    suspended, a Forbid run active): a run later than that is skipped. Without, a missed run starts however late."""
    successful_runs_history_limit: Annotated[int, Field(ge=0, le=100)] = 3
    """How many succeeded SparkJobs of the schedule are kept; older ones are deleted."""
    failed_runs_history_limit: Annotated[int, Field(ge=0, le=100)] = 1
    """How many failed or cancelled SparkJobs of the schedule are kept; older ones are deleted."""
    template: Annotated[
        SparkJobSpec,
        Field(
            json_schema_extra={
                # SparkJobSpec's rules but its transition rule: a SparkJob's target cannot change, but each run is a
                # new SparkJob, so the template's target may.
                "x-kubernetes-validations": [rule.as_validation() for rule in SparkJobSpec.rules if rule.check]
            }
        ),
    ]
    """The spec of the SparkJob each run creates, on Kubernetes or Databricks, as kubectl explain sparkjob.spec
    describes it. A run takes the template as it is when the run starts: an edit reaches the next run, never one
    already made."""


class RunReference(ApiModel):
    """A SparkJob the schedule made."""

    name: str
    """The SparkJob's name: the ScheduledSparkJob's, a dash, and its scheduled time in minutes since 1970."""
    scheduled_time: datetime
    """The time of the schedule it runs for."""


class ScheduledSparkJobStatus(Status):
    """The observed state of a ScheduledSparkJob."""

    phase: Literal["Scheduled", "Suspended", "Invalid"] | None = None
    """Scheduled (runs start on time), Suspended (spec.suspend), or Invalid (spec.schedule or spec.timeZone cannot
    be followed; the message says why)."""
    last_run: RunReference | None = None
    """The latest SparkJob the schedule made, and the time it runs for."""
    next_run: datetime | None = None
    """When the next run is due; none while suspended or invalid."""
    active: list[RunReference] = []
    """The SparkJobs of the schedule that have not finished (Succeeded, Failed or Cancelled) yet."""
    active_count: Annotated[int, Field(ge=0)] | None = None
    """How many SparkJobs are in active."""


class ScheduledSparkJob(Resource):
    """SparkJobs made from a template on a cron schedule, on this cluster or on Databricks."""

    KIND: ClassVar[str] = "ScheduledSparkJob"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("spsched",)
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]] = (
        {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
        {"name": "Suspend", "type": "boolean", "jsonPath": ".spec.suspend"},
        {"name": "Last Run", "type": "date", "jsonPath": ".status.lastRun.scheduledTime"},
        # A string: kubectl shows a date in the future as <invalid>.
        {"name": "Next Run", "type": "string", "jsonPath": ".status.nextRun"},
        {"name": "Active", "type": "integer", "jsonPath": ".status.activeCount"},
        AGE_COLUMN,
    )

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel=f"self.metadata.name.size() <= {NAME_LIMIT}",
            message=f"metadata.name must be at most {NAME_LIMIT} characters: each run is a SparkJob named after it "
            "with a dash and 8 digits, and a SparkJob's name must fit a label value (63 characters)",
            check=lambda scheduled: len(_name(scheduled.metadata)) <= NAME_LIMIT,
        ),
    )

    spec: ScheduledSparkJobSpec
    """The schedule and the SparkJob it runs."""
    status: ScheduledSparkJobStatus | None = None
    """What the schedule did and does next."""


def _name(metadata: dict[str, Any]) -> str:
    return str(metadata.get("name") or "")
