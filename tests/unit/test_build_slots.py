"""Build slots: a limit in all and per namespace, so one team cannot hold every build."""

import asyncio
import threading

import pytest

from kubricks.control.build_slots import BuildSlots


async def holders(slots: BuildSlots, wanted: list[str]) -> tuple[list[str], list[str]]:
    """Asks for a slot for each namespace in ``wanted`` at once; returns who got one at once and what waiters heard."""
    got: list[str] = []
    heard: list[str] = []
    release = asyncio.Event()

    async def hold(namespace: str) -> None:
        async with slots.slot(namespace, heard.append):
            got.append(namespace)
            await release.wait()

    tasks = [asyncio.create_task(hold(namespace)) for namespace in wanted]
    await asyncio.sleep(0.05)
    granted = list(got)
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(got) == sorted(wanted), "every waiter gets a slot once others end"
    return granted, heard


@pytest.mark.parametrize(
    ("total", "per_namespace", "wanted", "granted_at_once"),
    [
        (4, 2, ["a", "a", "a", "b"], ["a", "a", "b"]),
        (2, 2, ["a", "b", "c"], ["a", "b"]),
        (4, 1, ["a", "a", "b", "b"], ["a", "b"]),
        (3, 3, ["a", "a"], ["a", "a"]),
    ],
)
def test_slots_are_limited_in_all_and_per_namespace(
    total: int, per_namespace: int, wanted: list[str], granted_at_once: list[str]
) -> None:
    slots = BuildSlots(total, per_namespace)
    granted, heard = asyncio.run(holders(slots, wanted))
    slots.shutdown()
    assert sorted(granted) == sorted(granted_at_once)
    assert len(heard) == len(wanted) - len(granted_at_once)
    assert all(line.startswith("waiting for a build slot") for line in heard)
    assert slots.running("a") == 0


def test_builds_run_in_their_own_threads() -> None:
    slots = BuildSlots(1, 1)
    name = asyncio.run(slots.run(lambda: threading.current_thread().name))
    slots.shutdown()
    assert name.startswith("kubricks-build")


@pytest.mark.parametrize(("total", "per_namespace"), [(0, 1), (1, 0)])
def test_limits_below_one_are_refused(total: int, per_namespace: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BuildSlots(total, per_namespace)
