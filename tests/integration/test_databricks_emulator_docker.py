"""``kubricks databricks emulate --docker``: a python_wheel_task runs its real entry point in its real image."""

import asyncio
import os
import uuid
from typing import Any

import pytest

from kubricks.databricks.client import DatabricksClient
from tests.databricks_support import TOKEN, EmulatorProcess, emulator
from tests.image_support import build, spark_image_spec


@pytest.fixture(scope="module")
def image(platform: dict[str, str]) -> str:
    """The wordcount app built as a Databricks-compatible image (the layer cache makes this quick)."""
    outcome = build(platform, spark_image_spec(platform, f"tests/dbx-{uuid.uuid4().hex[:8]}"))
    built = outcome.images[0]
    return f"{built.ref.rsplit(':', 1)[0]}@{built.digest}"


def submit_and_wait(
    fake: EmulatorProcess, image: str, entry_point: str, parameters: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {
        "run_name": "docker",
        "tasks": [
            {
                "task_key": "wordcount",
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "local",
                    "num_workers": 0,
                    "docker_image": {"url": image},
                },
                "python_wheel_task": {
                    "package_name": "wordcount",
                    "entry_point": entry_point,
                    "parameters": parameters,
                },
            }
        ],
    }

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with DatabricksClient(fake.url, token=TOKEN) as client:
            run_id = await client.submit_run(body)
            for _ in range(600):
                run = await client.get_run(run_id)
                if run["state"]["life_cycle_state"] == "TERMINATED":
                    return run, await client.get_run_output(run["tasks"][0]["run_id"])
                await asyncio.sleep(0.5)
        raise AssertionError("the run did not end")

    return asyncio.run(run())


def test_the_entry_point_runs_in_the_image_and_its_exit_code_decides(platform: dict[str, str], image: str) -> None:
    with emulator("--docker", env={**os.environ, "DOCKER_HOST": platform["DOCKER_HOST"]}) as fake:
        fake.faults(pending=0.1)
        succeeded, _ = submit_and_wait(fake, image, "wordcount", ["to be or not to be"])
        assert succeeded["state"]["result_state"] == "SUCCESS", succeeded
        failed, output = submit_and_wait(fake, image, "no-such-entry-point", [])
    assert failed["state"]["result_state"] == "FAILED"
    assert "has no entry point 'no-such-entry-point'" in output["error"]
