"""SparkImage: a supervised step per object renders, builds and pushes, and keeps the status current.

A long-lived step rather than a create/update handler: a build takes minutes, and a spec change during a build
must supersede it at once instead of queueing behind it. Builds run in threads, so one build never blocks the
handling of other resources. No finalizer: nothing outside Kubernetes needs cleaning up.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.sparkimage import SparkImage
from kubricks.control.bodies import generation_of, status_of
from kubricks.control.build_slots import BuildSlots
from kubricks.control.status import post_event, write_status
from kubricks.control.supervisor import Live, Step
from kubricks.images import lifecycle
from kubricks.images.backend import DockerBackend
from kubricks.images.builder import build_spark_image, resolve_inputs
from kubricks.images.outcomes import BuildOutcome
from kubricks.images.registry import RegistryClient, credentials_from_docker_config
from kubricks.images.render import proxy_build_args
from kubricks.k8s.client import read_config_map, read_secret

PLURAL = plural(SparkImage)
PROGRESS_INTERVAL_SECONDS = 5.0
PROGRESS_LINES_KEPT = 100
SUPERSEDE_CHECK_SECONDS = 0.5

logger = logging.getLogger(__name__)


class Superseded(Exception):
    """The spec changed while building; the build's result no longer matters."""


async def build(resource: SparkImage, namespace: str, slots: BuildSlots, progress: deque[str]) -> BuildOutcome:
    """Takes one of the namespace's build slots, reads the Secret and ConfigMaps the spec names, then builds what
    the registry lacks."""
    async with slots.slot(namespace, progress.append):
        return await _build(resource, namespace, slots, progress)


async def _build(resource: SparkImage, namespace: str, slots: BuildSlots, progress: deque[str]) -> BuildOutcome:
    spec = resource.spec
    credentials = {}
    if spec.registry.credentials_secret:
        secret = await asyncio.to_thread(read_secret, namespace, spec.registry.credentials_secret)
        credentials = credentials_from_docker_config(secret.get(".dockerconfigjson", b"{}"))
    config_maps = {
        source.config_map.name: await asyncio.to_thread(read_config_map, namespace, source.config_map.name)
        for source in spec.app.sources
        if source.config_map
    }
    ca_bundle = None
    if spec.build.ca_certificates:
        cas = await asyncio.to_thread(read_config_map, namespace, spec.build.ca_certificates.config_map)
        ca_bundle = "\n".join(cas[key].strip() for key in sorted(cas)) + "\n"
    inputs = await resolve_inputs(spec, RegistryClient(credentials), config_maps, ca_bundle, cache_scope=namespace)
    backend = DockerBackend(build_proxy=proxy_build_args(spec.build.proxy))
    return await build_spark_image(spec, inputs, backend, credentials, progress.append, run_blocking=slots.run)


@dataclass
class ImageReconciler:
    live: Live
    slots: BuildSlots
    attempt: int = 0
    progress: deque[str] = field(default_factory=lambda: deque(maxlen=PROGRESS_LINES_KEPT))
    """The build's latest progress lines: a build that prints without end cannot grow the operator."""

    async def step(self, live: Live) -> float | None:
        """Builds the current generation unless it is settled; returns when to look again."""
        generation = generation_of(live.body)
        if lifecycle.settled(status_of(live.body), generation):
            return None
        return await self.reconcile(generation)

    async def reconcile(self, generation: int) -> float | None:
        """One build of ``generation``; returns seconds until the next try, or None when settled."""
        live = self.live
        status = status_of(live.body)
        try:
            resource = SparkImage.model_validate(dict(live.body))
        except ValueError as error:
            failure = lifecycle.Failure("InvalidSpec", str(error), None)
            await write_status(live, lifecycle.failed(status, generation, failure))
            return None
        await write_status(live, lifecycle.building(status, generation, "resolving the build inputs"))
        post_event(live, "Normal", "Building", f"building {', '.join(resource.spec.variants)}")
        self.progress.clear()
        started = asyncio.get_running_loop().time()
        task = asyncio.create_task(build(resource, live.namespace, self.slots, self.progress))
        try:
            outcome = await self.follow(task, generation, status)
        except Superseded:
            post_event(live, "Normal", "Superseded", "the spec changed during the build; starting again")
            return 0
        except Exception as error:
            failure = lifecycle.classify(error, self.attempt)
            metrics.BUILDS.labels(outcome="failed").inc()
            if failure.reason == "InternalError":
                metrics.RECONCILE_ERRORS.labels(kind="SparkImage").inc()
            logger.warning(
                "SparkImage %s/%s: build failed (%s): %s", live.namespace, live.name, failure.reason, failure.message
            )
            await write_status(live, lifecycle.failed(status, generation, failure))
            post_event(live, "Warning", failure.reason, failure.message)
            self.attempt += 1
            return failure.retry_after
        self.attempt = 0
        metrics.BUILDS.labels(outcome="built").inc(len(outcome.built))
        metrics.BUILDS.labels(outcome="cached").inc(len(outcome.images) - len(outcome.built))
        if outcome.built:
            metrics.BUILD_SECONDS.observe(asyncio.get_running_loop().time() - started)
        await write_status(live, lifecycle.ready(status, generation, outcome))
        for image in outcome.images:
            post_event(live, "Normal", "Ready", f"{image.variant}: {image.ref}@{image.digest}")
        return None

    async def follow(self, task: "asyncio.Task[BuildOutcome]", generation: int, status: dict[str, Any]) -> BuildOutcome:
        """Waits for the build, putting its latest progress line in status; cancels it when the spec moves on or
        the object goes."""
        loop = asyncio.get_running_loop()
        reported, next_report = "", loop.time() + PROGRESS_INTERVAL_SECONDS
        while True:
            done, _ = await asyncio.wait({task}, timeout=SUPERSEDE_CHECK_SECONDS)
            if done:
                return task.result()
            if generation_of(self.live.body) != generation or self.live.stopped:
                task.cancel()
                raise Superseded
            if loop.time() >= next_report and self.progress and self.progress[-1] != reported:
                reported, next_report = self.progress[-1], loop.time() + PROGRESS_INTERVAL_SECONDS
                await write_status(self.live, lifecycle.building(status, generation, reported))


def image_steps(slots: BuildSlots) -> Callable[[Live], Step]:
    """A reconciler per object, so its retry count outlives a step; all share the operator's build slots."""
    return lambda live: ImageReconciler(live, slots).step


@kopf.index(GROUP, VERSION, PLURAL)
def spark_images(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    return {(namespace or "", name): {"spec": dict(spec), "status": dict(status)}}


@kopf.on.event(GROUP, VERSION, PLURAL)
async def sparkimage_event(event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: Any, **_: Any) -> None:
    """Feeds the image's own step, and wakes the jobs and clusters of its namespace that may run it."""
    memo.sparkimages.observe(event["type"], body, image_steps(memo.build_slots))
    for dependants in (memo.sparkjobs, memo.databricksclusters):
        dependants.wake_namespace(namespace or "")
