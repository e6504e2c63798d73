"""The linters and the type checker are part of the test suite, so a lint error fails CI like a bug."""

import subprocess
from pathlib import Path

import pytest

from tests.support import VENV_BIN

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "operator", "tests"],
        ["ruff", "format", "--check", "operator", "tests"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(command: list[str]) -> None:
    result = subprocess.run(
        [str(VENV_BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
