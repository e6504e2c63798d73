"""`kubricks import` on the kubeflow examples of tests/kubeflow/: the API server accepts every SparkJob it prints
and keeps every field of it. Server-side dry runs only: nothing is created, no operator runs."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from kubricks.api.crd import GROUP, VERSION
from kubricks.api.sparkjob import SparkJob
from tests.support import VENV_BIN

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "kubeflow").glob("*.yaml"))
FIELD_MANAGER = "kubricks-import-test"
OPERATOR_FLAGS = {
    "without-operator-flags": [],
    # A host that the examples' wildcard TLS hosts (*.spark.example.com) cover, whatever the namespace.
    "with-ingress-flags": [
        "--ingress-url-format", "{{$appName}}-{{$appNamespace}}.spark.example.com", "--ingress-class-name", "nginx",
    ],
}  # fmt: skip


def kept(sent: Any, stored: Any) -> bool:
    """Everything sent is stored as it was: the API server may add defaults, but drops or changes nothing."""
    if isinstance(sent, dict):
        return isinstance(stored, dict) and all(key in stored and kept(sent[key], stored[key]) for key in sent)
    if isinstance(sent, list):
        return isinstance(stored, list) and len(sent) == len(stored) and all(map(kept, sent, stored))
    return bool(sent == stored)


@pytest.mark.parametrize("flags", sorted(OPERATOR_FLAGS))
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_the_api_server_accepts_every_sparkjob_import_prints(
    sparkjob_crd: None, api_client: client.ApiClient, namespace: str, example: Path, flags: str
) -> None:
    imported = subprocess.run(
        [str(VENV_BIN / "kubricks"), "import", "-f", str(example), "--namespace", namespace, *OPERATOR_FLAGS[flags]],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    jobs = [d for d in yaml.safe_load_all(imported.stdout) if d and d["kind"] == SparkJob.KIND]
    assert len(jobs) == 1, imported.stdout
    resource = DynamicClient(api_client).resources.get(api_version=f"{GROUP}/{VERSION}", kind=SparkJob.KIND)
    for job in jobs:
        stored = resource.server_side_apply(body=job, field_manager=FIELD_MANAGER, dry_run="All").to_dict()
        assert stored["metadata"]["namespace"] == namespace
        assert kept(job["spec"], stored["spec"]), yaml.safe_dump({"sent": job["spec"], "stored": stored["spec"]})
