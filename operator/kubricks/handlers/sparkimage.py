"""SparkImage: a daemon per object renders, builds and pushes, and keeps the status current.

A daemon rather than a create/update handler: a build takes minutes, and a spec change during a build
must supersede it at once instead of queueing behind it. Builds run in threads, so one build never
blocks the handling of other resources.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, VERSION
from kubricks.api.sparkimage import SparkImage
from kubricks.handlers import generation_of, status_of
from kubricks.images import lifecycle
from kubricks.images.backend import DockerBackend
from kubricks.images.builder import BuildOutcome, build_spark_image, resolve_inputs
from kubricks.images.registry import RegistryClient, credentials_from_docker_config
from kubricks.images.render import proxy_build_args
from kubricks.k8s.client import patch_status, read_config_map, read_secret

PLURAL = "sparkimages"
PROGRESS_INTERVAL_SECONDS = 5.0
SUPERSEDE_CHECK_SECONDS = 0.5


class Superseded(Exception):
    """The spec changed while building; the build's result no longer matters."""


async def build(resource: SparkImage, namespace: str, name: str, progress: list[str]) -> BuildOutcome:
    """Reads the Secret and ConfigMaps the spec names, then builds what the registry lacks."""
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
    inputs = await resolve_inputs(spec, RegistryClient(credentials), config_maps, ca_bundle)
    backend = DockerBackend(build_proxy=proxy_build_args(spec.build.proxy))
    return await build_spark_image(spec, f"{namespace}/{name}", inputs, backend, credentials, progress.append)


@dataclass
class ImageReconciler:
    body: kopf.Body
    namespace: str
    name: str
    logger: Any
    attempt: int = 0
    progress: list[str] = field(default_factory=list)

    async def patch(self, status: dict[str, Any]) -> None:
        await asyncio.to_thread(patch_status, PLURAL, self.namespace, self.name, status)

    async def reconcile(self, generation: int) -> float | None:
        """One build of ``generation``; returns seconds until the next try, or None when settled."""
        status = status_of(self.body)
        try:
            resource = SparkImage.model_validate(dict(self.body))
        except ValueError as error:
            await self.patch(lifecycle.failed(status, generation, lifecycle.Failure("InvalidSpec", str(error), None)))
            return None
        await self.patch(lifecycle.building(status, generation, "resolving the build inputs"))
        kopf.info(self.body, reason="Building", message=f"building {', '.join(resource.spec.variants)}")
        self.progress = []
        started = asyncio.get_running_loop().time()
        task = asyncio.create_task(build(resource, self.namespace, self.name, self.progress))
        try:
            outcome = await self.follow(task, generation, status)
        except Superseded:
            kopf.info(self.body, reason="Superseded", message="the spec changed during the build; starting again")
            return 0
        except Exception as error:
            failure = lifecycle.classify(error, self.attempt)
            metrics.BUILDS.labels(outcome="failed").inc()
            if failure.reason == "InternalError":
                metrics.RECONCILE_ERRORS.labels(kind="SparkImage").inc()
            self.logger.warning(f"build failed ({failure.reason}): {failure.message}")
            await self.patch(lifecycle.failed(status, generation, failure))
            kopf.warn(self.body, reason=failure.reason, message=failure.message[-1024:])
            self.attempt += 1
            return failure.retry_after
        self.attempt = 0
        metrics.BUILDS.labels(outcome="built").inc(len(outcome.built))
        metrics.BUILDS.labels(outcome="cached").inc(len(outcome.images) - len(outcome.built))
        if outcome.built:
            metrics.BUILD_SECONDS.observe(asyncio.get_running_loop().time() - started)
        await self.patch(lifecycle.ready(status, generation, outcome))
        for image in outcome.images:
            kopf.info(self.body, reason="Ready", message=f"{image.variant}: {image.ref}@{image.digest}")
        return None

    async def follow(self, task: "asyncio.Task[BuildOutcome]", generation: int, status: dict[str, Any]) -> BuildOutcome:
        """Waits for the build, putting its latest progress line in status; cancels it when the spec moves on."""
        loop = asyncio.get_running_loop()
        reported, next_report = "", loop.time() + PROGRESS_INTERVAL_SECONDS
        while True:
            done, _ = await asyncio.wait({task}, timeout=SUPERSEDE_CHECK_SECONDS)
            if done:
                return task.result()
            if generation_of(self.body) != generation:
                task.cancel()
                raise Superseded
            if loop.time() >= next_report and self.progress and self.progress[-1] != reported:
                reported, next_report = self.progress[-1], loop.time() + PROGRESS_INTERVAL_SECONDS
                await self.patch(lifecycle.building(status, generation, reported))


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=10)
async def sparkimage_daemon(
    stopped: kopf.DaemonStopped, body: kopf.Body, name: str, namespace: str | None, logger: kopf.Logger, **_: Any
) -> None:
    reconciler = ImageReconciler(body, namespace or "default", name, logger)
    while not stopped:
        generation = generation_of(body)
        if lifecycle.settled(status_of(body), generation):
            await wait_for_change(stopped, body, generation, timeout=None)
            continue
        retry_after = await reconciler.reconcile(generation)
        if retry_after is None:
            await wait_until_settled(stopped, body, generation)
        else:
            await wait_for_change(stopped, body, generation, timeout=retry_after)


async def wait_for_change(stopped: kopf.DaemonStopped, body: kopf.Body, generation: int, timeout: float | None) -> None:
    """Returns when the spec changes, the daemon stops, or after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while not stopped and generation_of(body) == generation:
        if deadline is not None and loop.time() >= deadline:
            return
        await stopped.wait(1.0)


async def wait_until_settled(stopped: kopf.DaemonStopped, body: kopf.Body, generation: int) -> None:
    """The live body lags our own status patch: wait until it shows it before deciding again."""
    while not stopped and generation_of(body) == generation and not lifecycle.settled(status_of(body), generation):
        await stopped.wait(0.5)
