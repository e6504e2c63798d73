"""One reconciling task per object, fed by kopf's watch events.

kopf's own daemons would do this, but they hold a finalizer on every object they follow, so once the operator
is uninstalled no such object (nor its namespace) can be deleted. Here a task starts at an object's first
event, sees each newer body, and stops when the object is deleted; only kinds with cleanup outside
Kubernetes add a finalizer, through their deletion handlers.

A kind gives a *step* (through a factory called once per task): one reconciliation that returns how long
to wait before the next (None: until news). News is a spec change, the start of deletion, or an explicit
wake-up (a pod, an image, a workspace changed); the object's own status patches are not news. Every failure
of a step takes the same path: status.message and a Warning Event say what failed and when it is tried
again, with backoff; nothing crashes the operator.
"""

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import kopf

from kubricks import metrics
from kubricks.control.bodies import deleting, generation_of, slim, status_of
from kubricks.control.status import ECHO_TIMEOUT_SECONDS, report_trouble
from kubricks.failures import backoff_seconds
from kubricks.k8s.client import remove_finalizer
from kubricks.k8s.status import merge_patch_changes

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
"""How long a stopped object's step may take to finish before it is cancelled."""
STEPS_AT_ONCE = 32
"""Steps of one kind under way at once; the others wait their turn. Twice the API server connections keeps them
all busy, while a storm of new objects does not hold a thousand observations and renderings in memory at once."""


class Live:
    """What a step knows of its object: the newest body kopf saw, and a way to wait for news."""

    def __init__(self, plural: str, kind: str, body: kopf.Body) -> None:
        self.plural, self.kind = plural, kind
        self.body = slim(body)
        self.stopped = False
        self._news = asyncio.Event()
        self._updated = asyncio.Event()
        self._unechoed: dict[str, Any] = {}

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    def update(self, body: kopf.Body) -> None:
        news = generation_of(body) != generation_of(self.body) or deleting(body) != deleting(self.body)
        self.body = slim(body)
        self._updated.set()
        if news:
            self._news.set()

    def wrote_status(self, changes: dict[str, Any]) -> None:
        """Our status patch, until the watch shows it."""
        self._unechoed = changes

    async def echoed(self) -> bool:
        """Waits until the watch shows the status this task last wrote, so what comes next starts from it."""
        changes, self._unechoed = self._unechoed, {}
        if not changes:
            return True
        return await self.until(lambda body: not merge_patch_changes(status_of(body), changes), ECHO_TIMEOUT_SECONDS)

    def wake(self) -> None:
        self._news.set()

    def stop(self) -> None:
        self.stopped = True
        self._news.set()

    async def wait(self, timeout: float | None) -> None:
        """Returns on news, when stopped, or after ``timeout`` seconds."""
        if not self.stopped:
            # asyncio.timeout, unlike wait_for, adds no task: one object's task is all it costs while it waits.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._news.wait()
        self._news.clear()

    async def until(self, shows: Callable[[kopf.Body], bool], timeout: float) -> bool:
        """Waits until the body shows what ``shows`` looks for (our own patch coming back through the watch)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not shows(self.body):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.stopped:
                return False
            self._updated.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._updated.wait()
        return True


Step = Callable[[Live], Awaitable[float | None]]
StepFactory = Callable[[Live], Step]
"""Called once per task: a kind may keep state across steps (a retry count) in what it returns."""


class Supervisor:
    """The tasks of one kind, by namespace and name."""

    def __init__(self, plural: str, kind: str, stale_finalizer: str | None = None) -> None:
        self.plural, self.kind = plural, kind
        self.stale_finalizer = stale_finalizer
        """A finalizer earlier versions put on this kind and nothing removes now: taken off when seen."""
        self._tasks: dict[tuple[str, str], tuple[Live, asyncio.Task[None]]] = {}
        self._steps = asyncio.Semaphore(STEPS_AT_ONCE)
        self._chores: set[asyncio.Task[None]] = set()

    def observe(self, event_type: str | None, body: kopf.Body, new_step: StepFactory) -> None:
        """Feeds one watch event: starts the object's task, hands it the new body, or stops it."""
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if event_type != "DELETED" and self.stale_finalizer in (body["metadata"].get("finalizers") or []):
            self._chore(self._drop_finalizer(body))
        current = self._tasks.get(key)
        if event_type == "DELETED" or deleting(body):
            if current:
                current[0].update(body)
                self._stop(key)
            return
        if current and not current[1].done():
            current[0].update(body)
            return
        live = Live(self.plural, self.kind, body)
        # In a context of its own: a task copies its creator's, and a watch event's holds kopf's cause, with the
        # object's whole first body, for as long as the task lives. Nothing in a step needs kopf's context.
        task = asyncio.create_task(
            self._run(live, new_step(live)), name=f"{self.kind} {key[0]}/{key[1]}", context=contextvars.Context()
        )
        self._tasks[key] = (live, task)

    def wake(self, namespace: str, name: str) -> None:
        if (namespace, name) in self._tasks:
            self._tasks[(namespace, name)][0].wake()

    def wake_namespace(self, namespace: str) -> None:
        for (task_namespace, _), (live, _task) in self._tasks.items():
            if task_namespace == namespace:
                live.wake()

    def _chore(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, context=contextvars.Context())
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _drop_finalizer(self, body: kopf.Body) -> None:
        metadata = body["metadata"]
        try:
            await asyncio.to_thread(
                remove_finalizer,
                self.plural,
                metadata["namespace"],
                metadata["name"],
                list(metadata.get("finalizers") or []),
                str(self.stale_finalizer),
            )
        except Exception as error:
            logger.warning(
                "%s %s/%s: cannot remove %s: %s",
                self.kind,
                metadata["namespace"],
                metadata["name"],
                self.stale_finalizer,
                error,
            )

    def _stop(self, key: tuple[str, str]) -> None:
        live, task = self._tasks.pop(key)
        live.stop()
        asyncio.get_running_loop().call_later(STOP_GRACE_SECONDS, task.cancel)

    async def shutdown(self) -> None:
        """The operator stops: every step ends now, without the grace a deleted object's step gets."""
        tasks = [task for _, task in self._tasks.values()]
        for live, task in self._tasks.values():
            live.stop()
            task.cancel()
        self._tasks.clear()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, live: Live, step: Step) -> None:
        failures = 0
        while not live.stopped:
            try:
                async with self._steps:
                    wait = await step(live)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                wait = backoff_seconds(failures)
                metrics.RECONCILE_ERRORS.labels(kind=self.kind).inc()
                await report_trouble(live, error, wait)
            # Outside the slot: under load the echo takes longer than the step, and would cap the steps per second.
            await live.echoed()
            await live.wait(wait)
