"""Leader election on a coordination.k8s.io Lease, pure: who may hold it, and what to write to claim, renew or
give it up. Replicas of the operator wait while another holds it; only the holder reconciles.

As client-go's leaderelection, a lease counts as expired by this replica's own clock (how long since it last
saw the lease change), never by comparing clocks across machines.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MICRO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""How a Lease's acquireTime and renewTime are written (metav1.MicroTime)."""


@dataclass(frozen=True)
class LeaseTimings:
    duration_seconds: int = 8
    """How long a lease holds without renewal: a standby takes over this long after the holder went silent."""
    renew_seconds: float = 2.0
    """How often the holder renews."""
    renew_deadline_seconds: float = 5.0
    """How long the holder may fail to renew before it stops reconciling. The holder looks only every
    renew_seconds, so it stops within renew_deadline_seconds + renew_seconds: less than the duration, before
    anyone else may start."""
    standby_poll_seconds: float = 1.0
    """How often a standby reads the lease: it sees a renewal this late at most, and claims an expired lease this
    late at most."""

    def worst_takeover_seconds(self) -> float:
        """The longest a standby can take to hold the lease after the holder went silent: it may have seen the
        last renewal one poll late, counts the whole duration from then, and looks again one poll later."""
        return self.standby_poll_seconds + self.duration_seconds + self.standby_poll_seconds


@dataclass(frozen=True)
class Seen:
    """A lease as last read, and when (this replica's monotonic clock) it was last seen to change."""

    spec: dict[str, Any]
    version: str
    changed_at: float


def holder(spec: dict[str, Any]) -> str:
    return str(spec.get("holderIdentity") or "")


def may_claim(seen: Seen | None, identity: str, now: float) -> bool:
    """Whether ``identity`` may write itself into the lease: nobody holds it, it holds it already, or the holder
    has not renewed it for its whole duration."""
    if seen is None or holder(seen.spec) in ("", identity):
        return True
    return now - seen.changed_at > int(seen.spec.get("leaseDurationSeconds") or 0)


def observe(previous: Seen | None, spec: dict[str, Any], version: str, now: float) -> Seen:
    """The lease just read, remembering when it last changed."""
    if previous is not None and previous.version == version:
        return previous
    return Seen(spec, version, now)


def claimed(spec: dict[str, Any] | None, identity: str, timings: LeaseTimings, at: datetime) -> dict[str, Any]:
    """The lease's spec with ``identity`` holding it as of ``at``; a new holder counts a transition."""
    current = spec or {}
    stamp = at.strftime(MICRO_TIME_FORMAT)
    taking_over = holder(current) != identity
    transitions = int(current.get("leaseTransitions") or 0)
    return {
        **current,
        "holderIdentity": identity,
        "leaseDurationSeconds": timings.duration_seconds,
        "acquireTime": stamp if taking_over else current.get("acquireTime", stamp),
        "renewTime": stamp,
        "leaseTransitions": transitions + 1 if taking_over and holder(current) else transitions,
    }


def released(spec: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The lease given up on a clean shutdown, so a standby takes over at once instead of after its duration."""
    return {**spec, "holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": at.strftime(MICRO_TIME_FORMAT)}
