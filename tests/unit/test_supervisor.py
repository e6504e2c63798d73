"""The supervisor's slots and status echoes, with steps that touch no API server."""

import asyncio
from typing import Any

import kopf

from kubricks.control.supervisor import STEPS_AT_ONCE, Live, Supervisor


def job(name: str, status: dict[str, Any] | None = None) -> kopf.Body:
    raw: Any = {"metadata": {"namespace": "team", "name": name, "generation": 1}, "status": status or {}}
    return kopf.Body(raw)


def test_a_written_status_is_echoed_once_the_watch_shows_it() -> None:
    async def run() -> tuple[bool, bool]:
        live = Live("sparkjobs", "SparkJob", job("etl"))
        live.wrote_status({"phase": "Submitted"})
        waiting = asyncio.create_task(live.echoed())
        await asyncio.sleep(0)
        live.update(job("etl", {"phase": "Pending"}))
        await asyncio.sleep(0)
        shown_too_early = waiting.done()
        live.update(job("etl", {"phase": "Submitted"}))
        return shown_too_early, await waiting

    assert asyncio.run(run()) == (False, True)


def test_nothing_written_needs_no_echo() -> None:
    assert asyncio.run(Live("sparkjobs", "SparkJob", job("etl")).echoed())


def test_a_step_awaiting_its_echo_holds_no_slot() -> None:
    """More objects than slots, each writing a status the watch never shows: every step still runs at once."""
    ran: list[str] = []

    async def step(live: Live) -> float | None:
        ran.append(live.name)
        live.wrote_status({"phase": "Submitted"})
        return None

    async def run() -> list[str]:
        supervisor = Supervisor("sparkjobs", "SparkJob")
        for index in range(STEPS_AT_ONCE + 8):
            supervisor.observe("ADDED", job(f"job-{index}"), lambda _: step)
        await asyncio.sleep(0.5)
        await supervisor.shutdown()
        return ran

    assert len(asyncio.run(run())) == STEPS_AT_ONCE + 8
