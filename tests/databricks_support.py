"""The Databricks emulator as a process (``kubricks databricks emulate``), for integration and e2e tests."""

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support import VENV_BIN, wait_until

TOKEN = "dapi-test-token"
OAUTH_CLIENT = ("kubricks-sp", "sp-secret")


CONTROL_AUTH = {"Authorization": f"Bearer {TOKEN}"}
"""The emulator's /emulator/ controls take the API's tokens."""


class EmulatorProcess:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process

    def faults(self, **settings: Any) -> None:
        response = httpx.post(f"{self.url}/emulator/faults", json=settings, headers=CONTROL_AUTH)
        assert response.status_code == 200, response.text

    def requests(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/emulator/requests", headers=CONTROL_AUTH).json())

    def runs(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/emulator/runs", headers=CONTROL_AUTH).json()["runs"])


@contextmanager
def emulator(*extra: str, env: dict[str, str] | None = None) -> Iterator[EmulatorProcess]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(VENV_BIN / "kubricks"), "databricks", "emulate", "--port", str(port),
        "--token", TOKEN, "--oauth-client", ":".join(OAUTH_CLIENT), *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, "the emulator exited"
        try:
            return httpx.get(f"{url}/emulator/requests", headers=CONTROL_AUTH, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=30, what="the Databricks emulator")
    try:
        yield EmulatorProcess(url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
