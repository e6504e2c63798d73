"""The shell helpers of hack/: a failed step stops the steps after it, even where bash ignores set -e."""

import subprocess
from pathlib import Path

HACK = Path(__file__).resolve().parents[2] / "hack"


def run_bash(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {HACK}/lib/common.sh; {script}"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def test_run_logged_stops_at_the_first_failed_step_and_says_how_to_fix_it(tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    script = f"steps() {{ echo first; false; echo second; }}; run_logged {log} 'the steps failed' 'try again' steps"
    result = run_bash(script, tmp_path)
    assert result.returncode == 1
    assert "error: the steps failed" in result.stderr
    assert "fix:   try again" in result.stderr
    assert log.read_text() == "first\n"


def test_run_logged_stops_the_steps_even_inside_a_command_substitution(tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    script = f"steps() {{ false; echo second; }}; value=$(run_logged {log} failed fix steps; echo after); echo $value"
    result = run_bash(script, tmp_path)
    assert "second" not in log.read_text()
    assert "error: failed" in result.stderr


def test_run_logged_returns_quietly_when_every_step_passes(tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    result = run_bash(f"steps() {{ echo one; echo two; }}; run_logged {log} failed fix steps; echo done", tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", "")
    assert log.read_text() == "one\ntwo\n"
