"""The models: defaults, normalisation, and the same refusals the API server makes."""

import glob
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from kubricks.api.base import cpu_millicores, memory_bytes
from kubricks.api.crd import KINDS
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob
from tests.invalid_manifests import CASES, DELETE, VALID_WORKSPACE_HOSTS, Invalid, example, patched

MODELS = {kind.KIND: kind for kind in KINDS}
EXAMPLE_FILES = sorted(glob.glob(str(Path(__file__).resolve().parents[2] / "examples" / "*.yaml")))


def all_examples() -> list[dict[str, Any]]:
    return [doc for file in EXAMPLE_FILES for doc in yaml.safe_load_all(Path(file).read_text())]


@pytest.mark.parametrize("manifest", all_examples(), ids=lambda m: f"{m['kind']}/{m['metadata']['name']}")
def test_every_example_is_valid(manifest: dict[str, Any]) -> None:
    MODELS[manifest["kind"]].model_validate(manifest)


def test_examples_cover_every_kind() -> None:
    assert {m["kind"] for m in all_examples()} == set(MODELS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_invalid_manifest_is_refused_naming_the_field(case: Invalid) -> None:
    manifest = case.manifest()
    with pytest.raises(ValidationError) as refused:
        MODELS[manifest["kind"]].model_validate(manifest)
    assert case.field in str(refused.value)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("2Gi", "2g"),
        ("2g", "2g"),
        ("2048m", "2g"),
        ("2048Mi", "2g"),
        ("1536Mi", "1536m"),
        ("0.5g", "512m"),
        ("1.5Gi", "1536m"),
        ("512MB", "512m"),
        ("4G", "4g"),
        ("1t", "1t"),
        ("100k", "100k"),
    ],
)
def test_memory_sizes_are_normalised_to_spark_notation(given: str, normalised: str) -> None:
    job = example("sparkjob-kubernetes-wheel.yaml")
    job["spec"]["kubernetes"]["driver"]["memory"] = given
    assert SparkJob.model_validate(job).spec.kubernetes.driver.memory == normalised  # type: ignore[union-attr]


def test_memory_bytes() -> None:
    assert memory_bytes("1g") == memory_bytes("1Gi") == 1024**3
    assert memory_bytes("384m") == 384 * 1024**2


def test_zero_memory_is_refused() -> None:
    job = example("sparkjob-kubernetes-wheel.yaml")
    job["spec"]["kubernetes"]["driver"]["memory"] = "0m"
    with pytest.raises(ValidationError, match="greater than zero"):
        SparkJob.model_validate(job)


@pytest.mark.parametrize(("spark", "scala"), [("3.5.3", "2.12"), ("4.0.1", "2.13")])
def test_scala_defaults_from_the_spark_version(spark: str, scala: str) -> None:
    image = example("sparkimage-pip.yaml")
    image["spec"]["spark"]["version"] = spark
    assert SparkImage.model_validate(image).spec.spark.scala == scala


def test_defaults_fill_an_empty_kubernetes_target() -> None:
    job = example("sparkjob-databricks-existing-cluster.yaml", "report-adhoc")
    job["spec"].pop("databricks")
    job["spec"]["kubernetes"] = {}
    kubernetes = SparkJob.model_validate(job).spec.kubernetes
    assert kubernetes is not None
    assert (kubernetes.executor.instances, kubernetes.driver.memory, kubernetes.driver.gpus) == (2, "1g", 0)


def test_spark_source_defaults_to_pip() -> None:
    image = example("sparkimage-databricks.yaml")
    source = SparkImage.model_validate(image).spec.spark.source
    assert source.pip is not None
    assert source.archive is None
    assert source.image is None


def test_serialised_form_uses_json_names_and_omits_unset_fields() -> None:
    job = SparkJob.model_validate(example("sparkjob-kubernetes-wheel.yaml")).to_json()
    assert job["spec"]["app"]["wheel"] == {"packageName": "etl", "entryPoint": "run"}
    assert "databricks" not in job["spec"]
    assert job["spec"]["kubernetes"]["executor"]["memory"] == "512m"
    assert job["spec"]["kubernetes"]["executor"]["coreRequest"] == "250m"
    assert "coreLimit" not in job["spec"]["kubernetes"]["executor"]


@pytest.mark.parametrize(
    "quantity",
    ["250m", "1m", "1000m", "0250m", "1", "2", "16", "0.5", "0.25", "0.001", "0.05", "1.5", "2.125", "00.5"],
)
@pytest.mark.parametrize("field", ["coreRequest", "coreLimit"])
def test_cpu_quantities_are_accepted_as_given(field: str, quantity: str) -> None:
    job = example("sparkjob-kubernetes-jar.yaml")
    job["spec"]["kubernetes"]["executor"] = {"cores": 1, field: quantity}
    if field == "coreLimit":
        job["spec"]["kubernetes"]["executor"]["coreRequest"] = "1m"
    executor = SparkJob.model_validate(job).spec.kubernetes.executor  # type: ignore[union-attr]
    assert getattr(executor, "core_request" if field == "coreRequest" else "core_limit") == quantity


