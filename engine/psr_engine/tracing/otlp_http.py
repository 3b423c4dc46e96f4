"""OTLP over HTTP/protobuf without the OpenTelemetry SDK: the exporter process's path for the
default protocol. Spans are encoded with opentelemetry-proto's messages (the wire format's own
definitions, the same ones the SDK's encoder fills) and POSTed with http.client, following
the OTLP/HTTP exporter specification and the SDK's exporter: the same
OTEL_EXPORTER_OTLP_[TRACES_]{TIMEOUT,COMPRESSION,CERTIFICATE,CLIENT_KEY,CLIENT_CERTIFICATE}
settings, retries of 408 and 5xx with jittered exponential backoff within the timeout, one
immediate retry on a new connection when the connection fails (and then giving up),
partial-success rejections reported.

Why not the SDK's exporter here: importing the SDK, its encoder and `requests` costs ~0.13 s
of CPU, and turning each span into a ReadableSpan and then a message ~35 us. This module's
own libraries (protobuf's runtime with the proto messages, and http.client) are imported by
the exporter process as it starts, while the engine is still preparing the run
(exporter_process._export), so that their CPU overlaps the engine's start, not the tasks.
gRPC, the console exporter and credential providers
(_OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER) keep the SDK's exporters
(`usable` says which path a config takes); a test checks that both encode the same spans
into the same request.
"""

from __future__ import annotations

import http.client
import random
import ssl
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from psr_engine._version import __version__
from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import INSTRUMENTATION, OpenSpan

_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
# SpanFlags: the SDK's encoder sets "has is_remote", and "is remote" for a remote parent.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_STATUS_ERROR = 2
_MAX_RETRIES = 6
_DEFAULT_TIMEOUT_S = 10.0
_CREDENTIAL_PROVIDER = "_OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER"
_COMPRESSIONS = ("none", "gzip", "deflate")


def usable(config: TracingConfig, environ: Mapping[str, str]) -> bool:
    """Whether this path exports for `config`: OTLP over HTTP/protobuf, with no credential
    provider (a `requests` session only the SDK's exporter can use)."""
    return (
        config.exporter == "otlp"
        and config.protocol == "http/protobuf"
        and not environ.get(_CREDENTIAL_PROVIDER)
    )


def resource_attributes(config: TracingConfig) -> dict[str, Any]:
    """The resource the SDK's Resource.create would make of the config's attributes, with
    this module as the `telemetry.sdk` (as the conventions ask of an exporter that is not
    the SDK): service.name and service.version ours, OTEL_RESOURCE_ATTRIBUTES merged in."""
    return {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": __name__,
        "telemetry.sdk.version": __version__,
        **config.resource_attributes,
        "service.name": config.service_name,
        "service.version": __version__,
    }


# -- encoding ---------------------------------------------------------------------------


class Encoder:
    """Spans into an ExportTraceServiceRequest of one resource and one scope (psr_engine).
    Each span becomes its message once, as it ends (`span`); a request is a batch of those
    messages under the resource and scope (`request`)."""

    def __init__(self, resource: Mapping[str, Any]) -> None:
        self._resource = [_key_value(k, v) for k, v in resource.items()]

    def encode(self, spans: Iterable[OpenSpan]) -> bytes:
        """One request of these ended spans."""
        return self.request([self.span(s) for s in spans])

    def request(self, spans: Sequence[Span]) -> bytes:
        """One request of the messages `span` made."""
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(self._resource)
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = INSTRUMENTATION
        scope_spans.scope.version = __version__
        scope_spans.spans.extend(spans)
        return request.SerializeToString()

    def span(self, span: OpenSpan) -> Span:
        """An ended span's message."""
        ids = span.context
        out = Span(
            trace_id=ids.trace_id.to_bytes(16, "big"),
            span_id=ids.span_id.to_bytes(8, "big"),
            name=span.name,
            kind=_KINDS[span.kind],  # type: ignore[arg-type]  # SpanKind is an int at run time
            start_time_unix_nano=span.start_time,
            end_time_unix_nano=span.end_time or 0,
        )
        _fill(out.attributes, span.attributes)
        parent = span.parent
        if parent is None:
            out.flags = _HAS_IS_REMOTE
        else:
            out.parent_span_id = parent.span_id.to_bytes(8, "big")
            out.flags = _HAS_IS_REMOTE | _IS_REMOTE if parent.is_remote else _HAS_IS_REMOTE
        if ids.trace_state:
            out.trace_state = str(ids.trace_state.to_header())
        for event_name, event_attributes, when in span.events:
            event = out.events.add(name=event_name, time_unix_nano=when)
            _fill(event.attributes, event_attributes)
        if span.error is None:
            out.status.SetInParent()  # present and UNSET, as the SDK writes it
        else:
            out.status.code = _STATUS_ERROR  # type: ignore[assignment]
            out.status.message = span.error
        return out


def _fill(repeated: Any, attributes: Mapping[str, Any]) -> None:
    """Attributes into a repeated KeyValue field, the common types set in place (a third
    of the time of building each KeyValue and AnyValue and copying them in)."""
    add = repeated.add
    for key, value in attributes.items():
        kind = value.__class__
        if kind is str:
            add(key=key).value.string_value = value
        elif kind is int:
            add(key=key).value.int_value = value
        elif kind is float:
            add(key=key).value.double_value = value
        elif kind is bool:
            add(key=key).value.bool_value = value
        else:
            add(key=key, value=_any_value(value))


