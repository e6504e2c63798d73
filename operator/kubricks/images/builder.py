"""Builds a SparkImage: resolve the inputs, render, skip what the registry already has, build and push the
rest. Shared by the operator and ``kubricks image build``."""

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kubricks.api.sparkimage import BuiltImage, SparkImageSpec, Variant
from kubricks.images.backend import BuildBackend, Deadline, Progress
from kubricks.images.outcomes import BuildOutcome, InputError, PushedImage, RegistryError
from kubricks.images.registry import Credentials, RegistryClient
from kubricks.images.render import BuildContext, ResolvedInputs, git_key, image_tag, rapids_version, render
from kubricks.redact import redact_userinfo

RunBlocking = Callable[..., Awaitable[Any]]

COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
"""A SHA-1 or SHA-256 object name."""
GIT_TIMEOUT_SECONDS = 60.0
GIT_OUTPUT_LIMIT_BYTES = 1024 * 1024
"""ls-remote asks for one ref: its answer is a few lines, whatever the repository the user named."""
REAP_SECONDS = 5.0
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes", "LC_ALL": "C"}
"""Never wait for a password nobody will type."""


async def git_commit(url: str, ref: str, timeout: float = GIT_TIMEOUT_SECONDS) -> str:
    """The commit ``ref`` names in the repository at ``url``."""
    if COMMIT.match(ref):
        return ref
    shown = redact_userinfo(url)
    out, err, code = await run_bounded(
        ["git", "ls-remote", "--", url, ref, f"refs/tags/{ref}^{{}}"], timeout, GIT_OUTPUT_LIMIT_BYTES, shown
    )
    if code != 0:
        raise InputError(f"git ls-remote {shown} failed: {redact_userinfo(err.decode(errors='replace').strip())}")
    commits = {}
    for line in out.decode(errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        if COMMIT.match(sha):
            commits[name] = sha
    commit = commits.get(f"refs/tags/{ref}^{{}}") or next(iter(commits.values()), None)
    if commit is None:
        raise InputError(f"{shown} has no branch or tag {ref!r} (spec.app.sources[].git.ref)")
    return commit


async def run_bounded(command: list[str], timeout: float, limit: int, what: str) -> tuple[bytes, bytes, int]:
    """Runs ``command`` in its own process group; past ``timeout`` or ``limit`` bytes of output the whole group
    (git and the ssh or https helper it started) is killed."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **GIT_ENV},
        start_new_session=True,
    )
    readers = [asyncio.create_task(_read(stream, limit)) for stream in (process.stdout, process.stderr)]
    try:
        async with asyncio.timeout(timeout):
            out, err = await asyncio.gather(*readers)
            return out, err, await process.wait()
    except TimeoutError:
        reason = f"took longer than {timeout:.0f}s"
    except OutputTooLong:
        reason = f"printed more than {limit} bytes"
    finally:
        if process.returncode is None:
            await _end(process, readers)
    raise InputError(f"{command[0]} {command[1]} {what} {reason} and was stopped")


class OutputTooLong(Exception):
    pass


async def _read(stream: asyncio.StreamReader | None, limit: int) -> bytes:
    data = bytearray()
    while stream is not None and (chunk := await stream.read(65536)):
        data.extend(chunk)
        if len(data) > limit:
            raise OutputTooLong
    return bytes(data)


async def _end(process: asyncio.subprocess.Process, readers: list["asyncio.Task[bytes]"]) -> None:
    """Kills the process group and reaps it. Its pipes are drained first: asyncio reports the exit only once both
    are closed, and a reader that stopped at the limit leaves one paused."""
    for reader in readers:
        reader.cancel()
    with contextlib.suppress(ProcessLookupError):  # ended on its own in the meantime
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):  # a helper that left the group keeps a pipe open: stop waiting
        async with asyncio.timeout(REAP_SECONDS):
            await asyncio.gather(_drain(process.stdout), _drain(process.stderr))
            await process.wait()


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Reads to the end: what a killed process left in its pipe, at most the pipe's capacity."""
    while stream is not None and await stream.read(65536):
        pass


async def resolve_inputs(
    spec: SparkImageSpec,
    registry: RegistryClient,
    config_maps: Mapping[str, dict[str, str]],
    ca_bundle: str | None,
    cache_scope: str = "local",
) -> ResolvedInputs:
    bases = {getattr(spec.base, variant) for variant in spec.variants}
    if spec.spark.source.image:
        bases.add(spec.spark.source.image.ref)
    digests = {ref: await base_digest(registry, ref) for ref in sorted(bases)}
    commits = {}
    for source in spec.app.sources:
        if source.git:
            commits[git_key(source.git.url, source.git.ref)] = await git_commit(source.git.url, source.git.ref)
    return ResolvedInputs(
        base_digests=digests,
        git_commits=commits,
        config_maps=dict(config_maps),
        ca_bundle=ca_bundle,
        cache_scope=cache_scope,
    )


async def base_digest(registry: RegistryClient, ref: str) -> str:
    """The digest of a base, asked of its registry with the SparkImage's credentials, also when the spec pins one:
    a digest is no proof of access, and the engine may hold another team's image under it."""
    try:
        manifest = await registry.manifest(ref)
    except RegistryError as error:
        if error.refused:
            raise  # a credentials problem, not a wrong base: the Secret is what to fix
        raise InputError(f"cannot resolve the base image {ref}: {error}") from None
    if manifest is None:
        raise InputError(f"the base image {ref} does not exist in its registry (spec.base / spec.spark.source)")
    return manifest.digest


async def build_spark_image(
    spec: SparkImageSpec,
    inputs: ResolvedInputs,
    backend: BuildBackend,
    credentials: Credentials,
    progress: Progress,
    on_rendered: Callable[[BuildContext], None] | None = None,
    run_blocking: RunBlocking = asyncio.to_thread,
) -> BuildOutcome:
    """Builds and pushes every variant the registry lacks; ``run_blocking`` runs the engine's blocking calls in
    a thread (the operator's builds have their own)."""
    progress = _redacting(progress)
    context = render(spec, inputs)
    if on_rendered:
        on_rendered(context)
    inputs_hash = context.inputs_hash()
    registry = RegistryClient(credentials)
    repository = spec.registry.repository
    deadline = Deadline.after(spec.build.timeout_seconds)
    images: list[BuiltImage] = []
    built: list[PushedImage] = []
    for variant in spec.variants:
        ref = f"{repository}:{image_tag(inputs_hash, variant)}"
        existing = await registry.manifest(ref)
        if existing:
            progress(f"{variant}: {ref} is already in the registry; nothing to build")
            images.append(_built(spec, variant, ref, existing.digest, existing.size_bytes))
            continue
        progress(f"{variant}: building {ref}")
        try:
            pushed = await run_blocking(backend.build_and_push, context, variant, ref, credentials, progress, deadline)
        except asyncio.CancelledError:
            deadline.stop.set()  # the thread goes on until its engine calls end: end them now
            raise
        stored = await registry.manifest(ref)
        if stored is None or stored.digest != pushed.digest:
            raise RegistryError(f"the registry does not show {ref} as pushed ({pushed.digest}); try again")
        built.append(pushed)
        # The registry's size, as for a variant found there: the same image reports the same size.
        images.append(_built(spec, variant, ref, stored.digest, stored.size_bytes))
    return BuildOutcome(inputs_hash=inputs_hash, images=images, built=built)


def _built(spec: SparkImageSpec, variant: Variant, ref: str, digest: str, size: int) -> BuiltImage:
    return BuiltImage(variant=variant, ref=ref, digest=digest, size_bytes=size, rapids=rapids_version(spec, variant))


def _redacting(progress: Progress) -> Progress:
    """Build output prints the URLs it fetches, with any credentials written into them: never pass those on."""
    return lambda line: progress(redact_userinfo(line))
