"""The architecture's import rule: pure builders do no I/O (images/lifecycle.py is not listed: it still
classifies the exception types of the clients it sits between)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "kubricks"
PURE = [
    "api",
    "spark",
    "jobs.py",
    "databricks/payloads.py",
    "databricks/state.py",
    "databricks/cluster_state.py",
    "databricks/errors.py",
    "images/render.py",
    "k8s/conditions.py",
    "k8s/yamlio.py",
    "dev/config.py",
]
"""Spec in, manifests / Dockerfile / REST payload out: no clients, no processes, no sockets."""
SIDE_EFFECTS = (
    "kopf",
    "kubernetes",
    "docker",
    "httpx",
    "aiohttp",
    "subprocess",
    "socket",
    "kubricks.k8s.client",
    "kubricks.images.backend",
    "kubricks.images.registry",
    "kubricks.images.check",
    "kubricks.databricks.client",
    "kubricks.databricks.emulator",
    "kubricks.dev.cluster",
    "kubricks.handlers",
)


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def pure_files() -> list[Path]:
    files: list[Path] = []
    for entry in PURE:
        path = PACKAGE / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_builders_do_no_io(path: Path) -> None:
    forbidden = {m for m in imported_modules(path) for s in SIDE_EFFECTS if m == s or m.startswith(f"{s}.")}
    assert not forbidden, f"{path.name} is a pure builder but imports {sorted(forbidden)}"
