"""Real servers for the cost actuals and price updates, on 127.0.0.1 only.

* moto's server for AWS Cost Explorer. moto computes no costs: canned get_cost_and_usage
  answers are POSTed to /moto-api/static/ce/cost-and-usage-results first (each is handed to
  the first request whose parameters it has not seen).
* Azure Cost Management and BigQuery have no emulator that installs here, so small stand-ins
  speak the parts of their REST protocols the real SDKs use: an HTTPS server (the Azure SDK
  sends bearer tokens over HTTPS only; a self-signed certificate is made here) and an HTTP
  one for BigQuery's jobs.query. Each records the requests it got, so tests can check what
  the SDK sent.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from localnet import FixedCredential, free_port, self_signed_cert

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Moto:
    endpoint: str

    def can_cost_results(self, *results: dict[str, Any]) -> None:
        """Queue canned get_cost_and_usage answers (moto returns each to one request)."""
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/static/ce/cost-and-usage-results",
            data=json.dumps({"results": list(results)}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    argv = [str(server)] if server.exists() else [sys.executable, "-m", "moto.server"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield Moto(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def aws(moto_server: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Moto:
    """moto, reset, with fake credentials and no profile from this machine."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return moto_server


# -- local HTTP(S) stand-ins -----------------------------------------------------------------


@dataclass
class StandIn:
    """A local server: `answer(method, path, body) -> (status, json)` decides each reply."""

    url: str
    answer: Callable[[str, str, Any], tuple[int, Any]]
    requests: list[tuple[str, str, Any, dict[str, str]]] = field(default_factory=list)
    ca_file: str | None = None


def _handler(stand_in: StandIn) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()
            stand_in.requests.append((method, self.path, body, dict(self.headers)))
            status, data = stand_in.answer(method, self.path, body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Callable[..., StandIn]]:
    """start(answer, tls=False) -> StandIn; every server is shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[str, str, Any], tuple[int, Any]], *, tls: bool = False) -> StandIn:
        port = free_port()
        scheme = "https" if tls else "http"
        stand = StandIn(f"{scheme}://127.0.0.1:{port}", answer)
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(stand))
        if tls:
            cert_file, key_file = self_signed_cert(tmp_path)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            stand.ca_file = cert_file
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return stand

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def azure_credential() -> FixedCredential:
    return FixedCredential()


@pytest.fixture
def no_cloud_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("GOOGLE_", "AZURE_")):
            monkeypatch.delenv(name, raising=False)
