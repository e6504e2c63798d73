"""Writing status (only what changed, then waiting for it to come back through the watch), and telling a
failed step to the user."""

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kubricks.control.bodies import status_of
from kubricks.databricks.errors import DatabricksError
from kubricks.failures import MissingObject, Trouble, api_trouble, retrying
from kubricks.k8s.client import create_event, failure_of, patch_status
from kubricks.k8s.conditions import now
from kubricks.k8s.status import merge_patch_changes, redacted
from kubricks.redact import redact_userinfo

if TYPE_CHECKING:
    from kubricks.control.supervisor import Live

logger = logging.getLogger(__name__)

ECHO_TIMEOUT_SECONDS = 10.0
"""How long to wait for our own status patch to show in the watched body."""
EVENT_MESSAGE_LIMIT = 1024


class StepFailed(Exception):
    """A step that knows what it was doing when it failed."""

    def __init__(self, trouble: Trouble) -> None:
        super().__init__(trouble.message)
        self.trouble = trouble


async def write_status(live: "Live", status: dict[str, Any]) -> bool:
    """Patches the part of ``status`` that differs from the object's, if any. The next write, or the next step,
    waits until the watch shows it. Returns whether anything was patched."""
    await live.echoed()
    changes = merge_patch_changes(status_of(live.body), redacted(status))
    if not changes:
        return False
    await asyncio.to_thread(patch_status, live.plural, live.namespace, live.name, changes)
    live.wrote_status(changes)
    return True


_posting: set[asyncio.Task[None]] = set()
"""Events on their way: a step never waits for one."""


def post_event(live: "Live", kind: str, reason: str, message: str) -> None:
    """Posts an Event about the object in the background; one the API server refuses is only logged."""
    text = redact_userinfo(message)[-EVENT_MESSAGE_LIMIT:]
    involved = {"apiVersion": live.body["apiVersion"], "kind": live.kind, "metadata": dict(live.body["metadata"])}
    task = asyncio.get_running_loop().create_task(_post(involved, kind, reason, text))
    _posting.add(task)
    task.add_done_callback(_posting.discard)


async def _post(involved: dict[str, Any], kind: str, reason: str, message: str) -> None:
    try:
        await asyncio.to_thread(create_event, involved, kind, reason, message, now())
    except Exception as error:
        if failure_of(error) is None:
            raise
        metadata = involved["metadata"]
        logger.warning("cannot post the Event %s on %s/%s: %s", reason, metadata["namespace"], metadata["name"], error)


def describe(error: Exception) -> Trouble:
    """What went wrong, in the user's terms."""
    if isinstance(error, StepFailed):
        return error.trouble
    failure = failure_of(error)
    if failure is not None:
        return api_trouble(*failure, "reconcile")
    if isinstance(error, MissingObject):
        return Trouble("InputMissing", str(error))
    if isinstance(error, DatabricksError):
        return Trouble("WorkspaceError", f"the Databricks workspace answered: {error}")
    return Trouble("InternalError", f"{type(error).__name__}: {error}")


async def report_trouble(live: "Live", error: Exception, retry_in: float) -> None:
    """The one failure path of every kind: a log line, status.message and a Warning Event, then a retry."""
    trouble = describe(error)
    message = retrying(trouble, retry_in)
    if trouble.reason == "InternalError":
        logger.error("%s %s/%s: %s", live.kind, live.namespace, live.name, message, exc_info=error)
    else:
        logger.warning("%s %s/%s: %s", live.kind, live.namespace, live.name, message)
    post_event(live, "Warning", trouble.reason, message)
    try:
        await write_status(live, {"message": message})
    except Exception as failure:
        logger.warning("%s %s/%s: cannot write status either: %s", live.kind, live.namespace, live.name, failure)
