"""What the operator need not ask or write again for every job: a namespace's shared objects once applied (the
driver's service account and its RBAC), and a namespace's labels read a moment ago."""

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from kubricks.spark.attempt import ATTEMPT_LABEL

SHARED_FOR_SECONDS = 600.0
"""How long an applied shared object is taken to stay as applied; then the next job applies it again, so one
deleted by hand comes back even when nothing fails."""
LABELS_FOR_SECONDS = 5.0
"""How long a namespace's labels (its Pod Security level) are taken to stay as read."""


def shared(manifest: dict[str, Any]) -> bool:
    """An object of the namespace rather than of one attempt: every attempt renders it the same."""
    return ATTEMPT_LABEL not in (manifest["metadata"].get("labels") or {})


def _key(manifest: dict[str, Any]) -> tuple[str, str, str]:
    metadata = manifest["metadata"]
    return metadata.get("namespace", ""), manifest["kind"], metadata["name"]


def _digest(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


class AppliedOnce:
    """The shared objects this operator applied lately, as it applied them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._applied: dict[tuple[str, str, str], tuple[str, float]] = {}

    def wanted(self, manifests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The manifests to apply: every one of an attempt, and the shared ones not applied as they are lately."""
        now = self._clock()
        return [m for m in manifests if not (shared(m) and self._fresh(m, now))]

    def _fresh(self, manifest: dict[str, Any], now: float) -> bool:
        found = self._applied.get(_key(manifest))
        return found is not None and found[0] == _digest(manifest) and now - found[1] < SHARED_FOR_SECONDS

    def applied(self, manifest: dict[str, Any]) -> None:
        if shared(manifest):
            self._applied[_key(manifest)] = (_digest(manifest), self._clock())

    def forget(self, namespace: str) -> bool:
        """Forgets the namespace's shared objects (something they should have made possible failed); whether any
        were remembered."""
        keys = [key for key in self._applied if key[0] == namespace]
        for key in keys:
            del self._applied[key]
        return bool(keys)


V = TypeVar("V")


class RecentReads(Generic[V]):
    """Values read a moment ago, by key."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl_seconds, clock
        self._values: dict[str, tuple[V, float]] = {}

    def get(self, key: str) -> V | None:
        found = self._values.get(key)
        if found is None or self._clock() - found[1] >= self._ttl:
            return None
        return found[0]

    def put(self, key: str, value: V) -> None:
        self._values[key] = (value, self._clock())
