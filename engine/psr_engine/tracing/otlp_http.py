"""OTLP over HTTP/protobuf without the OpenTelemetry SDK: the exporter process's path for the
default protocol. Spans are encoded by otlp_proto.py (the wire format written directly, byte
for byte what opentelemetry-proto's messages serialise to) and POSTed over a kept-alive
HTTP/1.1 connection of this module's own, following the OTLP/HTTP exporter specification and
the SDK's exporter: the same OTEL_EXPORTER_OTLP_[TRACES_]{TIMEOUT,COMPRESSION,CERTIFICATE,
CLIENT_KEY,CLIENT_CERTIFICATE} settings, retries of 408 and 5xx with jittered exponential
backoff within the timeout, one immediate retry on a new connection when the connection
fails (and then giving up), partial-success rejections reported.

Why not the SDK's exporter here: importing the SDK, its encoder and `requests` costs ~0.13 s
of CPU, and turning each span into a ReadableSpan and then a message ~35 us. Why not
opentelemetry-proto and http.client either: they load protobuf's runtime and the email
package, ~60 ms of the exporter process's CPU at every traced run's start, more than it then
spends on a thousand tasks' spans; this module and otlp_proto.py load in a few ms. On a 2-core
runner that CPU is taken from the run being traced. gRPC, the console exporter and credential
providers (_OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER) keep the SDK's
exporters (`usable` says which path a config takes); tests check that both encode the same
spans into the same request.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from psr_engine._version import __version__
from psr_engine.tracing.http_connection import HttpConnection, header_lines, request_head
from psr_engine.tracing.otlp_proto import Encoder as Encoder

if TYPE_CHECKING:
    import ssl

    from psr_engine.tracing.config import TracingConfig

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


# -- sending ----------------------------------------------------------------------------


class OtlpHttpExporter:
    """POSTs encoded batches to the config's endpoint over one kept-alive connection.
    `export` returns None when the collector took the batch, else why not (never raises).
    ValueError for a setting it cannot use (not an http(s) URL, an unknown compression, a
    header value with a line break)."""

    def __init__(self, config: TracingConfig, environ: Mapping[str, str]) -> None:
        self._url = urllib.parse.urlsplit(config.endpoint)
        if self._url.scheme not in ("http", "https") or not self._url.hostname:
            raise ValueError(f"not an http(s) URL: {config.endpoint!r}")
        path = (self._url.path or "/") + (f"?{self._url.query}" if self._url.query else "")
        self._timeout = _seconds(_setting(environ, "TIMEOUT"), _DEFAULT_TIMEOUT_S)
        compression = (_setting(environ, "COMPRESSION") or "none").strip().lower()
        if compression not in _COMPRESSIONS:
            raise ValueError(f"unknown OTLP compression {compression!r}")
        self._compression = compression
        headers = {
            "Content-Type": "application/x-protobuf",
            "User-Agent": f"psr-engine/{__version__}",
            **config.headers,
        }
        if compression != "none":
            headers["Content-Encoding"] = compression
        default_port = 443 if self._url.scheme == "https" else 80
        self._host, self._port = self._url.hostname, self._url.port or default_port
        # The request's head is the same for every batch: made (and checked) once.
        self._head = (
            request_head("POST", self._host, self._port, default_port, path) + header_lines(headers)
        ).encode("iso-8859-1")
        self._tls = self._tls_context(environ) if self._url.scheme == "https" else None
        self._connection: HttpConnection | None = None
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
            except OSError as error:
                # Unreachable: as the SDK's exporter, no backoff (a collector that is not
                # running would hold every run's end for the whole timeout).
                return f"{type(error).__name__}: {error}"
            if 200 <= status < 300:
                return _rejected(answer)
            problem = f"HTTP {status} {reason}".strip()
            import random

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
        except OSError:
            self._disconnect()
        try:
            return self._post(data, max(0.001, deadline - time.monotonic()))
        except OSError:
            self._disconnect()
            raise

    def shutdown(self) -> None:
        self._stopping.set()
        self._disconnect()

    def _post(self, data: bytes, timeout: float) -> tuple[int, str, bytes]:
        connection = self._connection
        if connection is None:
            connection = self._connection = HttpConnection(
                self._host, self._port, timeout=timeout, tls=self._tls
            )
        answer = connection.post(self._head, data, timeout)
        if connection.will_close:
            self._disconnect()
        return answer

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @staticmethod
    def _tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
        import ssl

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
    """A 2xx may still carry a partial success: spans the collector refused, and why. Most
    collectors answer an empty message (no bytes): protobuf's runtime is loaded only for
    one that is not."""
    if not answer:
        return None
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

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