@pytest.mark.parametrize(
    "quantity",
    [
        "0",  # never zero
        "0m",
        "0.0",
        "000",
        "-1",
        "-250m",
        "1.5m",  # no fractions of a millicore
        "0.0005",
        "1.2345",
        ".5",  # a digit before the point
        "1.",
        "250 m",
        " 1",
        "m",
        "",
        "250M",  # M is mega
        "1Gi",
        "1k",
        "1e3",
        "2 cores",
        "0x10",
    ],
)
@pytest.mark.parametrize("field", ["coreRequest", "coreLimit"])
def test_malformed_cpu_quantities_are_refused(field: str, quantity: str) -> None:
    job = example("sparkjob-kubernetes-jar.yaml")
    job["spec"]["kubernetes"]["driver"] = {field: quantity}
    with pytest.raises(ValidationError) as refused:
        SparkJob.model_validate(job)
    assert f"spec.kubernetes.driver.{field}" in str(refused.value)


@pytest.mark.parametrize(
    ("pod", "allowed"),
    [
        ({"coreLimit": "1"}, True),  # cores 1 is the request
        ({"coreLimit": "1000m"}, True),
        ({"coreLimit": "999m"}, False),
        ({"coreLimit": "0.5"}, False),
        ({"cores": 2, "coreLimit": "1.5"}, False),
        ({"cores": 2, "coreLimit": "2"}, True),
        ({"cores": 2, "coreRequest": "500m", "coreLimit": "1"}, True),  # the request, not cores, counts
        ({"cores": 1, "coreRequest": "1500m", "coreLimit": "1.5"}, True),
        ({"cores": 1, "coreRequest": "1500m", "coreLimit": "1.499"}, False),
        ({"coreRequest": "0.1", "coreLimit": "100m"}, True),  # equal, written differently
        ({"coreRequest": "250m", "coreLimit": "0.25"}, True),
        ({"coreRequest": "0.251", "coreLimit": "250m"}, False),
        ({"coreRequest": "3", "coreLimit": "2999m"}, False),
        ({"coreRequest": "250m"}, True),  # no limit at all
    ],
)
@pytest.mark.parametrize("role", ["driver", "executor"])
def test_a_cpu_limit_below_the_request_is_refused(role: str, pod: dict[str, Any], allowed: bool) -> None:
    job = example("sparkjob-kubernetes-jar.yaml")
    job["spec"]["kubernetes"][role] = pod
    if allowed:
        SparkJob.model_validate(job)
        return
    with pytest.raises(ValidationError) as refused:
        SparkJob.model_validate(job)
    (error,) = refused.value.errors()
    assert error["loc"] == ("spec", "kubernetes", role)
    assert "coreLimit must not be below the pod's CPU request" in error["msg"]


@pytest.mark.parametrize(
    ("quantity", "millicores"),
    [("250m", 250), ("0250m", 250), ("1", 1000), ("0.5", 500), ("0.1", 100), ("2.125", 2125), ("0.001", 1)],
)
def test_cpu_millicores(quantity: str, millicores: int) -> None:
    assert cpu_millicores(quantity) == millicores


@pytest.mark.parametrize(
    ("file", "changes"),
    [
        (
            "sparkjob-kubernetes-wheel.yaml",
            {"spec.kubernetes.dynamicAllocation": {"enabled": True, "minExecutors": 2, "maxExecutors": 2}},
        ),
        (
            "sparkjob-kubernetes-wheel.yaml",
            {"spec.kubernetes.driver": {"cores": 1, "coreRequest": "1", "coreLimit": "1", "memory": "512m"}},
        ),
        ("databrickscluster.yaml", {"spec.numWorkers": DELETE, "spec.autoscale": {"minWorkers": 2, "maxWorkers": 2}}),
    ],
    ids=["min-executors-equal-to-max", "cpu-limit-equal-to-request", "min-workers-equal-to-max"],
)
def test_the_edges_of_a_rule_stay_valid(file: str, changes: dict[str, Any]) -> None:
    manifest = patched(example(file), changes)
    MODELS[manifest["kind"]].model_validate(manifest)


@pytest.mark.parametrize("host", VALID_WORKSPACE_HOSTS)
def test_a_workspace_host_that_is_an_origin_is_accepted(host: str) -> None:
    workspace = patched(example("databricksworkspace.yaml", "prod"), {"spec.host": host})
    assert MODELS["DatabricksWorkspace"].model_validate(workspace).spec.host == host  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("file", "changes"),
    [
        ("databrickscluster.yaml", {"spec.registryAuth": {"fromSparkImage": True}}),
        ("databrickscluster.yaml", {"spec.registryAuth": {"secret": "regcred", "fromSparkImage": False}}),
        ("sparkjob-databricks-new-cluster.yaml", {"spec.databricks.registryAuth": {"fromSparkImage": True}}),
    ],
    ids=["cluster-from-image", "cluster-secret-from-image-false", "job-from-image"],
)
def test_registry_credentials_from_the_spark_image_are_an_explicit_choice(file: str, changes: dict[str, Any]) -> None:
    manifest = patched(example(file), changes)
    MODELS[manifest["kind"]].model_validate(manifest)
