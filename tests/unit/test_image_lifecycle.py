"""SparkImage status at each step, failure classification, conditions."""

import base64
import json

import pytest

from kubricks.api.sparkimage import BuiltImage, ProxySpec
from kubricks.failures import MAX_BACKOFF_SECONDS, MissingObject
from kubricks.images import lifecycle
from kubricks.images.outcomes import BuildError, BuildOutcome, InputError, PushedImage, RegistryError
from kubricks.images.registry import credentials_from_docker_config, parse_image
from kubricks.images.render import proxy_build_args
from kubricks.k8s.conditions import with_condition

DIGEST = "sha256:" + "d" * 64


def outcome(built: bool) -> BuildOutcome:
    image = BuiltImage(variant="cpu", ref="r.example.com/a:cpu-1", digest=DIGEST, size_bytes=10)
    pushed = [PushedImage(ref=image.ref, digest=DIGEST, steps=[], rebuilt=[])] if built else []
    return BuildOutcome(inputs_hash="sha256:" + "e" * 64, images=[image], built=pushed)


@pytest.mark.parametrize(
    ("error", "reason", "retries"),
    [
        (RegistryError("refused", refused=True), "RegistryAuthFailed", True),
        (RegistryError("unreachable"), "RegistryUnavailable", True),
        (MissingObject("the ConfigMap x/y does not exist"), "InputMissing", True),
        (InputError("no such base"), "InputMissing", True),
        (BuildError("building cpu failed: exit 1", "Step 3/9"), "BuildFailed", False),
        (BuildError("engine down", retriable=True), "BuildInfrastructureError", True),
        (BuildError("pushing r/a:1 failed: unauthorized"), "RegistryAuthFailed", True),
        (BuildError("building cpu ran past spec.build.timeoutSeconds", timed_out=True), "BuildTimedOut", False),
        (RuntimeError("boom"), "InternalError", True),
    ],
)
def test_failures_are_classified(error: Exception, reason: str, retries: bool) -> None:
    failure = lifecycle.classify(error, attempt=0)
    assert failure.reason == reason
    assert (failure.retry_after is not None) == retries


def test_build_failure_keeps_the_log_tail() -> None:
    failure = lifecycle.classify(BuildError("building cpu failed", "E: Unable to locate package nope"), 0)
    assert "Unable to locate package nope" in failure.message


def test_backoff_grows_and_is_capped() -> None:
    assert lifecycle.backoff(0) == 5
    assert lifecycle.backoff(1) == 10
    assert lifecycle.backoff(20) == MAX_BACKOFF_SECONDS


def test_ready_status() -> None:
    status = lifecycle.ready({}, 3, outcome(built=True))
    assert status["phase"] == "Ready"
    assert status["observedGeneration"] == 3
    assert status["images"] == [{"variant": "cpu", "ref": "r.example.com/a:cpu-1", "digest": DIGEST, "sizeBytes": 10}]
    assert status["conditions"][0] | {"lastTransitionTime": "t"} == {
        "type": "Ready",
        "status": "True",
        "reason": "Built",
        "message": "images ready: cpu built",
        "lastTransitionTime": "t",
        "observedGeneration": 3,
    }
    assert lifecycle.ready({}, 3, outcome(built=False))["message"] == "images ready: cpu already in the registry"


def test_building_does_not_claim_the_generation() -> None:
    status = lifecycle.building({}, 2, "Step 4/30 : RUN pip install")
    assert "observedGeneration" not in status
    assert status["phase"] == "Building"
    assert status["conditions"][0]["status"] == "False"


def test_failed_status_says_whether_it_retries() -> None:
    retrying = lifecycle.failed({}, 1, lifecycle.Failure("RegistryAuthFailed", "refused", 15))
    assert retrying["message"] == "refused (retrying in 15s)"
    final = lifecycle.failed({}, 1, lifecycle.Failure("BuildFailed", "exit 1", None))
    assert final["message"] == "exit 1 (fix the spec to retry)"


