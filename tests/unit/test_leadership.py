"""Leader election's decisions, table-driven: who may claim the Lease, and what claiming, renewing and releasing
write."""

from datetime import datetime
from typing import Any

import pytest

from kubricks.leadership import LeaseTimings, Seen, claimed, may_claim, observe, released

AT = datetime(2026, 11, 24, 12, 0, 0, 250000)
STAMP = "2026-11-24T12:00:00.250000Z"
EARLIER = "2026-11-24T11:59:00.000000Z"
HELD = {"holderIdentity": "b", "leaseDurationSeconds": 10, "acquireTime": EARLIER, "renewTime": EARLIER}


@pytest.mark.parametrize(
    ("seen", "now", "may"),
    [
        (None, 0.0, True),
        (Seen({**HELD, "holderIdentity": ""}, "7", 100.0), 100.0, True),
        (Seen({**HELD, "holderIdentity": "a"}, "7", 100.0), 100.0, True),
        (Seen(HELD, "7", 100.0), 105.0, False),
        (Seen(HELD, "7", 100.0), 110.0, False),
        (Seen(HELD, "7", 100.0), 110.5, True),
        (Seen({**HELD, "leaseDurationSeconds": 1}, "7", 100.0), 101.5, True),
    ],
    ids=[
        "no-lease",
        "given-up",
        "already-ours",
        "held-and-renewed-lately",
        "held-just-within-its-duration",
        "holder-silent-past-its-duration",
        "released-on-shutdown-expires-fast",
    ],
)
def test_who_may_claim(seen: Seen | None, now: float, may: bool) -> None:
    assert may_claim(seen, "a", now) == may


def test_expiry_is_counted_from_when_this_replica_saw_the_lease_change() -> None:
    first = observe(None, HELD, "7", 100.0)
    unchanged = observe(first, HELD, "7", 109.0)
    assert unchanged.changed_at == 100.0
    renewed = observe(unchanged, {**HELD, "renewTime": STAMP}, "8", 109.0)
    assert renewed.changed_at == 109.0
    assert not may_claim(renewed, "a", 115.0)


@pytest.mark.parametrize(
    ("current", "written"),
    [
        (
            None,
            {
                "holderIdentity": "a",
                "leaseDurationSeconds": 8,
                "acquireTime": STAMP,
                "renewTime": STAMP,
                "leaseTransitions": 0,
            },
        ),
        (
            {**HELD, "holderIdentity": "a", "leaseTransitions": 3},
            {
                "holderIdentity": "a",
                "leaseDurationSeconds": 8,
                "acquireTime": EARLIER,
                "renewTime": STAMP,
                "leaseTransitions": 3,
            },
        ),
        (
            {**HELD, "leaseTransitions": 3},
            {
                "holderIdentity": "a",
                "leaseDurationSeconds": 8,
                "acquireTime": STAMP,
                "renewTime": STAMP,
                "leaseTransitions": 4,
            },
        ),
        (
            {**HELD, "holderIdentity": "", "leaseTransitions": 3},
            {
                "holderIdentity": "a",
                "leaseDurationSeconds": 8,
                "acquireTime": STAMP,
                "renewTime": STAMP,
                "leaseTransitions": 3,
            },
        ),
    ],
    ids=["first-holder", "renewal", "take-over", "after-a-release"],
)
def test_what_a_claim_writes(current: dict[str, Any] | None, written: dict[str, Any]) -> None:
    assert claimed(current, "a", LeaseTimings(), AT) == written


def test_a_release_lets_a_standby_take_over_at_once() -> None:
    spec = released({**HELD, "holderIdentity": "a"}, AT)
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"], spec["renewTime"]) == ("", 1, STAMP)
    assert may_claim(Seen(spec, "9", 100.0), "b", 100.0)


def test_the_holder_stops_before_anyone_may_start() -> None:
    timings = LeaseTimings()
    assert timings.renew_seconds < timings.renew_deadline_seconds
    assert timings.renew_deadline_seconds + timings.renew_seconds < timings.duration_seconds


def test_a_standby_takes_over_with_room_to_reconcile_within_the_hand_over_budget() -> None:
    """A hand-over is promised within 15 s; the new leader then needs a second or two to start reconciling."""
    assert LeaseTimings().worst_takeover_seconds() <= 11.0
