"""The SDK-free OTLP/HTTP path of the exporter process: its encoder against the SDK's own
encoder on the same spans, and its HTTP client against a local server playing a collector
(status codes, retries, compression, partial success, a dead endpoint)."""

from __future__ import annotations

import contextlib
import gzip
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from psr_engine.tracing import TracingConfig, TracingManager
from psr_engine.tracing.otlp_http import Encoder, OtlpHttpExporter, resource_attributes, usable
from psr_engine.tracing.recorder import Handover, OpenSpan, SpanRecorder

CI_PARENT = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "vendor=a,other=b",
}


def recorded(config: TracingConfig) -> list[OpenSpan]:
    """A small trace with what the sink produces: a remote parent with a tracestate, every
    attribute type, an event, an error status, a point span."""
    spans: list[OpenSpan] = []
    recorder = SpanRecorder(config, spans.append)
    run = recorder.start(
        "RUN etl",
        kind="server",
        attributes={"cicd.pipeline.name": "etl", "psr.run.tasks": 2, "psr.flag": True},
        start_time=10.0,
    )
    task = recorder.start("load", parent=run, attributes={"psr.resources.cpu": 0.5}, start_time=11)
    attempt = recorder.start("load attempt 1", parent=task, attributes={"psr.attempt": 1})
    recorder.add_event(task, "retry", {"psr.attempt": 1, "psr.retry.delay_s": 0.5}, timestamp=12)
    recorder.end(attempt, attributes={"psr.exit_code": 3}, error="exit code 3", end_time=12.0)
    skipped = recorder.start("report", parent=run, attributes={}, start_time=13.0)
    recorder.end(skipped, attributes={"cicd.pipeline.task.run.result": "skip"}, end_time=13.0)
    recorder.end(task, attributes={"psr.duration_s": 1.25}, end_time=13.5)
    recorder.end(run, attributes={"cicd.pipeline.result": "failure"}, error="failed", end_time=14)
    return spans


def test_the_encoder_writes_what_the_sdks_encoder_writes_for_the_same_spans():
    config = TracingConfig(service_name="etl-svc", parent=CI_PARENT)
    spans = recorded(config)
    ours = ExportTraceServiceRequest.FromString(Encoder(resource_attributes(config)).encode(spans))
    exporter = InMemorySpanExporter()
    handover = Handover(TracingManager(config, exporter=exporter, batch=False))
    for span in spans:
        handover.send(span)
    sdk = encode_spans(exporter.get_finished_spans())

    def spans_of(request: Any) -> list[dict[str, Any]]:
        return [MessageToDict(s) for s in request.resource_spans[0].scope_spans[0].spans]

    assert spans_of(ours) == spans_of(sdk)
    assert len(spans_of(ours)) == 4
    ours_scope = ours.resource_spans[0].scope_spans[0].scope
    assert MessageToDict(ours_scope) == MessageToDict(sdk.resource_spans[0].scope_spans[0].scope)

    def resource(request: Any) -> dict[str, Any]:
        attributes = request.resource_spans[0].resource.attributes
        return {kv.key: MessageToDict(kv.value) for kv in attributes}

    # telemetry.sdk.* names who encoded the spans: the SDK there, this module here.
    without_sdk = {k: v for k, v in resource(sdk).items() if not k.startswith("telemetry.sdk")}
    mine = resource(ours)
    assert {k: v for k, v in mine.items() if not k.startswith("telemetry.sdk")} == without_sdk
    assert mine["telemetry.sdk.name"] == {"stringValue": "psr_engine.tracing.otlp_http"}
    assert mine["service.name"] == {"stringValue": "etl-svc"}


def test_the_default_path_is_otlp_over_http_without_a_credential_provider():
    assert usable(TracingConfig(), {})
    assert not usable(TracingConfig(protocol="grpc"), {})
    assert not usable(TracingConfig(exporter="console"), {})
    provider = {"_OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER": "mine"}
    assert not usable(TracingConfig(), provider)


# -- the HTTP client against a scripted collector -----------------------------------------


