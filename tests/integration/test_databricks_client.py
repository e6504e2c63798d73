"""The async Databricks client against the emulator over real HTTP: auth, retries, errors, states."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from kubricks.databricks.client import MAX_RESPONSE_BYTES, DatabricksClient, OAuthClient
from kubricks.databricks.errors import (
    MESSAGE_LIMIT,
    InvalidRequest,
    NotFound,
    ResponseTooLarge,
    ServerError,
    Unauthenticated,
)
from kubricks.emulator.databricks import OTHER_PATHS, OVERSIZED_ANSWER_BYTES
from tests.databricks_support import CONTROL_AUTH, OAUTH_CLIENT, TOKEN, EmulatorProcess, emulator

T = TypeVar("T")
SUBMIT = "POST /api/2.2/jobs/runs/submit"


def body(idempotency: str = "t-1", **task: Any) -> dict[str, Any]:
    run_task = {
        "task_key": "etl",
        "new_cluster": {
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "Standard_DS3_v2",
            "num_workers": 1,
            "docker_image": {"url": "registry.example.com/etl@sha256:" + "a" * 64},
        },
        "python_wheel_task": {"package_name": "etl", "entry_point": "run"},
        **task,
    }
    return {"run_name": "test", "idempotency_token": idempotency, "tasks": [run_task]}


@pytest.fixture
def fake() -> Iterator[EmulatorProcess]:
    with emulator() as process:
        process.faults(pending=0.3, running=0.6, terminating=0.2, cluster_pending=0.5)
        yield process


def with_client(fake: EmulatorProcess, use: Callable[[DatabricksClient], Awaitable[T]], **options: Any) -> T:
    async def run() -> T:
        async with DatabricksClient(fake.url, **({"token": TOKEN} | options)) as client:
            return await use(client)

    return asyncio.run(run())


async def until_terminated(client: DatabricksClient, run_id: int) -> dict[str, Any]:
    for _ in range(100):
        run = await client.get_run(run_id)
        if run["state"]["life_cycle_state"] == "TERMINATED":
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not terminate")


def test_a_run_moves_through_its_states_to_success(fake: EmulatorProcess) -> None:
    async def use(client: DatabricksClient) -> tuple[list[str], dict[str, Any]]:
        run_id = await client.submit_run(body())
        seen = []
        for _ in range(100):
            run = await client.get_run(run_id)
            if not seen or seen[-1] != run["state"]["life_cycle_state"]:
                seen.append(run["state"]["life_cycle_state"])
            if seen[-1] == "TERMINATED":
                return seen, run
            await asyncio.sleep(0.05)
        raise AssertionError(seen)

    seen, run = with_client(fake, use)
    assert seen == ["PENDING", "RUNNING", "TERMINATED"]
    assert run["state"]["result_state"] == "SUCCESS"
    assert run["run_page_url"].startswith(fake.url)
    assert run["tasks"][0]["cluster_instance"]["cluster_id"]


def test_the_same_idempotency_token_returns_the_same_run(fake: EmulatorProcess) -> None:
    async def use(client: DatabricksClient) -> tuple[int, int, int]:
        return (
            await client.submit_run(body("same")),
            await client.submit_run(body("same")),
            await client.submit_run(body("other")),
        )

    first, again, other = with_client(fake, use)
    assert first == again != other


def test_rate_limits_are_retried_after_retry_after(fake: EmulatorProcess) -> None:
    fake.faults(rate_limit=2, retry_after=1)
    started = time.monotonic()
    run_id = with_client(fake, lambda client: client.submit_run(body()))
    assert run_id > 0
    assert time.monotonic() - started >= 2.0, "each 429 waited its Retry-After"
    assert fake.requests()[SUBMIT] == 3


def test_server_errors_are_retried_then_given_up(fake: EmulatorProcess) -> None:
    fake.faults(server_errors=2)
    assert with_client(fake, lambda client: client.submit_run(body()), backoff=0.05) > 0
    fake.faults(server_errors=10)
    with pytest.raises(ServerError) as failed:
        with_client(fake, lambda client: client.submit_run(body("t-2")), backoff=0.05, max_attempts=3)
    assert failed.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert fake.requests()[SUBMIT] == 3 + 3


def test_an_unknown_run_is_not_found_although_databricks_says_400(fake: EmulatorProcess) -> None:
    with pytest.raises(NotFound) as missing:
        with_client(fake, lambda client: client.get_run(424242))
    assert (missing.value.status, missing.value.error_code) == (400, "INVALID_PARAMETER_VALUE")


def test_a_wrong_token_is_refused(fake: EmulatorProcess) -> None:
    with pytest.raises(Unauthenticated):
        with_client(fake, lambda client: client.current_user(), token="dapi-wrong")


def test_oauth_m2m_token_is_fetched_once_and_reused(fake: EmulatorProcess) -> None:
    oauth = OAuthClient(*OAUTH_CLIENT)

    async def use(client: DatabricksClient) -> None:
        for _ in range(3):
            await client.current_user()

    async def run() -> None:
        async with DatabricksClient(fake.url, oauth=oauth) as client:
            await use(client)

    asyncio.run(run())
    counts = fake.requests()
    assert counts["POST /oidc/v1/token"] == 1
    assert counts["GET /api/2.0/preview/scim/v2/Me"] == 3
    assert "sp-secret" not in repr(oauth)


def test_wrong_oauth_credentials_are_refused_with_the_reason(fake: EmulatorProcess) -> None:
    async def run() -> None:
        async with DatabricksClient(fake.url, oauth=OAuthClient("kubricks-sp", "nope")) as client:
            await client.current_user()

    with pytest.raises(Unauthenticated, match="refused the client credentials"):
        asyncio.run(run())


def test_a_failed_run_reports_its_error_through_the_task_output(fake: EmulatorProcess) -> None:
    fake.faults(fail_runs=True)

    async def use(client: DatabricksClient) -> tuple[dict[str, Any], dict[str, Any]]:
        run = await until_terminated(client, await client.submit_run(body()))
        return run, await client.get_run_output(run["tasks"][0]["run_id"])

    run, output = with_client(fake, use)
    assert run["state"]["result_state"] == "FAILED"
    assert output["error"] == "Task failed"


def test_a_cancelled_run_ends_canceled(fake: EmulatorProcess) -> None:
    async def use(client: DatabricksClient) -> dict[str, Any]:
        run_id = await client.submit_run(body())
        await client.cancel_run(run_id)
        return await until_terminated(client, run_id)

    assert with_client(fake, use)["state"]["result_state"] == "CANCELED"


def test_clusters_are_created_edited_only_when_allowed_and_deleted(fake: EmulatorProcess) -> None:
    spec = {"cluster_name": "etl", **body()["tasks"][0]["new_cluster"]}

    async def use(client: DatabricksClient) -> list[str]:
        cluster_id = await client.create_cluster(spec)
        states = [(await client.get_cluster(cluster_id))["state"]]
        with pytest.raises(InvalidRequest, match="unexpected state PENDING"):
            await client.edit_cluster({"cluster_id": cluster_id, **spec, "num_workers": 2})
        await asyncio.sleep(0.6)
        states.append((await client.get_cluster(cluster_id))["state"])
        await client.edit_cluster({"cluster_id": cluster_id, **spec, "num_workers": 2})
        assert (await client.get_cluster(cluster_id))["num_workers"] == 2
        await client.terminate_cluster(cluster_id)
        await asyncio.sleep(0.3)
        states.append((await client.get_cluster(cluster_id))["state"])
        await client.permanently_delete_cluster(cluster_id)
        with pytest.raises(NotFound):
            await client.get_cluster(cluster_id)
        return states

    assert with_client(fake, use) == ["PENDING", "RUNNING", "TERMINATED"]


def test_container_services_setting(fake: EmulatorProcess) -> None:
    assert with_client(fake, lambda client: client.workspace_conf("enableDcs")) == {"enableDcs": "true"}
    fake.faults(enableDcs=False)
    assert with_client(fake, lambda client: client.workspace_conf("enableDcs")) == {"enableDcs": "false"}


def test_credentials_never_reach_the_logs(fake: EmulatorProcess, caplog: pytest.LogCaptureFixture) -> None:
    fake.faults(server_errors=1, rate_limit=1, retry_after=0)
    with caplog.at_level(logging.DEBUG):
        with_client(fake, lambda client: client.submit_run(body()), backoff=0.01)
        asyncio.run(_oauth_call(fake))
    assert caplog.records, "the retries were logged"
    assert TOKEN not in caplog.text
    assert OAUTH_CLIENT[1] not in caplog.text


async def _oauth_call(fake: EmulatorProcess) -> None:
    async with DatabricksClient(fake.url, oauth=OAuthClient(*OAUTH_CLIENT)) as client:
        await client.current_user()


def test_a_run_past_its_timeout_ends_timedout(fake: EmulatorProcess) -> None:
    fake.faults(running=30.0)

    async def use(client: DatabricksClient) -> dict[str, Any]:
        return await until_terminated(client, await client.submit_run({**body(), "timeout_seconds": 1}))

    run = with_client(fake, use)
    assert run["state"]["result_state"] == "TIMEDOUT"


def test_an_oversized_answer_is_refused_without_reading_it_all_nor_retrying(fake: EmulatorProcess) -> None:
    assert OVERSIZED_ANSWER_BYTES > MAX_RESPONSE_BYTES
    fake.faults(oversized_answers=1)
    with pytest.raises(ResponseTooLarge, match=f"more than {MAX_RESPONSE_BYTES} bytes"):
        with_client(fake, lambda client: client.current_user())
    assert fake.requests()["GET /api/2.0/preview/scim/v2/Me"] == 1, "a refused answer is not asked for again"
    assert with_client(fake, lambda client: client.current_user())["userName"]


def test_a_long_error_message_is_cut_before_it_reaches_status(fake: EmulatorProcess) -> None:
    with pytest.raises(NotFound) as missing:
        with_client(fake, lambda client: client.get_cluster("x" * 4000))
    assert len(missing.value.message) <= MESSAGE_LIMIT
    assert missing.value.message.startswith("Cluster xxx")
    assert missing.value.message.endswith("more characters)")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/emulator/requests"), ("GET", "/emulator/runs"), ("POST", "/emulator/faults")],
)
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer dapi-wrong"}, 401), (CONTROL_AUTH, 200)],
    ids=["no-token", "wrong-token", "api-token"],
)
def test_the_emulators_controls_take_the_apis_tokens(
    fake: EmulatorProcess, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    answer = httpx.request(method, f"{fake.url}{path}", headers=headers, json={} if method == "POST" else None)
    assert answer.status_code == status, answer.text


def test_requests_to_paths_the_api_does_not_have_share_one_counter(fake: EmulatorProcess) -> None:
    for number in range(20):
        httpx.get(f"{fake.url}/api/2.0/unknown/{number}", headers=CONTROL_AUTH)
    httpx.delete(f"{fake.url}/api/2.2/jobs/runs/submit", headers=CONTROL_AUTH)
    with_client(fake, lambda client: client.current_user())
    assert fake.requests() == {OTHER_PATHS: 21, "GET /api/2.0/preview/scim/v2/Me": 1}
