"""The generated CRDs: in step with the models, structural, described, with the expected names."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubricks.api.base import ApiModel
from kubricks.api.crd import KINDS, crd_file_name, custom_resource_definition, render_yaml
from kubricks.cli import main

CRDS = Path(__file__).resolve().parents[2] / "crds"


def schema_nodes(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, prop in node.get("properties", {}).items():
        yield from schema_nodes(prop, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from schema_nodes(node[key], f"{path}[]")


def openapi_schema(kind: type) -> dict[str, Any]:
    return dict(custom_resource_definition(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def spec_and_status(kind: type) -> Iterator[tuple[str, dict[str, Any]]]:
    schema = openapi_schema(kind)
    for part in ("spec", "status"):
        yield from schema_nodes(schema["properties"][part], part)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.KIND)
def test_crds_directory_matches_the_models(kind: type) -> None:
    committed = (CRDS / crd_file_name(kind)).read_text()
    assert committed == render_yaml([custom_resource_definition(kind)]), "run `make crds` and commit crds/"


def test_no_stray_files_in_crds() -> None:
    assert sorted(p.name for p in CRDS.iterdir()) == sorted(crd_file_name(k) for k in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.KIND)
def test_schema_is_structural(kind: type) -> None:
    for path, node in spec_and_status(kind):
        assert "type" in node, f"{path} has no type"
        for forbidden in ("$ref", "anyOf", "allOf", "oneOf", "nullable", "title"):
            assert forbidden not in node, f"{path} has {forbidden}"
        if "properties" in node:
            assert "additionalProperties" not in node, path


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.KIND)
def test_every_field_has_a_description(kind: type) -> None:
    undescribed = [
        path for path, node in spec_and_status(kind) if not path.endswith("[]") and not node.get("description")
    ]
    assert not undescribed


@pytest.mark.parametrize(
    ("kind", "short_name", "columns"),
    [
        ("SparkImage", "spimg", ["Phase", "Variants", "Image", "Age"]),
        ("SparkJob", "spjob", ["Phase", "Target", "Attempt", "Image", "Age"]),
        ("ScheduledSparkJob", "spsched", ["Schedule", "Suspend", "Last Run", "Next Run", "Active", "Age"]),
        ("DatabricksWorkspace", "dbws", ["Phase", "Host", "Age"]),
        ("DatabricksCluster", "dbcl", ["Phase", "ClusterID", "Age"]),
    ],
)
def test_names_and_printer_columns(kind: str, short_name: str, columns: list[str]) -> None:
    crd = custom_resource_definition(next(k for k in KINDS if kind == k.KIND))
    assert crd["spec"]["names"]["shortNames"] == [short_name]
    assert crd["spec"]["names"]["categories"] == ["kubricks"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == columns


def published_rules() -> list[tuple[str, dict[str, str]]]:
    """Every CEL rule of the CRDs: of the whole object (path ""), and of spec and status."""
    return [
        (path, rule)
        for kind in KINDS
        for path, node in [("", openapi_schema(kind)), *spec_and_status(kind)]
        for rule in node.get("x-kubernetes-validations", [])
    ]


def models(base: type = ApiModel) -> Iterator[type[ApiModel]]:
    for model in base.__subclasses__():
        yield model
        yield from models(model)


def test_every_validation_rule_has_a_message_naming_a_field() -> None:
    rules = published_rules()
    assert len(rules) >= 10, "the CRDs carry the models' CEL rules"
    for path, rule in rules:
        assert re.search(r"\b[a-z][A-Za-z]*(\[\])?\.[a-z][A-Za-z]*", rule["message"]), (path, rule)


def test_every_rule_of_the_models_is_enforced_by_the_api_server_too() -> None:
    declared = {rule.as_validation()["message"]: rule.cel for model in models() for rule in model.rules}
    published = {rule["message"]: rule["rule"] for _, rule in published_rules()}
    assert declared
    assert {message: published.get(message) for message in declared} == declared


def test_cli_prints_all_crds() -> None:
    result = CliRunner().invoke(main, ["crds"])
    assert result.exit_code == 0
    names = [doc["metadata"]["name"] for doc in yaml.safe_load_all(result.output)]
    assert names == [
        "sparkimages.kubricks.dev",
        "sparkjobs.kubricks.dev",
        "scheduledsparkjobs.kubricks.dev",
        "databricksworkspaces.kubricks.dev",
        "databricksclusters.kubricks.dev",
    ]


def test_the_charts_crds_are_the_generated_ones() -> None:
    chart = CRDS.parent / "charts" / "kubricks" / "files" / "crds"
    assert {p.name: p.read_text() for p in chart.iterdir()} == {p.name: p.read_text() for p in CRDS.iterdir()}


def test_chart_and_package_versions_are_in_step() -> None:
    from kubricks import __version__  # noqa: PLC0415

    chart = yaml.safe_load((CRDS.parent / "charts" / "kubricks" / "Chart.yaml").read_text())
    assert chart["version"] == chart["appVersion"] == __version__


def test_a_scheduled_templates_target_may_change_where_a_sparkjobs_may_not() -> None:
    """Each run is a new SparkJob: the template keeps SparkJob's rules but the one that fixes a SparkJob's target."""
    (scheduled,) = [kind for kind in KINDS if kind.KIND == "ScheduledSparkJob"]
    (sparkjob,) = [kind for kind in KINDS if kind.KIND == "SparkJob"]
    template = openapi_schema(scheduled)["properties"]["spec"]["properties"]["template"]
    job_spec = openapi_schema(sparkjob)["properties"]["spec"]
    assert [r for r in job_spec["x-kubernetes-validations"] if "oldSelf" not in r["rule"]] == template[
        "x-kubernetes-validations"
    ]
    assert any("oldSelf" in r["rule"] for r in job_spec["x-kubernetes-validations"])
    assert {k: v for k, v in template.items() if k not in ("description", "x-kubernetes-validations")} == {
        k: v for k, v in job_spec.items() if k not in ("description", "x-kubernetes-validations")
    }