class Collector:
    """Answers POSTs with the scripted (status, body) replies in turn (then 200), keeping
    each request's headers and body."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, bytes]] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.endpoint = ""


@contextlib.contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Collector]:
    """A Collector on a port of loopback, over TLS with `tls`."""
    state = Collector()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append((dict(self.headers), body))
            status, answer = state.replies.pop(0) if state.replies else (200, b"")
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme, host = ("https", "localhost") if tls else ("http", "127.0.0.1")
    state.endpoint = f"{scheme}://{host}:{server.server_address[1]}/v1/traces"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    with serving() as state:
        yield state


def body() -> bytes:
    config = TracingConfig()
    return Encoder(resource_attributes(config)).encode(recorded(config))


def test_a_batch_the_collector_takes_is_posted_as_protobuf_with_the_configured_headers(
    collector,
):
    config = TracingConfig(endpoint=collector.endpoint, headers={"x-tenant": "acme"})
    exporter = OtlpHttpExporter(config, {})
    assert exporter.export(body()) is None
    assert exporter.export(body()) is None  # the kept-alive connection is reused
    headers, sent = collector.requests[0]
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["x-tenant"] == "acme"
    assert len(ExportTraceServiceRequest.FromString(sent).resource_spans[0].scope_spans[0].spans)


def test_a_server_error_is_retried_with_backoff_until_the_collector_takes_the_batch(collector):
    collector.replies = [(503, b"busy"), (502, b"busy")]
    exporter = OtlpHttpExporter(TracingConfig(endpoint=collector.endpoint), {})
    waited: list[float] = []
    exporter._stopping.wait = lambda timeout=None: bool(waited.append(timeout))  # type: ignore[method-assign]
    assert exporter.export(body()) is None
    assert len(collector.requests) == 3
    # Exponential, with +-20% jitter: about 1 s, then about 2 s.
    assert 0.8 <= waited[0] <= 1.2 and 1.6 <= waited[1] <= 2.4


def test_a_client_error_is_not_retried_and_says_what_the_collector_answered(collector):
    collector.replies = [(400, b"bad")]
    exporter = OtlpHttpExporter(TracingConfig(endpoint=collector.endpoint), {})
    assert exporter.export(body()) == "HTTP 400 Bad Request"
    assert len(collector.requests) == 1


def test_a_partial_success_reports_the_spans_the_collector_rejected(collector):
    answer = ExportTraceServiceResponse()
    answer.partial_success.rejected_spans = 2
    answer.partial_success.error_message = "too old"
    collector.replies = [(200, answer.SerializeToString())]
    exporter = OtlpHttpExporter(TracingConfig(endpoint=collector.endpoint), {})
    assert exporter.export(body()) == "2 spans rejected: too old"


def test_gzip_compression_is_taken_from_the_environment(collector):
    environ = {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip"}
    exporter = OtlpHttpExporter(TracingConfig(endpoint=collector.endpoint), environ)
    assert exporter.export(body()) is None
    headers, sent = collector.requests[0]
    assert headers["Content-Encoding"] == "gzip"
    assert ExportTraceServiceRequest.FromString(gzip.decompress(sent)).resource_spans


def test_an_unknown_compression_is_refused():
    with pytest.raises(ValueError, match="compression 'zstd'"):
        OtlpHttpExporter(TracingConfig(), {"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"})


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b"])
def test_a_header_with_a_line_break_is_refused_before_any_request(value):
    # A header from OTEL_EXPORTER_OTLP_HEADERS must not smuggle another header (or a second
    # request) into the POST: refused when the exporter is made, with the header's name.
    with pytest.raises(ValueError, match="'X-Team'"):
        OtlpHttpExporter(TracingConfig(headers={"X-Team": value}), {})


def test_an_unreachable_collector_is_given_up_at_once_not_retried_for_the_timeout():
    # Port 9 (discard) on loopback: nothing listens, every connection is refused. As the
    # SDK's exporter: one more try on a new connection, no backoff, so a collector that is
    # not running does not hold the end of every run for the whole 10 s timeout.
    exporter = OtlpHttpExporter(TracingConfig(endpoint="http://127.0.0.1:9/v1/traces"), {})
    waited: list[float] = []
    exporter._stopping.wait = lambda timeout=None: bool(waited.append(timeout))  # type: ignore[method-assign]
    problem = exporter.export(body())
    assert problem is not None and problem.startswith("ConnectionRefusedError")
    assert waited == []  # no backoff


def test_a_connection_the_collector_closed_between_batches_is_made_again(collector):
    exporter = OtlpHttpExporter(TracingConfig(endpoint=collector.endpoint), {})
    assert exporter.export(body()) is None
    assert exporter._connection is not None
    exporter._connection.sock.close()  # as if the collector had dropped the idle connection
    assert exporter.export(body()) is None
    assert len(collector.requests) == 2


def test_an_https_collector_is_verified_against_the_configured_certificate(tmp_path):
    from localnet import self_signed_cert

    cert, key = self_signed_cert(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with serving(tls) as collector:
        config = TracingConfig(endpoint=collector.endpoint)
        trusted = OtlpHttpExporter(config, {"OTEL_EXPORTER_OTLP_CERTIFICATE": cert})
        assert trusted.export(body()) is None
        assert trusted.export(body()) is None  # over the same TLS connection
        assert len(collector.requests) == 2
        problem = OtlpHttpExporter(config, {}).export(body())  # the system's CAs only
        assert problem is not None and problem.startswith("SSLCertVerificationError")
