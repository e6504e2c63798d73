"""The names, labels and owner of one attempt's objects: deterministic, so a restarted operator finds what it
made. Pure."""

import hashlib
from dataclasses import dataclass
from typing import Any

from kubricks.api.crd import GROUP, VERSION
from kubricks.api.sparkjob import SparkJob

JOB_LABEL = f"{GROUP}/sparkjob"
ATTEMPT_LABEL = f"{GROUP}/attempt"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubricks"}
SERVICE_NAME_LIMIT = 63


@dataclass(frozen=True)
class Attempt:
    """Names of one attempt's resources; deterministic, so a restarted operator finds what it made."""

    job: str
    namespace: str
    uid: str
    number: int

    @property
    def app_id(self) -> str:
        """Spark's application id, also the spark-app-selector label of the driver and the executors."""
        return "spark-" + hashlib.sha256(f"{self.uid}/{self.number}".encode()).hexdigest()[:32]

    @property
    def prefix(self) -> str:
        """The resource name prefix; short enough that ``<prefix>-driver-svc`` is a valid Service name."""
        suffix = f"-{self.number}-{self.app_id[6:14]}"
        room = SERVICE_NAME_LIMIT - len("-driver-svc") - len(suffix)
        return self.job[:room].rstrip("-.") + suffix

    @property
    def driver_pod(self) -> str:
        return f"{self.prefix}-driver"

    @property
    def service(self) -> str:
        return f"{self.prefix}-driver-svc"

    @property
    def config_map(self) -> str:
        return f"{self.prefix}-conf"


def owner_reference(job: SparkJob, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SparkJob",
        "name": job.metadata["name"],
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def attempt_metadata(
    name: str, attempt: Attempt, owner: dict[str, Any], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": attempt.namespace,
        "labels": {**MANAGED_BY, JOB_LABEL: attempt.job, ATTEMPT_LABEL: str(attempt.number), **(labels or {})},
        "ownerReferences": [owner],
    }
