"""What the leak tests share: the encoded forms of a secret an attacker (or a careless task)
prints, a scanner that finds any of them in bytes, and a local HTTP server that keeps every
body it receives (a webhook endpoint and an OTLP/HTTP receiver at once).

The forms are computed here independently of psr_engine.secrets.masker, so a form the masker
forgets shows up as a leak rather than as an agreement of two copies of one mistake.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The task-side printer: every form of the secret held in the variable named by argv[1],
# on stdout and again on stderr. Base64 and base32 put the secret at each alignment inside a
# longer buffer, as an encoded config or a basic-auth header would.
FORMS_PRINTER = r"""
import base64, json, os, sys, urllib.parse
value = os.environ[sys.argv[1]]
raw = value.encode()
lines = ["raw " + value]
for shift in range(3):
    lines.append("b64 " + base64.b64encode(b"x" * shift + raw + b"yz").decode())
for shift in range(5):
    lines.append("b32 " + base64.b32encode(b"x" * shift + raw + b"yz").decode())
lines += ["hex " + raw.hex(), "HEX " + raw.hex().upper()]
lines.append("url " + urllib.parse.quote(value, safe=""))
lines.append("json " + json.dumps({"v": value}))
print("\n".join(lines))
print("\n".join(lines), file=sys.stderr)
"""


def _stream_fragments(raw: bytes, encode, group: int, bits: int) -> list[tuple[str, bytes]]:
    """The characters carrying only the secret's bits, for each alignment in the stream."""
    found = []
    for shift in range(group):
        encoded = encode(b"\xa5" * shift + raw + b"\xa5" * group)
        first = -(-8 * shift // bits)
        last = 8 * (shift + len(raw)) // bits
        found.append((f"{encode.__name__}@{shift}", encoded[first:last]))
    return found


def leak_forms(secret: str) -> dict[str, bytes]:
    """Name -> bytes of every form scanned for: raw, base64 (3 alignments, standard and
    URL-safe), base32 (5 alignments), hex lower and upper, URL-encoded, JSON-escaped."""
    raw = secret.encode()
    forms = {"raw": raw}
    forms.update(_stream_fragments(raw, base64.b64encode, 3, 6))
    forms.update(_stream_fragments(raw, base64.urlsafe_b64encode, 3, 6))
    forms.update(_stream_fragments(raw, base64.b32encode, 5, 5))
    forms["hex"] = raw.hex().encode()
    forms["HEX"] = raw.hex().upper().encode()
    forms["url"] = urllib.parse.quote(secret, safe="").encode()
    forms["url+"] = urllib.parse.quote_plus(secret).encode()
    forms["json"] = json.dumps(secret)[1:-1].encode()
    forms["json-utf8"] = json.dumps(secret, ensure_ascii=False)[1:-1].encode()
    return forms


def leaks_in(data: bytes, secret: str) -> list[str]:
    """The names of the forms of ``secret`` found in ``data``."""
    return [name for name, form in leak_forms(secret).items() if form in data]


def leaks_under(root: Path, secret: str) -> dict[str, list[str]]:
    """Every file under ``root`` (its bytes and its name) holding a form of ``secret``."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        name_leaks = leaks_in(str(path.relative_to(root)).encode(), secret)
        data_leaks = leaks_in(path.read_bytes(), secret) if path.is_file() else []
        if name_leaks or data_leaks:
            found[str(path.relative_to(root))] = sorted(set(name_leaks + data_leaks))
    return found


@dataclass
class Recorder:
    """Bodies received by the local server, by path."""

    url: str
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, prefix: str) -> list[bytes]:
        with self.lock:
            return [body for path, body in self.bodies if path.startswith(prefix)]


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """An HTTP server on 127.0.0.1 answering 200 to every POST and keeping its body."""
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            with recorder.lock:
                recorder.bodies.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def console(self) -> bytes:
        return (self.stdout + self.stderr).encode()


def psr(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Ran:
    """``python -m psr_engine ARGS`` in ``cwd``, with this interpreter (and so this tree)."""
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.pop("TRACEPARENT", None)
    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, "NO_COLOR": "1", **(env or {})},
    )
    return Ran(done.returncode, done.stdout, done.stderr)
