"""Real OTLP receivers on 127.0.0.1, one of each per test session.

* OTLP/HTTP: a small http.server thread taking POST /v1/traces, decoding each body as an
  ExportTraceServiceRequest with opentelemetry-proto (what a collector does first).
* OTLP/gRPC: grpcio's server with the TraceService servicer from opentelemetry-proto.

Both flatten what they receive into ReceivedSpan records (ids in hex, attributes as Python
values) kept in one list per receiver; tests read the spans of their own trace.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    kind: str  # SERVER, INTERNAL... (the proto's enum name without SPAN_KIND_)
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root
    attributes: dict[str, Any]
    status: str  # UNSET | OK | ERROR
    status_message: str
    events: tuple[tuple[str, dict[str, Any]], ...]
    resource: dict[str, Any]
    start_ns: int
    end_ns: int


@dataclass
class Receiver:
    endpoint: str  # what OTEL_EXPORTER_OTLP_ENDPOINT takes
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.add_request(request)

    def add_request(self, request: Any) -> None:
        received = list(_flatten(request))
        with self.lock:
            self.requests += 1
            self.spans.extend(received)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def roots(self, name: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.name == name]


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    return getattr(any_value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs}


def _flatten(request: Any) -> Iterator[ReceivedSpan]:
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ReceivedSpan(
                    name=span.name,
                    kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    attributes=_attributes(span.attributes),
                    status=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
                    status_message=span.status.message,
                    events=tuple((e.name, _attributes(e.attributes)) for e in span.events),
                    resource=resource,
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                )


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces":
            self.send_response(404)
            self.end_headers()
            return
        try:
            self.receiver.add(body)
        except Exception:  # a body that is not an ExportTraceServiceRequest
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture(scope="session")
def otlp_http() -> Iterator[Receiver]:
    """An OTLP/HTTP receiver; `endpoint` is its base URL (exporters append /v1/traces)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    receiver = Receiver(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    _Handler.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, name="otlp-http", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def otlp_grpc() -> Iterator[Receiver]:
    """An OTLP/gRPC receiver on loopback (plaintext)."""
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    receiver = Receiver(endpoint=f"http://127.0.0.1:{port}")

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            receiver.add_request(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    server.start()
    try:
        yield receiver
    finally:
        server.stop(grace=None)
