"""The Docker build backend on the real engine: a deadline and a cancellation end the build there too, and
bases are pulled with the credentials given, never with what the engine has cached or is logged in with."""

import threading
import time
import uuid

import docker
import pytest

from kubricks.images.backend import Deadline, DockerBackend
from kubricks.images.outcomes import BuildError
from kubricks.images.render import BuildContext
from tests.image_support import credentials
from tests.support import wait_until


def slow_build(platform: dict[str, str], marker: str) -> BuildContext:
    base = platform["KUBRICKS_TEST_BASE_IMAGE"]
    return BuildContext(
        dockerfile=f"FROM {base} AS slow\nRUN sleep 300 && echo {marker}\n",
        files={},
        build_args={},
        base_images=(base,),
    )


def running_step(docker_api: docker.APIClient, marker: str) -> list[str]:
    """The build containers still running the step that prints ``marker``."""
    return [c["Id"] for c in docker_api.containers() if marker in (c.get("Command") or "")]


def build(platform: dict[str, str], context: BuildContext, deadline: Deadline, creds: dict) -> None:
    ref = f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/backend:{uuid.uuid4().hex[:8]}"
    DockerBackend(platform["DOCKER_HOST"]).build_and_push(context, "slow", ref, creds, lambda _: None, deadline)


def test_a_build_past_its_deadline_is_stopped_on_the_engine(
    platform: dict[str, str], docker_api: docker.APIClient
) -> None:
    marker = uuid.uuid4().hex
    started = time.monotonic()
    with pytest.raises(BuildError) as failed:
        build(platform, slow_build(platform, marker), Deadline.after(8), credentials(platform))
    assert failed.value.timed_out
    assert "ran past spec.build.timeoutSeconds" in str(failed.value)
    assert time.monotonic() - started < 30, "the deadline ends a step that prints nothing"
    wait_until(lambda: not running_step(docker_api, marker), timeout=30, what="the engine to stop the build")


def test_a_cancelled_build_is_stopped_on_the_engine(platform: dict[str, str], docker_api: docker.APIClient) -> None:
    marker = uuid.uuid4().hex
    deadline = Deadline.after(600)
    threading.Timer(8, deadline.stop.set).start()
    with pytest.raises(BuildError) as failed:
        build(platform, slow_build(platform, marker), deadline, credentials(platform))
    assert "was cancelled" in str(failed.value)
    assert not failed.value.timed_out
    wait_until(lambda: not running_step(docker_api, marker), timeout=30, what="the engine to stop the build")


def test_a_base_the_engine_has_cached_is_not_usable_without_credentials_for_it(
    platform: dict[str, str], docker_api: docker.APIClient
) -> None:
    base = platform["KUBRICKS_TEST_BASE_IMAGE"]
    assert docker_api.images(name=base), "the base is cached on the engine"
    with pytest.raises(BuildError) as failed:
        build(platform, slow_build(platform, uuid.uuid4().hex), Deadline.after(120), {})
    assert f"pulling the base {base} failed" in str(failed.value)
    assert "no basic auth credentials" in str(failed.value).lower() or "unauthorized" in str(failed.value).lower()
