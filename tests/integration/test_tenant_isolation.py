"""What one namespace's user can do to the shared build engine, the registry client and the git resolver: each
attack fails on the real engine, registry and processes."""

import asyncio
import contextlib
import resource
import subprocess
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import docker
import pytest
from aiohttp import web

from kubricks.databricks.client import DatabricksClient
from kubricks.databricks.errors import DatabricksError
from kubricks.images.backend import Deadline, DockerBackend, Progress
from kubricks.images.builder import git_commit, resolve_inputs, run_bounded
from kubricks.images.outcomes import BuildError, InputError, PushedImage, RegistryError
from kubricks.images.registry import MANIFEST_LIMIT_BYTES, RegistryClient
from kubricks.images.render import BuildContext
from tests.image_support import credentials, spark_image_spec


def registry_ref(platform: dict[str, str], name: str) -> str:
    return f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/{name}:{uuid.uuid4().hex[:8]}"


def context_of(platform: dict[str, str], run: str, cache_scope: str = "local") -> BuildContext:
    base = platform["KUBRICKS_TEST_BASE_IMAGE"]
    return BuildContext(
        # Like every rendered image, it ends with a step that only sets metadata (the top image is removed after
        # the push; its parents stay as the cache).
        dockerfile=f"FROM {base} AS cpu\nARG KUBRICKS_CACHE_SCOPE\nRUN {run}\nWORKDIR /\n",
        files={},
        build_args={},
        base_images=(base,),
        cache_scope=cache_scope,
    )


def build(
    platform: dict[str, str], context: BuildContext, seconds: float = 300, progress: Progress = lambda _: None
) -> tuple[str, PushedImage]:
    ref = registry_ref(platform, "tenant")
    backend = DockerBackend(platform["DOCKER_HOST"])
    return ref, backend.build_and_push(context, "cpu", ref, credentials(platform), progress, Deadline.after(seconds))


def test_a_digest_pinned_base_is_checked_with_the_images_own_credentials(
    platform: dict[str, str], docker_api: docker.APIClient
) -> None:
    """Team B names team A's private base by the digest the engine has cached: the registry refuses B."""
    base = platform["KUBRICKS_TEST_BASE_IMAGE"]
    digest = asyncio.run(RegistryClient(credentials(platform)).manifest(base))
    assert digest is not None
    pinned = f"{base.rsplit(':', 1)[0]}@{digest.digest}"
    spec = spark_image_spec(platform, "tests/tenant-b", base={"cpu": pinned})
    with pytest.raises(RegistryError) as refused:
        asyncio.run(resolve_inputs(spec, RegistryClient({}), {}, None))
    assert refused.value.refused
    resolved = asyncio.run(resolve_inputs(spec, RegistryClient(credentials(platform)), {}, None))
    assert resolved.base_digests[pinned] == digest.digest


def test_a_digest_that_is_not_in_the_registry_is_refused(platform: dict[str, str]) -> None:
    base = platform["KUBRICKS_TEST_BASE_IMAGE"]
    invented = f"{base.rsplit(':', 1)[0]}@sha256:{'0' * 64}"
    spec = spark_image_spec(platform, "tests/tenant-b", base={"cpu": invented})
    with pytest.raises(InputError, match="does not exist"):
        asyncio.run(resolve_inputs(spec, RegistryClient(credentials(platform)), {}, None))


def test_a_pushed_image_is_left_untagged_on_the_engine(platform: dict[str, str], docker_api: docker.APIClient) -> None:
    ref, pushed = build(platform, context_of(platform, f"echo {uuid.uuid4().hex} > /marker"))
    assert pushed.digest.startswith("sha256:")
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(ref)
    assert asyncio.run(RegistryClient(credentials(platform)).manifest(ref)) is not None


def test_the_engine_cache_is_not_shared_between_namespaces(platform: dict[str, str]) -> None:
    """A RUN step of one namespace (a private fetch) is never served from another namespace's cache."""
    step = f"echo {uuid.uuid4().hex} > /private"
    _, first = build(platform, context_of(platform, step, cache_scope="team-a"))
    _, again = build(platform, context_of(platform, step, cache_scope="team-a"))
    _, other = build(platform, context_of(platform, step, cache_scope="team-b"))
    run_step = next(s for s in first.steps if " : RUN " in s)
    assert run_step in first.rebuilt
    assert run_step not in again.rebuilt, "the same namespace reuses its own cache"
    assert run_step in other.rebuilt, "another namespace runs the step itself"


