"""Build backends. The operator and the CLI talk to :class:`BuildBackend`; :class:`DockerBackend` is the
Docker Engine implementation (an in-cluster daemonless backend can implement the same protocol)."""

import contextlib
import io
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import docker
import requests
import urllib3
from docker.errors import DockerException

from kubricks.images.outcomes import BuildError, PushedImage
from kubricks.images.registry import Credentials, parse_image
from kubricks.images.render import BuildContext

Progress = Callable[[str], None]
"""Receives one line of build or push progress at a time."""

LOG_TAIL_LINES = 30
READ_TIMEOUT_SECONDS = 600
"""How long one read from the engine may block; the deadline is what ends a build."""
WATCH_INTERVAL_SECONDS = 0.5
TRANSPORT_ERRORS = (DockerException, requests.RequestException, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class Deadline:
    """When a build must have ended (spec.build.timeoutSeconds), and a switch that ends it sooner: the spec
    changed, or the object is gone."""

    at: float
    """On the time.monotonic() clock."""
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)


class BuildBackend(Protocol):
    def build_and_push(
        self,
        context: BuildContext,
        target: str,
        ref: str,
        credentials: Credentials,
        progress: Progress,
        deadline: Deadline,
    ) -> PushedImage: ...


class _Watchdog:
    """Ends the engine calls of one client from outside their thread: at the deadline, or when asked to stop.
    Shutting the streamed connection down ends the call, and the engine ends the build with its client."""

    def __init__(self, api: docker.APIClient, deadline: Deadline) -> None:
        self.deadline = deadline
        self.fired = ""
        self._responses: list[requests.Response] = []
        self._done = threading.Event()
        api.hooks["response"].append(self._track)
        self._thread = threading.Thread(target=self._watch, name="build-watchdog", daemon=True)
        self._thread.start()

    def _track(self, response: requests.Response, *_: Any, **__: Any) -> requests.Response:
        self._responses.append(response)
        if self.fired:
            _shut(response)
        return response

    def _watch(self) -> None:
        while not self._done.wait(WATCH_INTERVAL_SECONDS):
            if self.deadline.stop.is_set():
                self.fired = "cancelled"
            elif time.monotonic() >= self.deadline.at:
                self.fired = "timed out"
            if self.fired:
                for response in self._responses:
                    _shut(response)
                return

    def check(self, what: str, tail: str = "") -> None:
        """Raises when the watchdog ended ``what``: a stream cut short may look like a clean end."""
        if self.fired == "timed out":
            raise BuildError(f"{what} ran past spec.build.timeoutSeconds and was stopped", tail, timed_out=True)
        if self.fired:
            raise BuildError(f"{what} was cancelled: the spec changed or the SparkImage is gone", tail)

    def close(self) -> None:
        self._done.set()


def _shut(response: requests.Response) -> None:
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: the call is over anyway
            sock.shutdown(socket.SHUT_RDWR)