def _key_value(key: str, value: Any) -> KeyValue:
    return KeyValue(key=key, value=_any_value(value))


def _any_value(value: Any) -> AnyValue:
    # bool before int: True is an int too. As the SDK's _encode_value.
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[_any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


# -- sending ----------------------------------------------------------------------------


class OtlpHttpExporter:
    """POSTs encoded batches to the config's endpoint over one kept-alive connection.
    `export` returns None when the collector took the batch, else why not (never raises).
    ValueError for a setting it cannot use: not an http(s) URL, an unknown compression, a
    header with a line break (http.client would refuse it only at the first POST)."""

    def __init__(self, config: TracingConfig, environ: Mapping[str, str]) -> None:
        self._url = urllib.parse.urlsplit(config.endpoint)
        if self._url.scheme not in ("http", "https") or not self._url.hostname:
            raise ValueError(f"not an http(s) URL: {config.endpoint!r}")
        self._path = (self._url.path or "/") + (f"?{self._url.query}" if self._url.query else "")
        self._timeout = _seconds(_setting(environ, "TIMEOUT"), _DEFAULT_TIMEOUT_S)
        compression = (_setting(environ, "COMPRESSION") or "none").strip().lower()
        if compression not in _COMPRESSIONS:
            raise ValueError(f"unknown OTLP compression {compression!r}")
        self._compression = compression
        self._headers = {
            "Content-Type": "application/x-protobuf",
            "User-Agent": f"psr-engine/{__version__}",
            **config.headers,
        }
        if compression != "none":
            self._headers["Content-Encoding"] = compression
        for name, value in self._headers.items():
            if any(c in f"{name}{value}" for c in "\r\n\0"):
                raise ValueError(f"OTLP header {name!r}: a line break or NUL is not allowed")
        self._tls = self._tls_context(environ) if self._url.scheme == "https" else None
        self._connection: http.client.HTTPConnection | None = None
        self._stopping = threading.Event()

    def export(self, body: bytes) -> str | None:
        data = _compress(body, self._compression)
        deadline = time.monotonic() + self._timeout
        problem = "timed out"
        for retry in range(_MAX_RETRIES):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                status, reason, answer = self._post_twice(data, deadline)
            except (OSError, http.client.HTTPException) as error:
                # Unreachable: as the SDK's exporter, no backoff (a collector that is not
                # running would hold every run's end for the whole timeout).
                return f"{type(error).__name__}: {error}"
            if 200 <= status < 300:
                return _rejected(answer)
            problem = f"HTTP {status} {reason}".strip()
            backoff = 2**retry * random.uniform(0.8, 1.2)
            retryable = status == 408 or 500 <= status <= 599
            if not retryable or backoff > deadline - time.monotonic():
                break
            if self._stopping.wait(backoff):
                break
        return problem

    def _post_twice(self, data: bytes, deadline: float) -> tuple[int, str, bytes]:
        """A POST, made again at once on a new connection if the kept-alive one fails (the
        collector may have closed it between batches), as the SDK's exporter does."""
        try:
            return self._post(data, max(0.001, deadline - time.monotonic()))
        except (OSError, http.client.HTTPException):
            self._disconnect()
        try:
            return self._post(data, max(0.001, deadline - time.monotonic()))
        except (OSError, http.client.HTTPException):
            self._disconnect()
            raise

    def shutdown(self) -> None:
        self._stopping.set()
        self._disconnect()

    def _post(self, data: bytes, timeout: float) -> tuple[int, str, bytes]:
        connection = self._connection or self._connect(timeout)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        connection.request("POST", self._path, body=data, headers=self._headers)
        response = connection.getresponse()
        answer = response.read()
        if response.will_close:
            self._disconnect()
        return response.status, response.reason, answer

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self._url.hostname or "", self._url.port
        if self._tls is not None:
            self._connection = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=self._tls
            )
        else:
            self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @staticmethod
    def _tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=_setting(environ, "CERTIFICATE") or None)
        certificate = _setting(environ, "CLIENT_CERTIFICATE")
        if certificate:
            context.load_cert_chain(certificate, _setting(environ, "CLIENT_KEY") or None)
        return context


def _setting(environ: Mapping[str, str], name: str) -> str | None:
    """OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>."""
    return environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or environ.get(
        f"OTEL_EXPORTER_OTLP_{name}"
    )


def _seconds(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def _compress(body: bytes, compression: str) -> bytes:
    if compression == "gzip":
        import gzip

        return gzip.compress(body)
    if compression == "deflate":
        return zlib.compress(body)
    return body


def _rejected(answer: bytes) -> str | None:
    """A 2xx may still carry a partial success: spans the collector refused, and why."""
    if not answer:
        return None
    response = ExportTraceServiceResponse()
    try:
        response.ParseFromString(answer)
    except Exception:  # not protobuf (a proxy's page): the POST itself succeeded
        return None
    rejected = response.partial_success.rejected_spans
    if not rejected:
        return None
    message = response.partial_success.error_message
    return f"{rejected} spans rejected" + (f": {message}" if message else "")