def test_a_build_printing_without_end_stops_at_its_deadline_with_bounded_memory(platform: dict[str, str]) -> None:
    kept: deque[str] = deque(maxlen=100)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(BuildError) as failed:
        build(platform, context_of(platform, f"yes {uuid.uuid4().hex}"), seconds=20, progress=kept.append)
    assert failed.value.timed_out
    assert time.monotonic() - started < 60
    assert len(kept) == 100
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 64, f"the test process grew by {grown_mib:.0f} MiB while the build printed"


@contextlib.asynccontextmanager
async def serving(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    """A local HTTP server answering every request with ``handler``; yields its address."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)  # a tarpit handler never ends by itself
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def tarpit(request: web.Request) -> web.StreamResponse:
    """Accepts the request and never answers."""
    await asyncio.sleep(3600)
    return web.Response()


async def endless_manifest(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    await response.prepare(request)
    chunk = b" " * 65536
    for _ in range(2 * MANIFEST_LIMIT_BYTES // len(chunk)):
        await response.write(chunk)
    return response


async def drip(request: web.Request) -> web.StreamResponse:
    """Answers one byte every half second: each read is quick, the whole never ends."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for _ in range(3600):
        await response.write(b" ")
        await asyncio.sleep(0.5)
    return response


async def databricks_user(address: str) -> object:
    async with DatabricksClient(f"http://{address}", token="t", timeout=2, max_attempts=1) as workspace:
        return await workspace.current_user()


@pytest.mark.parametrize(
    ("host", "ask", "failure", "says"),
    [
        (tarpit, lambda at: RegistryClient(timeout=2).manifest(f"{at}/team/base:1"), RegistryError, "cannot reach"),
        (drip, lambda at: RegistryClient(timeout=2).manifest(f"{at}/team/base:1"), RegistryError, "longer than 4s"),
        (drip, databricks_user, DatabricksError, "took longer than 4s in all"),
        (tarpit, lambda at: git_commit(f"http://{at}/team.git", "main", timeout=2), InputError, "longer than 2s"),
    ],
    ids=["registry-never-answers", "registry-drips", "databricks-drips", "git-never-answers"],
)
def test_a_host_that_holds_its_answer_is_given_up_at_the_deadline(
    host: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ask: Callable[[str], Awaitable[object]],
    failure: type[Exception],
    says: str,
) -> None:
    async def scenario() -> None:
        async with serving(host) as address:
            started = time.monotonic()
            with pytest.raises(failure, match=says):
                await ask(address)
            assert time.monotonic() - started < 10

    asyncio.run(scenario())
    assert "team.git" not in git_processes("team.git"), "git and its remote helper are gone"


def test_a_registry_sending_an_endless_manifest_is_cut_off() -> None:
    async def scenario() -> None:
        async with serving(endless_manifest) as address:
            with pytest.raises(RegistryError, match="sent more than"):
                await RegistryClient().manifest(f"{address}/team/base:1")

    asyncio.run(scenario())


def git_processes(marker: str) -> str:
    return subprocess.run(["pgrep", "-af", marker], check=False, capture_output=True, text=True).stdout


@pytest.mark.parametrize(
    "command",
    [
        ["yes", "{marker}"],
        # Past the limit and still running: the reader stops, the rest of the output fills the pipe, and the
        # process must still be reaped once killed.
        ["sh", "-c", "head -c 1000000 /dev/zero; sleep 60 # {marker}"],
    ],
    ids=["prints-forever", "fills-the-pipe-then-waits"],
)
def test_a_command_printing_without_end_is_killed_at_its_output_limit(command: list[str]) -> None:
    marker = uuid.uuid4().hex
    started = time.monotonic()

    async def bounded() -> object:
        # The test's own limit: a run_bounded that hangs fails here instead of holding the suite.
        return await asyncio.wait_for(run_bounded([c.format(marker=marker) for c in command], 30, 65536, "test"), 20)

    with pytest.raises(InputError, match="printed more than 65536 bytes"):
        asyncio.run(bounded())
    assert time.monotonic() - started < 10
    assert marker not in git_processes(marker)


def test_git_credentials_in_a_url_never_reach_the_message() -> None:
    async def scenario() -> None:
        async with serving(tarpit) as address:
            with pytest.raises(InputError) as failed:
                await git_commit(f"http://builder:s3cr3t-token@{address}/x.git", "main", timeout=1)
            assert "s3cr3t-token" not in str(failed.value)
            assert "http://***@" in str(failed.value)

    asyncio.run(scenario())