@pytest.mark.parametrize(
    ("status", "settled"),
    [
        ({"observedGeneration": 2, "phase": "Ready"}, True),
        ({"observedGeneration": 1, "phase": "Ready"}, False),
        (lifecycle.failed({}, 2, lifecycle.Failure("BuildFailed", "x", None)), True),
        (lifecycle.failed({}, 2, lifecycle.Failure("BuildTimedOut", "x", None)), True),
        (lifecycle.failed({}, 2, lifecycle.Failure("RegistryAuthFailed", "x", 15)), False),
        ({}, False),
    ],
)
def test_settled(status: dict[str, object], settled: bool) -> None:
    assert lifecycle.settled(status, 2) == settled


def test_condition_transition_time_moves_only_with_the_status() -> None:
    first = with_condition(None, "Ready", False, "Building", "a", 1, at="2026-01-01T00:00:00Z")
    same = with_condition(first, "Ready", False, "Building", "b", 1, at="2026-01-02T00:00:00Z")
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["message"] == "b"
    flipped = with_condition(same, "Ready", True, "Built", "c", 1, at="2026-01-03T00:00:00Z")
    assert flipped[0]["lastTransitionTime"] == "2026-01-03T00:00:00Z"
    other = with_condition(flipped, "Stalled", False, "No", "", None, at="2026-01-04T00:00:00Z")
    assert [c["type"] for c in other] == ["Ready", "Stalled"]


@pytest.mark.parametrize(
    ("ref", "registry", "repository", "reference"),
    [
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04"),
        ("apache/spark:3.5.3", "docker.io", "apache/spark", "3.5.3"),
        ("127.0.0.1:5005/base/debian:bookworm", "127.0.0.1:5005", "base/debian", "bookworm"),
        ("localhost/a", "localhost", "a", "latest"),
        ("r.example.com/team/etl@sha256:" + "f" * 64, "r.example.com", "team/etl", "sha256:" + "f" * 64),
        ("r.example.com:443/etl:1@sha256:" + "f" * 64, "r.example.com:443", "etl", "sha256:" + "f" * 64),
    ],
)
def test_parse_image(ref: str, registry: str, repository: str, reference: str) -> None:
    image = parse_image(ref)
    assert (image.registry, image.repository, image.reference) == (registry, repository, reference)


def test_loopback_registries_speak_http() -> None:
    assert parse_image("127.0.0.1:5005/a:1").scheme == "http"
    assert parse_image("r.example.com/a:1").scheme == "https"
    assert parse_image("ubuntu").api_host == "registry-1.docker.io"


def test_credentials_from_docker_config() -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:secret").decode()},
            "r.example.com": {"username": "u", "password": "p"},
            "empty.example.com": {},
        }
    }
    assert credentials_from_docker_config(json.dumps(config)) == {
        "docker.io": ("hub", "secret"),
        "r.example.com": ("u", "p"),
    }
    with pytest.raises(RegistryError, match="not valid JSON"):
        credentials_from_docker_config(b"{not json")


def test_proxy_build_args_use_dockers_predefined_names() -> None:
    args = proxy_build_args(ProxySpec(https="http://proxy.example.com:3128", no_proxy="localhost"))
    assert args == {
        "HTTPS_PROXY": "http://proxy.example.com:3128",
        "https_proxy": "http://proxy.example.com:3128",
        "NO_PROXY": "localhost",
        "no_proxy": "localhost",
    }
    assert proxy_build_args(None) == {}


@pytest.mark.parametrize(
    ("failure", "progress"),
    [
        (lifecycle.Failure("BuildFailed", "x", None), ("False", "True")),
        (lifecycle.Failure("BuildTimedOut", "x", None), ("False", "True")),
        (lifecycle.Failure("RegistryAuthFailed", "x", 15), ("False", "True")),
        (lifecycle.Failure("InputMissing", "x", 15), ("False", "True")),
        (lifecycle.Failure("RegistryUnavailable", "x", 20), ("True", "False")),
        (lifecycle.Failure("BuildInfrastructureError", "x", 20), ("True", "False")),
    ],
    ids=lambda value: getattr(value, "reason", ""),
)
def test_a_failure_that_needs_a_person_is_stalled_the_rest_reconciling(
    failure: lifecycle.Failure, progress: tuple[str, str]
) -> None:
    conditions = {c["type"]: c["status"] for c in lifecycle.failed({}, 1, failure)["conditions"]}
    assert (conditions["Reconciling"], conditions["Stalled"]) == progress
