"""``kubricks databricks emulate --docker``: a python_wheel_task runs its real entry point in its real image."""

import asyncio
import os
from typing import Any

from kubricks.databricks.client import DatabricksClient
from tests.databricks_support import TOKEN, EmulatorProcess, emulator


def submit_and_wait(
    fake: EmulatorProcess,
    image: str,
    entry_point: str,
    parameters: list[str],
    basic_auth: dict[str, str] | None = None,
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
                    "docker_image": {"url": image, **({"basic_auth": basic_auth} if basic_auth else {})},
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


def registry_login(platform: dict[str, str]) -> dict[str, str]:
    return {
        "username": platform["KUBRICKS_TEST_REGISTRY_USER"],
        "password": platform["KUBRICKS_TEST_REGISTRY_PASSWORD"],
    }


def test_the_entry_point_runs_in_the_image_and_its_exit_code_decides(
    platform: dict[str, str], wordcount_image: str
) -> None:
    image = wordcount_image
    login = registry_login(platform)
    with emulator("--docker", env={**os.environ, "DOCKER_HOST": platform["DOCKER_HOST"]}) as fake:
        fake.faults(pending=0.1)
        succeeded, output = submit_and_wait(fake, image, "wordcount", ["to be or not to be"], login)
        assert succeeded["state"]["result_state"] == "SUCCESS", succeeded
        assert 'WORDCOUNT {"be": 2, "not": 1, "or": 1, "to": 2}' in output["logs"].splitlines()
        assert output["logs_truncated"] is False
        failed, output = submit_and_wait(fake, image, "no-such-entry-point", [], login)
    assert failed["state"]["result_state"] == "FAILED"
    assert "has no entry point 'no-such-entry-point'" in output["error"]


def test_a_private_image_is_pulled_only_with_the_credentials_of_the_payload(
    platform: dict[str, str], wordcount_image: str
) -> None:
    """As on Databricks: without docker_image.basic_auth the cluster cannot pull a private image, whatever the
    engine is logged in to."""
    with emulator("--docker", env={**os.environ, "DOCKER_HOST": platform["DOCKER_HOST"]}) as fake:
        fake.faults(pending=0.1)
        failed, _ = submit_and_wait(fake, wordcount_image, "wordcount", ["to be"])
    assert failed["state"]["result_state"] == "FAILED"
    assert "DOCKER_IMAGE_PULL_FAILURE" in failed["state"]["state_message"]
