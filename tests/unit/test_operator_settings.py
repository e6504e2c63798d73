"""How the operator configures kopf: what it watches, and with which limits."""

import kopf
import pytest
from kopf._cogs.structs import references

from kubricks.operator import configure


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> tuple[kopf.OperatorSettings, kopf.Memo]:
    monkeypatch.setenv("KUBRICKS_MAX_BUILDS", "3")
    monkeypatch.setenv("KUBRICKS_MAX_BUILDS_PER_NAMESPACE", "1")
    settings, memo = kopf.OperatorSettings(), kopf.Memo()
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


def test_build_limits_come_from_the_command_line(configured: tuple[kopf.OperatorSettings, kopf.Memo]) -> None:
    _, memo = configured
    assert (memo.build_slots.total, memo.build_slots.per_namespace) == (3, 1)
    memo.build_slots.shutdown()
