"""The exporter's own HTTP/1.1 client (http_connection.py) against a server that answers with
scripted bytes: the answer's framings (Content-Length, chunked, to the close), 1xx answers,
keep-alive or not, a malformed answer, and the request it writes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from psr_engine.tracing.http_connection import (
    BadResponse,
    HttpConnection,
    header_lines,
    request_head,
)


class Scripted:
    """Accepts one connection; for each request read, writes the next scripted answer (then
    closes the connection if the answer is followed by None)."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            for answer in self.answers:
                if answer is None:
                    return
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(data)
                conn.sendall(answer)


@pytest.fixture
def serve() -> Iterator[type[Scripted]]:
    yield Scripted


HEAD = (
    request_head("POST", "127.0.0.1", 4318, 80, "/v1/traces").encode()
    + header_lines({"Content-Type": "application/x-protobuf"}).encode()
)


def post(server: Scripted, count: int = 1) -> list[tuple[int, str, bytes, bool]]:
    connection = HttpConnection("127.0.0.1", server.port, timeout=5)
    answers = []
    for _ in range(count):
        status, reason, body = connection.post(HEAD, b"spans", 5)
        answers.append((status, reason, body, connection.will_close))
    connection.close()
    return answers


def test_the_request_is_http_11_with_host_length_and_the_given_headers(serve):
    server = serve([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    assert post(server) == [(200, "OK", b"", False)]
    request = server.requests[0]
    assert request.startswith(b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:4318\r\n")
    assert b"\r\nContent-Type: application/x-protobuf\r\n" in request
    assert request.endswith(b"\r\nContent-Length: 5\r\n\r\nspans")


def test_answers_framed_by_length_chunks_or_the_close_are_read_whole(serve):
    server = serve(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nde\r\n3;ext=1\r\nfgh\r\n0\r\nTrailer: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\nto the end",
            None,
        ]
    )
    assert post(server, 3) == [
        (200, "OK", b"abc", False),
        (200, "OK", b"defgh", False),
        (200, "OK", b"to the end", True),
    ]


def test_an_interim_answer_is_skipped_and_connection_close_is_honoured(serve):
    server = serve(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy",
            None,
        ]
    )
    assert post(server) == [(503, "Service Unavailable", b"busy", True)]


def test_an_http_10_answer_closes_the_connection_unless_kept_alive(serve):
    server = serve([b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", None])
    assert post(server)[0][3] is True


@pytest.mark.parametrize(
    "answer",
    [b"", b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"],
    ids=["nothing", "not http", "cut short"],
)
def test_a_malformed_or_missing_answer_is_a_connection_error(serve, answer):
    server = serve([answer, None])
    with pytest.raises(BadResponse):
        post(server)
    assert issubclass(BadResponse, OSError)  # the exporter's retry on a new connection


def test_a_header_value_with_a_line_break_is_refused_before_any_request():
    with pytest.raises(ValueError, match="invalid HTTP header"):
        header_lines({"x-tenant": "acme\r\nX-Injected: 1"})


def test_the_host_header_is_as_http_client_writes_it():
    assert "Host: collector\r\n" in request_head("POST", "collector", 80, 80, "/")
    assert "Host: [::1]:4318\r\n" in request_head("POST", "::1", 4318, 80, "/")
    assert "Host: xn--bcher-kva.example\r\n" in request_head(
        "POST", "bücher.example", 443, 443, "/"
    )
