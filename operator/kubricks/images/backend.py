"""Build backends. The operator and the CLI talk to :class:`BuildBackend`; :class:`DockerBackend` is the
Docker Engine implementation (an in-cluster daemonless backend can implement the same protocol)."""

import io
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import docker
from docker.errors import DockerException

from kubricks.images.outcomes import BuildError, PushedImage
from kubricks.images.render import BuildContext

Progress = Callable[[str], None]
"""Receives one line of build or push progress at a time."""

LOG_TAIL_LINES = 30


class BuildBackend(Protocol):
    def build_and_push(
        self,
        context: BuildContext,
        target: str,
        ref: str,
        auth: tuple[str, str] | None,
        progress: Progress,
        timeout_seconds: int,
    ) -> PushedImage: ...


class DockerBackend:
    """Builds with the Docker Engine API: streamed progress, in-band errors caught on build and push."""

    def __init__(self, base_url: str | None = None, build_proxy: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.build_proxy = build_proxy or {}

    def client(self, timeout_seconds: int) -> docker.APIClient:
        try:
            if self.base_url:
                return docker.APIClient(base_url=self.base_url, timeout=timeout_seconds)
            return docker.APIClient(timeout=timeout_seconds, **docker.utils.kwargs_from_env())
        except DockerException as error:
            raise BuildError(f"cannot reach the Docker engine: {error}", retriable=True) from None

    def build_and_push(
        self,
        context: BuildContext,
        target: str,
        ref: str,
        auth: tuple[str, str] | None,
        progress: Progress,
        timeout_seconds: int,
    ) -> PushedImage:
        api = self.client(timeout_seconds)
        steps, rebuilt = self._build(api, context, target, ref, progress)
        digest, size = self._push(api, ref, auth, progress)
        return PushedImage(ref=ref, digest=digest, size_bytes=size, steps=steps, rebuilt=rebuilt)

    def _build(
        self, api: docker.APIClient, context: BuildContext, target: str, ref: str, progress: Progress
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
                buildargs={**self.build_proxy, **context.build_args},
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
        except DockerException as error:
            raise BuildError(
                f"the Docker engine failed during the build: {error}", "\n".join(tail), retriable=True
            ) from None
        # FROM only names a stage: it is never "served from cache" and never rebuilds anything.
        rebuilt = [step for index, step in enumerate(steps) if index not in cached and " : FROM " not in step]
        return steps, rebuilt

    def _push(
        self, api: docker.APIClient, ref: str, auth: tuple[str, str] | None, progress: Progress
    ) -> tuple[str, int]:
        repository, tag = ref.rsplit(":", 1)
        auth_config = {"username": auth[0], "password": auth[1]} if auth else None
        digest = ""
        size = 0
        try:
            for event in api.push(repository, tag=tag, auth_config=auth_config, stream=True, decode=True):
                # A failed push does not raise: the error arrives as a chunk of the stream.
                if "errorDetail" in event or "error" in event:
                    message = event.get("errorDetail", {}).get("message") or event.get("error", "unknown error")
                    raise BuildError(f"pushing {ref} failed: {message.strip()}", retriable=_retriable_push(message))
                aux: dict[str, Any] = event.get("aux") or {}
                if aux.get("Digest"):
                    digest, size = aux["Digest"], int(aux.get("Size", 0))
                if event.get("status") and not event.get("progressDetail"):
                    progress(f"push: {event.get('id', '')} {event['status']}".strip())
        except DockerException as error:
            raise BuildError(f"the Docker engine failed during the push of {ref}: {error}", retriable=True) from None
        if not digest:
            raise BuildError(f"pushing {ref} reported no digest")
        image_size = int(api.inspect_image(ref).get("Size", size))
        return digest, image_size


def _retriable_push(message: str) -> bool:
    """Authentication failures need a fixed Secret, not a retry; network trouble may pass."""
    lowered = message.lower()
    return not any(word in lowered for word in ("unauthorized", "authentication required", "denied", "no basic auth"))
