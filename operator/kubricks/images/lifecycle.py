"""What a SparkImage's status says at each step, and how a failure is classified. Pure."""

from dataclasses import dataclass
from typing import Any

from kubricks.failures import MissingObject, backoff_seconds
from kubricks.images.outcomes import BuildError, BuildOutcome, InputError, RegistryError
from kubricks.k8s.conditions import Progress, ready_reason, with_kstatus
from kubricks.redact import redact_userinfo

WAIT_FOR_FIX_SECONDS = 15.0
"""How often a build waiting for a fixed Secret, ConfigMap or base image tries again."""
MESSAGE_LIMIT = 4000
FIXED_BY_A_PERSON = frozenset({"RegistryAuthFailed", "InputMissing"})
"""Failures retried on their own, that still need someone to fix what the spec names (kstatus: Stalled)."""


@dataclass(frozen=True)
class Failure:
    reason: str
    message: str
    retry_after: float | None
    """Seconds until the next try; None waits for a change of the spec."""

    @property
    def needs_fix(self) -> bool:
        """Only a person can end it: a spec change, or fixing the Secret, ConfigMap or image it names."""
        return self.retry_after is None or self.reason in FIXED_BY_A_PERSON


def backoff(attempt: int) -> float:
    """5, 10, 20, ... seconds after a build's first, second, third ... failure (``attempt`` counts from 0)."""
    return backoff_seconds(attempt + 1, first=5.0)


def classify(error: Exception, attempt: int) -> Failure:
    """What a build's failure means, said without any credential written into a URL."""
    failure = _classify(error, attempt)
    return Failure(failure.reason, redact_userinfo(failure.message), failure.retry_after)


def _classify(error: Exception, attempt: int) -> Failure:
    if isinstance(error, RegistryError):
        if error.refused:
            return Failure(
                "RegistryAuthFailed",
                f"{error}; fix the kubernetes.io/dockerconfigjson Secret named in spec.registry.credentialsSecret",
                WAIT_FOR_FIX_SECONDS,
            )
        return Failure("RegistryUnavailable", str(error), backoff(attempt))
    if isinstance(error, MissingObject | InputError):
        return Failure("InputMissing", str(error), WAIT_FOR_FIX_SECONDS)
    if isinstance(error, BuildError):
        detail = f"{error}\n{error.log_tail}".strip()[-MESSAGE_LIMIT:]
        if error.timed_out:
            return Failure("BuildTimedOut", f"{detail}\nraise spec.build.timeoutSeconds if it needs longer", None)
        if error.retriable:
            return Failure("BuildInfrastructureError", detail, backoff(attempt))
        if "pushing" in str(error):
            return Failure("RegistryAuthFailed", detail, WAIT_FOR_FIX_SECONDS)
        return Failure("BuildFailed", detail, None)
    return Failure("InternalError", f"{type(error).__name__}: {error}", backoff(attempt))


def building(status: dict[str, Any], generation: int, message: str) -> dict[str, Any]:
    return {
        "phase": "Building",
        "message": message[-MESSAGE_LIMIT:],
        "conditions": with_kstatus(
            status.get("conditions"), False, Progress.RECONCILING, "Building", message[-1024:], generation
        ),
    }


def ready(status: dict[str, Any], generation: int, outcome: BuildOutcome) -> dict[str, Any]:
    built = {pushed.ref for pushed in outcome.built}
    summary = ", ".join(
        f"{image.variant} {'built' if image.ref in built else 'already in the registry'}" for image in outcome.images
    )
    message = f"images ready: {summary}"
    return {
        "phase": "Ready",
        "observedGeneration": generation,
        "message": message,
        "inputsHash": outcome.inputs_hash,
        "images": [image.to_json() for image in outcome.images],
        "conditions": with_kstatus(status.get("conditions"), True, Progress.SETTLED, "Built", message, generation),
    }


def failed(status: dict[str, Any], generation: int, failure: Failure) -> dict[str, Any]:
    retry = (
        f" (retrying in {failure.retry_after:.0f}s)" if failure.retry_after is not None else " (fix the spec to retry)"
    )
    return {
        "phase": "Failed",
        "observedGeneration": generation,
        "message": failure.message + retry,
        "conditions": with_kstatus(
            status.get("conditions"),
            False,
            Progress.STALLED if failure.needs_fix else Progress.RECONCILING,
            failure.reason,
            failure.message[-1024:] + retry,
            generation,
        ),
    }


def settled(status: dict[str, Any], generation: int) -> bool:
    """Nothing to do until the spec changes: Ready, or Failed in a way only a spec change can fix."""
    if status.get("observedGeneration") != generation:
        return False
    if status.get("phase") == "Ready":
        return True
    return status.get("phase") == "Failed" and ready_reason(status) in ("BuildFailed", "BuildTimedOut")
