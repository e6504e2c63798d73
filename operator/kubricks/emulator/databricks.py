"""An emulator of the Databricks REST API (the parts kubricks uses), for tests and as a local sandbox.

Runs and clusters move through their documented states as time passes; requests are authenticated
(personal access tokens, OAuth M2M client credentials); idempotency tokens are honoured; errors come in
Databricks' shape, including the 400 INVALID_PARAMETER_VALUE that a missing run or cluster gets.

Faults are switched on through ``POST /emulator/faults`` (rate limits, server errors, slow responses,
failing runs, oversized answers); ``GET /emulator/requests`` counts the requests by endpoint (every path the
API does not have as "other") and ``GET /emulator/runs`` lists the runs. These controls take the same
bearer tokens as the API. With ``docker_host`` set, a
``python_wheel_task`` really runs its entry point inside the job's image and its exit code decides the
run's result.
"""

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import docker
from aiohttp import web

from kubricks.images.outcomes import RegistryError
from kubricks.images.registry import RegistryClient, parse_image

RUN_STATES = ("PENDING", "RUNNING", "TERMINATING", "TERMINATED")
CLUSTER_EDITABLE = ("RUNNING", "TERMINATED")
LOGS_LIMIT_BYTES = 5 * 2**20
"""runs/get-output returns at most the last 5 MB of a task's logs, as Databricks does."""
OVERSIZED_ANSWER_BYTES = 16 * 2**20
"""The body of an oversized answer: twice what kubricks' client reads."""
OTHER_PATHS = "other"
"""The one request counter of every path the API does not have, so that counting needs no unbounded memory."""


@dataclass
class Timings:
    """Seconds each state lasts; the emulator advances states as time passes."""

    pending: float = 1.0
    running: float = 2.0
    terminating: float = 0.5
    cluster_pending: float = 1.0


@dataclass
class Faults:
    rate_limit: int = 0
    """The next N requests get 429 with Retry-After."""
    retry_after: int = 1
    server_errors: int = 0
    """The next N requests get 503."""
    delay: float = 0.0
    """Seconds every response waits."""
    fail_runs: bool = False
    """Runs end FAILED with an error in runs/get-output."""
    lost_creates: int = 0
    """The next N clusters/create calls make the cluster, then answer 503 as if the answer were lost."""
    oversized_answers: int = 0
    """The next N requests get 200 with a body of OVERSIZED_ANSWER_BYTES, streamed without a length."""


class ImagePullFailed(Exception):
    """The run's image could not be pulled with the credentials of its payload."""


@dataclass
class Run:
    run_id: int
    task_run_id: int
    body: dict[str, Any]
    cluster_id: str
    submitted: float
    fails: bool
    cancelled_at: float | None = None
    outcome: tuple[str, str] | None = None
    """(result_state, error) once known, from the Docker execution or the fault switch."""
    logs: str = ""
    """What the task wrote to stdout and stderr (Docker executions only)."""


@dataclass
class Cluster:
    cluster_id: str
    spec: dict[str, Any]
    started: float
    terminated_at: float | None = None
    deleted: bool = False
    termination_reason: dict[str, Any] | None = None


@dataclass
class EmulatorState:
    tokens: set[str] = field(default_factory=set)
    oauth_clients: dict[str, str] = field(default_factory=dict)
    issued: dict[str, float] = field(default_factory=dict)
    """OAuth access token → expiry time."""
    settings: dict[str, str] = field(default_factory=lambda: {"enableDcs": "true"})
    runs: dict[int, Run] = field(default_factory=dict)
    idempotency: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    faults: Faults = field(default_factory=Faults)
    timings: Timings = field(default_factory=Timings)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1001))  # type: ignore[type-arg]


