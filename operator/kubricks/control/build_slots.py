"""How many builds run at once. Builds block on the engine for minutes, so they get threads of their own (never
those of the operator's API calls), and one namespace may hold only some of them: a team that starts many builds
waits for its own, and every other team still builds."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BuildSlots:
    def __init__(self, total: int, per_namespace: int) -> None:
        if total < 1 or per_namespace < 1:
            raise ValueError("the build limits must be at least 1")
        self.total, self.per_namespace = total, per_namespace
        # One thread per slot: a build holding a slot never waits for a thread.
        self.executor = ThreadPoolExecutor(max_workers=total, thread_name_prefix="kubricks-build")
        self._running: Counter[str] = Counter()
        self._changed = asyncio.Condition()

    def _free(self, namespace: str) -> bool:
        return self._running.total() < self.total and self._running[namespace] < self.per_namespace

    @contextlib.asynccontextmanager
    async def slot(self, namespace: str, progress: Callable[[str], None]) -> AsyncIterator[None]:
        """Holds one of the namespace's build slots for the duration of the block, waiting for one if needed."""
        async with self._changed:
            if not self._free(namespace):
                progress(
                    f"waiting for a build slot: {self._running[namespace]} of this namespace's "
                    f"{self.per_namespace} and {self._running.total()} of {self.total} in all are building"
                )
            await self._changed.wait_for(lambda: self._free(namespace))
            self._running[namespace] += 1
        try:
            yield
        finally:
            async with self._changed:
                self._running[namespace] -= 1
                if not self._running[namespace]:
                    del self._running[namespace]
                self._changed.notify_all()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Runs a blocking build call in the builds' own threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def running(self, namespace: str) -> int:
        return self._running[namespace]

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
