"""Helpers shared by the test suites."""

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client

T = TypeVar("T")

VENV_BIN = Path(sys.executable).parent
"""Where the virtualenv's commands (kubricks, ruff, mypy) live, whether or not it is on PATH."""

PLATFORM_VARIABLES = (
    "KUBECONFIG",
    "DOCKER_HOST",
    "KUBRICKS_TEST_REGISTRY",
    "KUBRICKS_TEST_REGISTRY_USER",
    "KUBRICKS_TEST_REGISTRY_PASSWORD",
    "KUBRICKS_TEST_BASE_IMAGE",
    "KUBRICKS_TEST_GPU_BASE_IMAGE",
    "KUBRICKS_TEST_CA_BUNDLE",
)


class PlatformMissing(RuntimeError):
    """The platform of hack/testenv is not there: integration and e2e tests fail, they never skip."""


def platform_env() -> dict[str, str]:
    missing = [name for name in PLATFORM_VARIABLES if not os.environ.get(name)]
    if missing:
        raise PlatformMissing(
            f"the test platform is not configured ({', '.join(missing)} unset): "
            'run `make test`, or `hack/testenv up && eval "$(hack/testenv env)"` before pytest'
        )
    return {name: os.environ[name] for name in PLATFORM_VARIABLES}


def spark_home() -> str:
    """Where pyspark's Spark distribution (and its spark-submit) is installed."""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def wait_until(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last probe: {result!r})")
        time.sleep(interval)


def registry_pull_secret(platform: dict[str, str], name: str = "regcred", registry: str = "") -> client.V1Secret:
    """A kubernetes.io/dockerconfigjson Secret of the test registry's credentials, for the registry as the host
    names it unless ``registry`` names it otherwise (as pods reach it)."""
    user, password = platform["KUBRICKS_TEST_REGISTRY_USER"], platform["KUBRICKS_TEST_REGISTRY_PASSWORD"]
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    host = registry or platform["KUBRICKS_TEST_REGISTRY"]
    config = {"auths": {host: {"username": user, "password": password, "auth": auth}}}
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": json.dumps(config)},
    )


def assert_golden(golden: Path, text: str) -> None:
    """``text`` equals the golden file. With KUBRICKS_UPDATE_GOLDEN set, a differing file is rewritten and the
    test still fails, so an update is always reviewed and rerun, never passed by comparing a file with itself."""
    expected = golden.read_text() if golden.exists() else None
    if text != expected and os.environ.get("KUBRICKS_UPDATE_GOLDEN"):
        golden.write_text(text)
        raise AssertionError(f"rewrote {golden.name}: review the diff and run again without KUBRICKS_UPDATE_GOLDEN")
    assert text == expected


def decision_summary(decision: Any, generation: int) -> dict[str, Any]:
    """Everything a job's decision says, its conditions checked for agreement and reduced to Ready's status and
    reason, so a table test compares the whole of it."""
    status = dict(decision.status)
    conditions = {c["type"]: c for c in status.pop("conditions", [])}
    if conditions:
        assert {c["message"] for c in conditions.values()} == {status["message"]}
        assert {c["reason"] for c in conditions.values()} == {conditions["Ready"]["reason"]}
        assert {c["observedGeneration"] for c in conditions.values()} == {generation}
        status |= {"ready": conditions["Ready"]["status"], "reason": conditions["Ready"]["reason"]}
    fields = vars(decision) if hasattr(decision, "__dict__") else {}
    return {**status, **{key: value for key, value in fields.items() if key != "status" and value}}


def small_claim(name: str) -> client.V1PersistentVolumeClaim:
    """A 1 MiB ReadWriteOnce claim, which the platform's local-path provisioner binds."""
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"], resources=client.V1VolumeResourceRequirements(requests={"storage": "1Mi"})
        ),
    )
