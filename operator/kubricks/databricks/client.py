"""An async client of the Databricks REST API on httpx: PAT or OAuth M2M auth, retries with backoff on
connection errors, 5xx and 429 (honouring Retry-After), typed errors. It never logs credentials, and reads at
most max_response_bytes of an answer: the host is the user's choice."""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from kubricks import metrics
from kubricks.bounded_http import TooLarge, read_at_most, total_deadline
from kubricks.databricks.errors import ResponseTooLarge, ServerError, Unauthenticated, error_for

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
MAX_RESPONSE_BYTES = 8 * 2**20
"""No answer kubricks asks for comes near this (runs/get-output carries at most 5 MB of logs)."""
# Headers of the streamed answer that would not describe the body as read (already decoded, already whole).
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, client_secret='***')"


class DatabricksClient:
    def __init__(
        self,
        host: str,
        *,
        token: str | None = None,
        oauth: OAuthClient | None = None,
        max_attempts: int = 6,
        timeout: float = 30.0,
        backoff: float = 0.5,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if (token is None) == (oauth is None):
            raise ValueError("give exactly one of token or oauth")
        self.max_response_bytes = max_response_bytes
        self.host = host.rstrip("/")
        self._token = token
        self._oauth = oauth
        self._oauth_token: tuple[str, float] | None = None
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self._http = httpx.AsyncClient(base_url=self.host, timeout=timeout)

    async def __aenter__(self) -> "DatabricksClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # --- auth ---------------------------------------------------------------------------------------

    async def _bearer(self) -> str:
        if self._oauth is None:
            return self._token or ""
        if self._oauth_token and self._oauth_token[1] > time.monotonic():
            return self._oauth_token[0]
        response = await self._send_with_retries(
            "POST",
            "/oidc/v1/token",
            data={"grant_type": "client_credentials", "scope": "all-apis"},
            auth=(self._oauth.client_id, self._oauth.client_secret),
        )
        if response.status_code != 200:
            raise Unauthenticated(response.status_code, "UNAUTHENTICATED", _oauth_error(response))
        body = response.json()
        expires = time.monotonic() + float(body.get("expires_in", 3600)) - TOKEN_REFRESH_MARGIN_SECONDS
        self._oauth_token = (body["access_token"], expires)
        return self._oauth_token[0]

    # --- transport ----------------------------------------------------------------------------------

    async def _send_with_retries(
        self, method: str, path: str, *, idempotent: bool = True, **options: Any
    ) -> httpx.Response:
        """Sends with retries on connection errors, 429 and 5xx. A call that is not idempotent is retried only
        where Databricks cannot have acted on it (no connection, or 429): after a 5xx or a lost answer it may
        have, and the caller must look before sending it again."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._send_capped(method, path, **options)
            except httpx.TransportError as failure:
                if attempt == self.max_attempts or not (idempotent or isinstance(failure, httpx.ConnectError)):
                    raise ServerError(0, "UNREACHABLE", f"cannot reach {self.host}: {failure}") from None
                delay = self._delay(attempt)
                logger.info("Databricks %s %s: %s; retrying in %.1fs", method, path, type(failure).__name__, delay)
            else:
                metrics.DATABRICKS_REQUESTS.labels(endpoint=path, status=str(response.status_code)).inc()
                retriable = response.status_code == 429 or (idempotent and response.status_code >= 500)
                if not retriable or attempt == self.max_attempts:
                    return response
                delay = _retry_after(response) or self._delay(attempt)
                logger.info("Databricks %s %s: HTTP %s; retrying in %.1fs", method, path, response.status_code, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_capped(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request and its whole answer, whose body is read only up to max_response_bytes."""
        async with (
            total_deadline(self.timeout * 2, f"{method} {path}"),
            self._http.stream(method, path, **options) as streamed,
        ):
            try:
                body = await read_at_most(streamed, self.max_response_bytes)
            except TooLarge:
                raise ResponseTooLarge(
                    streamed.status_code,
                    "RESPONSE_TOO_LARGE",
                    f"{self.host} answered {method} {path} with more than {self.max_response_bytes} bytes; "
                    "kubricks reads no more: is spec.host a Databricks workspace?",
                ) from None
        headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _TRANSFER_HEADERS]
        return httpx.Response(streamed.status_code, headers=headers, content=body, request=streamed.request)

    def _delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))

    async def call(
        self, method: str, path: str, *, json: Any = None, params: Any = None, idempotent: bool = True
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._bearer()}"}
        response = await self._send_with_retries(
            method, path, json=json, params=params, headers=headers, idempotent=idempotent
        )
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise error_for(response.status_code, body)
        return body if isinstance(body, dict) else {}

    # --- endpoints ----------------------------------------------------------------------------------

    async def current_user(self) -> dict[str, Any]:
        return await self.call("GET", "/api/2.0/preview/scim/v2/Me")

    async def workspace_conf(self, *keys: str) -> dict[str, Any]:
        return await self.call("GET", "/api/2.0/workspace-conf", params={"keys": ",".join(keys)})

    async def submit_run(self, body: dict[str, Any]) -> int:
        """Safe to repeat: with the same idempotency_token Databricks returns the same run."""
        return int((await self.call("POST", "/api/2.2/jobs/runs/submit", json=body))["run_id"])

    async def get_run(self, run_id: int) -> dict[str, Any]:
        return await self.call("GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id})

    async def get_run_output(self, task_run_id: int) -> dict[str, Any]:
        return await self.call("GET", "/api/2.2/jobs/runs/get-output", params={"run_id": task_run_id})

    async def cancel_run(self, run_id: int) -> None:
        await self.call("POST", "/api/2.2/jobs/runs/cancel", json={"run_id": run_id})

    async def create_cluster(self, body: dict[str, Any]) -> str:
        # Not retried blindly: a create whose answer is lost may have made the cluster (see list_clusters).
        return str((await self.call("POST", "/api/2.1/clusters/create", json=body, idempotent=False))["cluster_id"])

    async def list_clusters(self) -> list[dict[str, Any]]:
        """Every cluster of the workspace, page by page."""
        clusters: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page_size": 100}
        while True:
            page = await self.call("GET", "/api/2.1/clusters/list", params=params)
            clusters += page.get("clusters") or []
            token = page.get("next_page_token")
            if not token:
                return clusters
            params = {"page_size": 100, "page_token": token}

    async def edit_cluster(self, body: dict[str, Any]) -> None:
        await self.call("POST", "/api/2.1/clusters/edit", json=body)

    async def get_cluster(self, cluster_id: str) -> dict[str, Any]:
        return await self.call("GET", "/api/2.1/clusters/get", params={"cluster_id": cluster_id})

    async def terminate_cluster(self, cluster_id: str) -> None:
        await self.call("POST", "/api/2.1/clusters/delete", json={"cluster_id": cluster_id})

    async def permanently_delete_cluster(self, cluster_id: str) -> None:
        await self.call("POST", "/api/2.1/clusters/permanent-delete", json={"cluster_id": cluster_id})


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), MAX_BACKOFF_SECONDS * 4) if value is not None else None
    except ValueError:
        return None


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"the OAuth token endpoint answered HTTP {response.status_code}"
    reason = (body.get("error_description") or body.get("error")) if isinstance(body, dict) else body
    return f"the OAuth token endpoint refused the client credentials: {reason}"
