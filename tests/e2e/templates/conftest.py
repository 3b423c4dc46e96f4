"""Fixtures for the template tests: scaffold-and-run helpers and a misbehaving HTTP API."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def _task_log(root: Path, task: str, attempt: int = 1) -> str:
    runs = sorted((root / ".psr" / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return (runs[-1] / f"{task}.{attempt}.log").read_text()


@pytest.fixture
def task_log() -> Callable[..., str]:
    """task_log(root, task, attempt=1): that attempt's log in the newest run under root."""
    return _task_log


@dataclass
class FlakyApi:
    """A local API whose answers a test scripts: ``script(n)`` gives (status, headers, body)
    for the n-th request (1-based). Records every request's headers (names lower-cased)."""

    url: str
    script: Callable[[int], tuple[int, dict[str, str], object]]
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def flaky_api() -> Iterator[FlakyApi]:
    api = FlakyApi(url="", script=lambda n: (200, {}, {"items": [], "next": None}))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                api.seen.append(
                    {**{k.lower(): v for k, v in self.headers.items()}, "path": self.path}
                )
                number = len(api.seen)
            status, headers, body = api.script(number)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
