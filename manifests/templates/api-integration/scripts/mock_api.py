"""A local stand-in for a real API that misbehaves on purpose, so the client's resilience can
be seen offline: it throttles (429 with Retry-After) and fails (503) on a fixed schedule, and
checks the same credentials the demo secrets hold.

    python scripts/mock_api.py --port 8765        # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ITEMS = [{"id": n, "name": f"item-{n}", "price": round(n * 1.25, 2)} for n in range(1, 26)]
PAGE_SIZE = 10
CREDENTIALS = {
    "bearer": "Bearer demo-token",
    "basic": "Basic " + base64.b64encode(b"demo:demo-password").decode(),
    "api-key": "demo-key",
}


class Handler(BaseHTTPRequestHandler):
    count = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Handler.lock:
            Handler.count += 1
            number = Handler.count
        if not self._authorized():
            return self._send(401, {"error": "bad or missing credentials"})
        if number % 4 == 2:
            return self._send(429, {"error": "slow down"}, {"Retry-After": "0.2"})
        if number % 4 == 3:
            return self._send(503, {"error": "try again"})
        query = parse_qs(urlparse(self.path).query)
        page = int(query.get("page", ["1"])[0])
        chunk = ITEMS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(ITEMS)
        self._send(200, {"items": chunk, "next": page + 1 if more else None})

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        return header in (CREDENTIALS["bearer"], CREDENTIALS["basic"]) or (
            self.headers.get("X-API-Key") == CREDENTIALS["api-key"]
        )

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # keep the task log for the client
        pass


def start(port: int = 0) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1 in a daemon thread; the caller reads ``server.server_port``."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    server = ThreadingHTTPServer(("127.0.0.1", parser.parse_args().port), Handler)
    print(f"mock API on http://127.0.0.1:{server.server_port}")
    server.serve_forever()