async def oversized_answer(request: web.Request) -> web.StreamResponse:
    """A 200 of OVERSIZED_ANSWER_BYTES in chunks without a Content-Length, as a hostile host could send; the
    client hanging up part way is what is expected."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    chunk = b" " * 2**20
    with contextlib.suppress(ConnectionResetError):
        for _ in range(OVERSIZED_ANSWER_BYTES // len(chunk)):
            await response.write(chunk)
        await response.write_eof()
    return response


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error_code": code, "message": message}, status=status, headers=headers)


def invalid(message: str) -> web.Response:
    return error(400, "INVALID_PARAMETER_VALUE", message)


class Emulator:
    def __init__(self, state: EmulatorState, host: str, docker_host: str | None = None) -> None:
        self.state = state
        self.host = host.rstrip("/")
        self.docker_host = docker_host

    # --- plumbing -----------------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        state = self.state
        if request.path.startswith("/emulator/"):
            if not self.authenticated(request):
                return error(401, "UNAUTHENTICATED", "The emulator's controls take the API's bearer tokens.")
            return await handler(request)  # type: ignore[no-any-return]
        known = request.match_info.http_exception is None
        state.requests[f"{request.method} {request.path}" if known else OTHER_PATHS] += 1
        if state.faults.delay:
            await asyncio.sleep(state.faults.delay)
        if state.faults.rate_limit > 0:
            state.faults.rate_limit -= 1
            return error(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                "Too many requests. Please wait a moment and try again.",
                {"Retry-After": str(state.faults.retry_after)},
            )
        if state.faults.server_errors > 0:
            state.faults.server_errors -= 1
            return error(503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable.")
        if state.faults.oversized_answers > 0:
            state.faults.oversized_answers -= 1
            return await oversized_answer(request)
        if request.path != "/oidc/v1/token" and not self.authenticated(request):
            return error(401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
        return await handler(request)  # type: ignore[no-any-return]

    def authenticated(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ")
        return token in self.state.tokens or self.state.issued.get(token, 0) > time.monotonic()

    async def json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request")
        return body if isinstance(body, dict) else error(400, "MALFORMED_REQUEST", "Expected a JSON object")

    # --- auth and workspace --------------------------------------------------------------------------

    async def oauth_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        auth = request.headers.get("Authorization", "")
        client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.state.oauth_clients.get(client_id) != client_secret or not client_secret:
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"}, status=401
            )
        token = secrets.token_urlsafe(24)
        self.state.issued[token] = time.monotonic() + 3600
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "all-apis"}
        )

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response({"id": "1", "userName": "kubricks@example.com", "active": True})

    async def workspace_conf(self, request: web.Request) -> web.Response:
        if request.method == "PATCH":
            body = await self.json_body(request)
            if isinstance(body, web.Response):
                return body
            self.state.settings.update({k: str(v) for k, v in body.items()})
            return web.Response(status=204)
        keys = [k for k in request.query.get("keys", "").split(",") if k]
        unknown = [k for k in keys if k not in self.state.settings]
        if unknown:
            return invalid(f"Invalid keys: {unknown}")
        return web.json_response({k: self.state.settings[k] for k in keys})

    # --- runs ----------------------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        body = await self.json_body(request)
        if isinstance(body, web.Response):
            return body
        token = body.get("idempotency_token")
        if token and token in self.state.idempotency:
            return web.json_response({"run_id": self.state.idempotency[token]})
        tasks = body.get("tasks") or []
        if len(tasks) != 1:
            return invalid("kubricks' emulator runs exactly one task per submitted run")
        task = tasks[0]
        if not task.get("task_key"):
            return invalid("Task key must be set")
        kinds = [k for k in ("python_wheel_task", "spark_python_task", "spark_jar_task") if k in task]
        if len(kinds) != 1:
            return invalid("Exactly one task type must be set")
        if "new_cluster" in task:
            cluster_id = self.new_cluster_id()
            self.state.clusters[cluster_id] = Cluster(cluster_id, dict(task["new_cluster"]), time.monotonic())
        elif task.get("existing_cluster_id") in self.state.clusters:
            cluster_id = task["existing_cluster_id"]
            if self.state.clusters[cluster_id].deleted:
                return invalid(f"Cluster {cluster_id} does not exist")
        else:
            return invalid(f"Cluster {task.get('existing_cluster_id')} does not exist")
        run_id, task_run_id = next(self.state.ids), next(self.state.ids)
        run = Run(run_id, task_run_id, body, cluster_id, time.monotonic(), self.state.faults.fail_runs)
        self.state.runs[run_id] = run
        if token:
            self.state.idempotency[token] = run_id
        if self.docker_host and "python_wheel_task" in task and "new_cluster" in task:
            asyncio.get_running_loop().create_task(self.execute(run))
        return web.json_response({"run_id": run_id})

    def new_cluster_id(self) -> str:
        return f"{time.strftime('%m%d')}-{secrets.randbelow(10**6):06d}-{secrets.token_hex(4)}"

    def lookup_run(self, request: web.Request) -> Run | web.Response:
        try:
            run_id = int(request.query.get("run_id", ""))
        except ValueError:
            return invalid("Missing required field: run_id")
        run = self.state.runs.get(run_id) or next(
            (r for r in self.state.runs.values() if r.task_run_id == run_id), None
        )
        return run if run else invalid(f"Run {run_id} does not exist.")

    def run_state(self, run: Run) -> tuple[str, str | None, str]:
        now, timings = time.monotonic(), self.state.timings
        if run.cancelled_at is not None:
            if now - run.cancelled_at < timings.terminating:
                return "TERMINATING", None, "Run cancellation requested"
            return "TERMINATED", "CANCELED", "Run cancelled."
        elapsed = now - run.submitted
        timeout = run.body.get("timeout_seconds") or 0
        if timeout and elapsed > timeout and run.outcome is None:
            return "TERMINATED", "TIMEDOUT", f"Run timed out after {timeout} seconds"
        if elapsed < timings.pending:
            return "PENDING", None, "Waiting for cluster"
        if run.outcome is None and (self.docker_host_runs(run) or elapsed < timings.pending + timings.running):
            return "RUNNING", None, "In run"
        result, message = run.outcome or (("FAILED", "Task failed") if run.fails else ("SUCCESS", ""))
        return "TERMINATED", result, message

    def docker_host_runs(self, run: Run) -> bool:
        return bool(self.docker_host) and "python_wheel_task" in run.body["tasks"][0] and run.outcome is None

    def run_json(self, run: Run) -> dict[str, Any]:
        life_cycle, result, message = self.run_state(run)
        state: dict[str, Any] = {"life_cycle_state": life_cycle, "state_message": message}
        if result:
            state["result_state"] = result
        task = run.body["tasks"][0]
        cluster = {"cluster_id": run.cluster_id, "spark_context_id": str(run.run_id * 7919)}
        return {
            "job_id": run.run_id,
            "run_id": run.run_id,
            "run_name": run.body.get("run_name", "Untitled"),
            "run_type": "SUBMIT_RUN",
            "state": state,
            "run_page_url": f"{self.host}/?o=1234567890#job/{run.run_id}/run/{run.run_id}",
            "cluster_instance": cluster,
            "tasks": [
                {
                    "run_id": run.task_run_id,
                    "task_key": task["task_key"],
                    "state": state,
                    "cluster_instance": cluster,
                }
            ],
        }

    async def get_run(self, request: web.Request) -> web.Response:
        run = self.lookup_run(request)
        return run if isinstance(run, web.Response) else web.json_response(self.run_json(run))

    async def get_output(self, request: web.Request) -> web.Response:
        run = self.lookup_run(request)
        if isinstance(run, web.Response):
            return run
        if run.run_id == int(request.query["run_id"]):
            return invalid(
                "Retrieving the output of runs with multiple tasks is not supported. "
                "Please retrieve the output of each individual task run instead."
            )
        _, result, message = self.run_state(run)
        output: dict[str, Any] = {"metadata": self.run_json(run)}
        if result == "FAILED":
            output["error"] = message
            output["error_trace"] = f"Traceback (most recent call last):\n  ...\n{message}"
        if run.logs:
            output["logs"] = run.logs[-LOGS_LIMIT_BYTES:]
            output["logs_truncated"] = len(run.logs) > LOGS_LIMIT_BYTES
        return web.json_response(output)

    async def cancel(self, request: web.Request) -> web.Response:
        body = await self.json_body(request)
        if isinstance(body, web.Response):
            return body
        run = self.state.runs.get(int(body.get("run_id") or 0))
        if run is None:
            return invalid(f"Run {body.get('run_id')} does not exist.")
        if self.run_state(run)[0] != "TERMINATED" and run.cancelled_at is None:
            run.cancelled_at = time.monotonic()
        return web.json_response({})

    async def execute(self, run: Run) -> None:
        """Runs a python_wheel_task's entry point in the job's image, ignoring ENTRYPOINT as Databricks does."""
        task = run.body["tasks"][0]
        wheel = task["python_wheel_task"]
        image = task["new_cluster"]["docker_image"]["url"]
        basic_auth = task["new_cluster"]["docker_image"].get("basic_auth")
        # As a Databricks cluster does: the image is pulled with the payload's credentials, or anonymously.
        auth_config = {"username": basic_auth["username"], "password": basic_auth["password"]} if basic_auth else {}
        # Databricks puts its own pyspark on the path; the emulator stands in with the image's Spark.
        launch = (
            "source /opt/kubricks/bin/spark-env && exec /databricks/python3/bin/python "
            '/opt/kubricks/bin/run-entry-point.py "$@"'
        )
        entrypoint = ["bash", "-c", launch, "run-entry-point"]
        arguments = [wheel["package_name"], wheel["entry_point"], *wheel.get("parameters", [])]

        def run_container() -> tuple[int, str]:
            client = docker.DockerClient(base_url=self.docker_host)
            try:
                client.images.pull(image, auth_config=auth_config)
            except docker.errors.APIError as failure:
                raise ImagePullFailed(failure.explanation or str(failure)) from None
            container = client.containers.run(image, arguments, entrypoint=entrypoint, detach=True)
            try:
                status = container.wait(timeout=3600)
                return int(status["StatusCode"]), container.logs().decode(errors="replace")
            finally:
                container.remove(force=True)

        try:
            await self.check_access(image, basic_auth)
            code, logs = await asyncio.to_thread(run_container)
        except ImagePullFailed as failure:
            run.outcome = (
                "FAILED",
                f"Cluster terminated. Reason: Docker image pull failure (DOCKER_IMAGE_PULL_FAILURE): {failure}",
            )
            return
        except Exception as failure:
            run.outcome = ("FAILED", f"Could not start the container: {failure}")
            return
        run.logs = logs
        run.outcome = ("SUCCESS", "") if code == 0 else ("FAILED", f"exit code {code}: {logs.strip()[-2000:]}")

    @staticmethod
    async def check_access(image: str, basic_auth: dict[str, str] | None) -> None:
        """Asks the registry, as a cluster's pull would: an engine answers a pull by digest from its own store
        without asking the registry, whatever the credentials."""
        registry = parse_image(image).registry
        credentials = {registry: (basic_auth["username"], basic_auth["password"])} if basic_auth else {}
        try:
            found = await RegistryClient(credentials).manifest(image)
        except RegistryError as failure:
            raise ImagePullFailed(str(failure)) from None
        if found is None:
            raise ImagePullFailed(f"{image} does not exist in its registry")

    # --- clusters ------------------------------------------------------------------------------------

    def cluster_state(self, cluster: Cluster) -> str:
        now = time.monotonic()
        if cluster.terminated_at is not None:
            return "TERMINATING" if now - cluster.terminated_at < self.state.timings.terminating else "TERMINATED"
        return "PENDING" if now - cluster.started < self.state.timings.cluster_pending else "RUNNING"

    def cluster_json(self, cluster: Cluster) -> dict[str, Any]:
        details = {**cluster.spec, "cluster_id": cluster.cluster_id, "state": self.cluster_state(cluster)}
        details["state_message"] = {"PENDING": "Starting Spark", "RUNNING": "", "TERMINATING": "", "TERMINATED": ""}[
            details["state"]
        ]
        if cluster.termination_reason and details["state"] == "TERMINATED":
            details["termination_reason"] = cluster.termination_reason
        return details

    async def cluster_in_body(self, request: web.Request) -> Cluster | web.Response:
        """The live cluster a POST body names by cluster_id, or the error response."""
        body = await self.json_body(request)
        return body if isinstance(body, web.Response) else self.lookup_cluster(body.get("cluster_id"))

    def lookup_cluster(self, cluster_id: str | None) -> Cluster | web.Response:
        cluster = self.state.clusters.get(cluster_id or "")
        if cluster is None or cluster.deleted:
            return invalid(f"Cluster {cluster_id} does not exist")
        return cluster

    async def create_cluster(self, request: web.Request) -> web.Response:
        body = await self.json_body(request)
        if isinstance(body, web.Response):
            return body
        if not body.get("spark_version"):
            return invalid("Missing required field: spark_version")
        cluster_id = self.new_cluster_id()
        self.state.clusters[cluster_id] = Cluster(cluster_id, body, time.monotonic())
        if self.state.faults.lost_creates > 0:
            self.state.faults.lost_creates -= 1
            return error(503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable.")
        return web.json_response({"cluster_id": cluster_id})

    async def edit_cluster(self, request: web.Request) -> web.Response:
        body = await self.json_body(request)
        if isinstance(body, web.Response):
            return body
        cluster = self.lookup_cluster(body.get("cluster_id"))
        if isinstance(cluster, web.Response):
            return cluster
        state = self.cluster_state(cluster)
        if state not in CLUSTER_EDITABLE:
            return error(400, "INVALID_STATE", f"Cluster {cluster.cluster_id} is in unexpected state {state}.")
        cluster.spec = {k: v for k, v in body.items() if k != "cluster_id"}
        if state == "RUNNING":
            cluster.started = time.monotonic()  # a running cluster restarts to apply the edit
        return web.json_response({})

    async def get_cluster(self, request: web.Request) -> web.Response:
        cluster = self.lookup_cluster(request.query.get("cluster_id"))
        return cluster if isinstance(cluster, web.Response) else web.json_response(self.cluster_json(cluster))

    async def list_clusters(self, request: web.Request) -> web.Response:
        live = [self.cluster_json(c) for c in self.state.clusters.values() if not c.deleted]
        return web.json_response({"clusters": live})

    async def delete_cluster(self, request: web.Request) -> web.Response:
        cluster = await self.cluster_in_body(request)
        if isinstance(cluster, web.Response):
            return cluster
        if cluster.terminated_at is None:
            cluster.terminated_at = time.monotonic()
            cluster.termination_reason = {"code": "USER_REQUEST", "type": "SUCCESS"}
        if request.path.endswith("permanent-delete"):
            cluster.deleted = True
        return web.json_response({})

    async def start_cluster(self, request: web.Request) -> web.Response:
        cluster = await self.cluster_in_body(request)
        if isinstance(cluster, web.Response):
            return cluster
        cluster.terminated_at, cluster.started = None, time.monotonic()
        return web.json_response({})

    # --- the emulator's own controls ---------------------------------------------------------------------

    async def set_faults(self, request: web.Request) -> web.Response:
        body = await self.json_body(request)
        if isinstance(body, web.Response):
            return body
        for key, value in body.items():
            if key in Faults.__dataclass_fields__:
                setattr(self.state.faults, key, value)
            elif key in Timings.__dataclass_fields__:
                setattr(self.state.timings, key, value)
            elif key == "enableDcs":
                self.state.settings["enableDcs"] = str(value).lower()
            elif key == "oauthClients":
                # A rotation in the workspace: the old client secret and every token issued with it stop working.
                self.state.oauth_clients, self.state.issued = dict(value), {}
            elif key == "clusterTerminationReason":
                for cluster in self.state.clusters.values():
                    cluster.terminated_at, cluster.termination_reason = time.monotonic(), value
            else:
                return error(400, "INVALID_PARAMETER_VALUE", f"unknown emulator setting {key}")
        return web.json_response({})

    async def request_counts(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.state.requests))

    async def list_runs(self, request: web.Request) -> web.Response:
        """Every run submitted, with its current state: what a test checks for duplicates and cancels."""
        return web.json_response({"runs": [self.run_json(run) for run in self.state.runs.values()]})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        app.add_routes(
            [
                web.post("/oidc/v1/token", self.oauth_token),
                web.get("/api/2.0/preview/scim/v2/Me", self.me),
                web.get("/api/2.0/workspace-conf", self.workspace_conf),
                web.patch("/api/2.0/workspace-conf", self.workspace_conf),
                web.post("/api/2.2/jobs/runs/submit", self.submit),
                web.get("/api/2.2/jobs/runs/get", self.get_run),
                web.get("/api/2.2/jobs/runs/get-output", self.get_output),
                web.post("/api/2.2/jobs/runs/cancel", self.cancel),
                web.post("/api/2.1/clusters/create", self.create_cluster),
                web.post("/api/2.1/clusters/edit", self.edit_cluster),
                web.get("/api/2.1/clusters/get", self.get_cluster),
                web.get("/api/2.1/clusters/list", self.list_clusters),
                web.post("/api/2.1/clusters/start", self.start_cluster),
                web.post("/api/2.1/clusters/delete", self.delete_cluster),
                web.post("/api/2.1/clusters/permanent-delete", self.delete_cluster),
                web.post("/emulator/faults", self.set_faults),
                web.get("/emulator/requests", self.request_counts),
                web.get("/emulator/runs", self.list_runs),
            ]
        )
        return app


def serve(
    port: int, tokens: list[str], oauth_clients: dict[str, str], docker_host: str | None, host: str = "127.0.0.1"
) -> None:
    state = EmulatorState(tokens=set(tokens), oauth_clients=oauth_clients)
    emulator = Emulator(state, f"http://{host}:{port}", docker_host)
    web.run_app(emulator.app(), host=host, port=port, print=None)
