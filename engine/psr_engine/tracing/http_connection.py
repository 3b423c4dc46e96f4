"""One kept-alive HTTP/1.1 client connection: a POST and its answer, all the OTLP/HTTP
exporter needs (otlp_http.py).

Why not http.client: it imports the email package to parse headers, ~25 ms of the exporter
process's CPU at the start of every traced run, for a request whose answer is a status line,
a few headers and a (mostly empty) body. What it did and the exporter relies on is done here
the same way: a `Host` header as http.client writes it, headers and body in one send with
TCP_NODELAY, a body read by Content-Length, chunked or to the close, 1xx answers skipped, the
connection kept alive unless the server says otherwise, header values refused when they hold
a line break.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_MAX_LINE = 65536
_MAX_HEADERS = 100


class BadResponse(ConnectionError):
    """The server's answer is not HTTP/1.x: the connection cannot be used further."""


def request_head(method: str, host: str, port: int, default_port: int, path: str) -> str:
    """The request line and Host header, as http.client writes them."""
    try:
        name = host.encode("ascii").decode()
    except UnicodeEncodeError:
        name = host.encode("idna").decode()
    if ":" in name:
        name = f"[{name}]"  # an IPv6 address
    if port != default_port:
        name = f"{name}:{port}"
    return f"{method} {path} HTTP/1.1\r\nHost: {name}\r\nAccept-Encoding: identity\r\n"


def header_lines(headers: Mapping[str, str]) -> str:
    """`Name: value` lines; ValueError for a name or value that would split the request."""
    lines = []
    for name, value in headers.items():
        if not name or any(c in name for c in " \t\r\n:") or "\r" in value or "\n" in value:
            raise ValueError(f"invalid HTTP header {name!r}")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


class HttpConnection:
    """A socket to (host, port), TLS-wrapped when `tls` is given. `post` sends one request
    and reads its answer; `will_close` says the server ends the connection after it."""

    def __init__(
        self, host: str, port: int, *, timeout: float, tls: ssl.SSLContext | None = None
    ) -> None:
        # An ASCII name as bytes: getaddrinfo would otherwise encode it with the idna codec,
        # which loads unicodedata and stringprep (an IDN still goes as str, encoded so).
        address: str | bytes = host.encode("ascii") if host.isascii() else host
        sock = socket.create_connection((address, port), timeout)  # type: ignore[arg-type]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._reader = sock.makefile("rb")
        self.will_close = False

    def post(self, head: bytes, body: bytes, timeout: float) -> tuple[int, str, bytes]:
        """`head` (request_head, header lines, no blank line) and `body`: the answer's
        status, reason and body."""
        self.sock.settimeout(timeout)
        self.sock.sendall(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        while True:
            status, reason, headers, version = self._status_and_headers()
            if not 100 <= status < 200:
                break
        connection = headers.get("connection", "").lower()
        self.will_close = "close" in connection or (
            version == "HTTP/1.0" and "keep-alive" not in connection
        )
        if status in (204, 304):
            return status, reason, b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, reason, self._chunked()
        length = headers.get("content-length")
        if length is None:
            self.will_close = True
            return status, reason, self._reader.read()
        try:
            size = int(length)
        except ValueError:
            raise BadResponse(f"Content-Length {length!r}") from None
        return status, reason, self._exactly(size)

    def close(self) -> None:
        self._reader.close()
        self.sock.close()

    def _line(self) -> bytes:
        line = self._reader.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise BadResponse("a line longer than 65536 bytes")
        return line

    def _status_and_headers(self) -> tuple[int, str, dict[str, str], str]:
        line = self._line()
        if not line:
            raise BadResponse("the server closed the connection without an answer")
        version, _, rest = line.decode("iso-8859-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.strip().partition(" ")
        if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
            raise BadResponse(f"not an HTTP status line: {line[:80]!r}")
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            field = self._line()
            if field in (b"\r\n", b"\n", b""):
                return int(code), reason.strip(), headers, version
            name, _, value = field.decode("iso-8859-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raise BadResponse(f"more than {_MAX_HEADERS} headers")

    def _exactly(self, size: int) -> bytes:
        data = self._reader.read(size) if size else b""
        if len(data) != size:
            raise BadResponse(f"the answer ended after {len(data)} of {size} bytes")
        return data

    def _chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = self._line()
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadResponse(f"not a chunk size: {line[:80]!r}") from None
            if size == 0:
                while self._line() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self._exactly(size))
            self._line()  # the CRLF after the chunk
