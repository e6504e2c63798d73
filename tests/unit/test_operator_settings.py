"""How the operator configures kopf: what it watches, and with which limits."""

import kopf
import pytest
from kopf._cogs.structs import references

from kubricks.api.crd import KINDS, plural
from kubricks.control.options import OperatorOptions
from kubricks.operator import configure


@pytest.fixture
def configured() -> tuple[kopf.OperatorSettings, kopf.Memo]:
    options = OperatorOptions(max_builds=3, max_builds_per_namespace=1, databricks_allowed_hosts=("*.example.com",))
    settings, memo = kopf.OperatorSettings(), kopf.Memo(options=options)
    configure(settings=settings, memo=memo)
    return settings, memo


@pytest.mark.parametrize(
    ("group", "version", "plural", "selectors"),
    [
        ("", "v1", "pods", ["kubricks.dev/sparkjob"]),
        ("kubricks.dev", "v1alpha1", "sparkjobs", []),
        ("kubricks.dev", "v1alpha1", "sparkimages", []),
    ],
)
def test_the_api_server_sends_only_kubricks_pods(
    configured: tuple[kopf.OperatorSettings, kopf.Memo], group: str, version: str, plural: str, selectors: list[str]
) -> None:
    settings, _ = configured
    resource = references.Resource(group=group, version=version, plural=plural)
    assert list(settings.watching.label_selectors.collect(resource)) == selectors


def test_limits_and_allowed_hosts_come_from_the_command_line(
    configured: tuple[kopf.OperatorSettings, kopf.Memo],
) -> None:
    _, memo = configured
    assert (memo.build_slots.total, memo.build_slots.per_namespace) == (3, 1)
    assert memo.databricks.allowed_hosts == ("*.example.com",)
    memo.build_slots.shutdown()


def test_an_operator_started_without_options_gets_the_defaults() -> None:
    memo = kopf.Memo()
    configure(settings=kopf.OperatorSettings(), memo=memo)
    assert memo.options == OperatorOptions()
    assert (memo.build_slots.total, memo.build_slots.per_namespace) == (4, 2)
    memo.build_slots.shutdown()


def test_every_kind_is_supervised(configured: tuple[kopf.OperatorSettings, kopf.Memo]) -> None:
    _, memo = configured
    assert [getattr(memo, plural(kind)).kind for kind in KINDS] == [kind.KIND for kind in KINDS]
    memo.build_slots.shutdown()