class DockerBackend:
    """Builds with the Docker Engine API: streamed progress, in-band errors caught on build and push."""

    def __init__(self, base_url: str | None = None, build_proxy: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.build_proxy = build_proxy or {}

    def client(self) -> docker.APIClient:
        try:
            if self.base_url:
                return docker.APIClient(base_url=self.base_url, timeout=READ_TIMEOUT_SECONDS)
            return docker.APIClient(timeout=READ_TIMEOUT_SECONDS, **docker.utils.kwargs_from_env())
        except DockerException as error:
            raise BuildError(f"cannot reach the Docker engine: {error}", retriable=True) from None

    def build_and_push(
        self,
        context: BuildContext,
        target: str,
        ref: str,
        credentials: Credentials,
        progress: Progress,
        deadline: Deadline,
    ) -> PushedImage:
        """Pulls the bases with ``credentials``, builds ``target`` and pushes it as ``ref``, all before the
        deadline."""
        api = self.client()
        watchdog = _Watchdog(api, deadline)
        try:
            for base in context.base_images:
                self._pull(api, base, credentials, progress, watchdog)
            steps, rebuilt = self._build(api, context, target, ref, progress, watchdog)
            try:
                digest = self._push(api, ref, credentials.get(parse_image(ref).registry), progress, watchdog)
            finally:
                _untag(api, ref)
        finally:
            watchdog.close()
            api.close()
        return PushedImage(ref=ref, digest=digest, steps=steps, rebuilt=rebuilt)

    def _pull(
        self, api: docker.APIClient, image: str, credentials: Credentials, progress: Progress, watchdog: _Watchdog
    ) -> None:
        """Pulls a base with the SparkImage's credentials for its registry, or none: never the engine's or the
        operator's own login, so an image cached on the engine is not reachable without access to it."""
        found = credentials.get(parse_image(image).registry)
        auth_config = {"username": found[0], "password": found[1]} if found else {}
        try:
            for event in api.pull(image, stream=True, decode=True, auth_config=auth_config):
                if "errorDetail" in event or "error" in event:
                    message = event.get("errorDetail", {}).get("message") or event.get("error", "unknown error")
                    raise BuildError(f"pulling the base {image} failed: {message.strip()}")
            watchdog.check(f"pulling the base {image}")
        except TRANSPORT_ERRORS as error:
            watchdog.check(f"pulling the base {image}")
            raise BuildError(f"pulling the base {image} failed: {error}", retriable=_retriable(str(error))) from None
        progress(f"pulled {image}")

    def _build(
        self,
        api: docker.APIClient,
        context: BuildContext,
        target: str,
        ref: str,
        progress: Progress,
        watchdog: _Watchdog,
    ) -> tuple[list[str], list[str]]:
        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        steps: list[str] = []
        cached: set[int] = set()
        try:
            events = api.build(
                fileobj=io.BytesIO(context.tarball()),
                custom_context=True,
                tag=ref,
                target=target,
                buildargs={**self.build_proxy, **context.engine_build_args()},
                decode=True,
                rm=True,
                forcerm=True,
            )
            for event in events:
                if "errorDetail" in event or "error" in event:
                    message = event.get("errorDetail", {}).get("message") or event.get("error", "unknown error")
                    raise BuildError(f"building {target} failed: {message.strip()}", "\n".join(tail))
                text = event.get("stream", "")
                for line in text.splitlines():
                    if not line.strip():
                        continue
                    tail.append(line)
                    if re.match(r"^Step \d+/\d+ :", line):
                        steps.append(line)
                    elif "Using cache" in line and steps:
                        cached.add(len(steps) - 1)
                    progress(line)
            watchdog.check(f"building {target}", "\n".join(tail))
        except TRANSPORT_ERRORS as error:
            watchdog.check(f"building {target}", "\n".join(tail))
            raise BuildError(
                f"the Docker engine failed during the build: {error}", "\n".join(tail), retriable=True
            ) from None
        # FROM only names a stage: it is never "served from cache" and never rebuilds anything.
        rebuilt = [step for index, step in enumerate(steps) if index not in cached and " : FROM " not in step]
        return steps, rebuilt

    def _push(
        self,
        api: docker.APIClient,
        ref: str,
        auth: tuple[str, str] | None,
        progress: Progress,
        watchdog: _Watchdog,
    ) -> str:
        repository, tag = ref.rsplit(":", 1)
        auth_config = {"username": auth[0], "password": auth[1]} if auth else None
        digest = ""
        try:
            for event in api.push(repository, tag=tag, auth_config=auth_config, stream=True, decode=True):
                # A failed push does not raise: the error arrives as a chunk of the stream.
                if "errorDetail" in event or "error" in event:
                    message = event.get("errorDetail", {}).get("message") or event.get("error", "unknown error")
                    raise BuildError(f"pushing {ref} failed: {message.strip()}", retriable=_retriable(message))
                aux: dict[str, Any] = event.get("aux") or {}
                if aux.get("Digest"):
                    digest = aux["Digest"]
                if event.get("status") and not event.get("progressDetail"):
                    progress(f"push: {event.get('id', '')} {event['status']}".strip())
            watchdog.check(f"pushing {ref}")
        except TRANSPORT_ERRORS as error:
            watchdog.check(f"pushing {ref}")
            raise BuildError(f"the Docker engine failed during the push of {ref}: {error}", retriable=True) from None
        if not digest:
            raise BuildError(f"pushing {ref} reported no digest")
        return digest


def _untag(api: docker.APIClient, ref: str) -> None:
    """Removes the built image's tag, so no other build on the engine can name it (FROM or COPY --from) without
    pulling it from the registry with its own credentials. Untagged parents stay: they are the layer cache."""
    with contextlib.suppress(*TRANSPORT_ERRORS):  # gone already, or the engine is: nothing left to name
        api.remove_image(ref, noprune=True)


def _retriable(message: str) -> bool:
    """Authentication failures need a fixed Secret, not a retry; network trouble may pass."""
    lowered = message.lower()
    return not any(word in lowered for word in ("unauthorized", "authentication required", "denied", "no basic auth"))
