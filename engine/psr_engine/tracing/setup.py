"""TracingManager: one TracerProvider for one run (its own resource, sampler, exporter and batch
processor), never installed as the global provider, so an application that embeds psr-engine
keeps its own tracing untouched.

opentelemetry is imported here, inside methods, and only when a manager is built: a run
without tracing never imports it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any, cast

from psr_engine._version import __version__
from psr_engine.errors import PsrError
from psr_engine.tracing import propagation
from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import INSTRUMENTATION, Handover, SpanRecorder

SpanKindName = str  # "internal" | "server" | "client" | "producer" | "consumer"


class TracingManager:
    """Spans for psr-engine, configured by a TracingConfig.

    `exporter` replaces the one the config names (tests pass an in-memory exporter);
    `stream` is where the console exporter writes (default stderr, away from the run's
    own output); `batch_sizes` those of the batch processor unless OTEL_BSP_* set them
    (default: batch_options' for a manager in the engine's own process)."""

    def __init__(
        self,
        config: TracingConfig,
        *,
        exporter: Any = None,
        stream: IO[str] | None = None,
        batch: bool = True,
        batch_sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.config = config
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        except ImportError as error:
            raise PsrError(
                f"tracing needs a missing package ({error.name}): pip install 'psr-engine[otel]'"
            ) from None
        attributes = {
            **config.resource_attributes,
            "service.name": config.service_name,
            "service.version": __version__,
        }
        # Resource.create also applies OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME of this
        # process and the SDK's telemetry.sdk.*; ours (already merged with them) win.
        self.provider = TracerProvider(
            resource=_hashed_once(Resource.create(attributes)), sampler=build_sampler(config)
        )
        # Duck-typed SpanExporters: subclassing the SDK's would import it with this module.
        self._exporter = _Guarded(exporter or _exporter_for(config, stream))
        span_exporter = cast(Any, self._exporter)
        self.provider.add_span_processor(
            BatchSpanProcessor(span_exporter, **batch_options(os.environ, batch_sizes))
            if batch
            else SimpleSpanProcessor(span_exporter)
        )
        self.tracer = self.provider.get_tracer(INSTRUMENTATION, __version__)
        self._parent = propagation.extract(config.parent) if config.parent else None
        self._closed = False
        self._recorder: SpanRecorder | None = None

    @property
    def root_context(self) -> Any:
        """The opentelemetry Context a root span joins: the config's parent carrier
        (TRACEPARENT), or None for opentelemetry's current one."""
        return self._parent

    def recorder(self) -> SpanRecorder:
        """The lean span path of this provider (the otel sink's): see recorder.py."""
        if self._recorder is None:
            self._recorder = SpanRecorder(self.config, Handover(self).send)
        return self._recorder

    # -- spans ------------------------------------------------------------------------

    def start_span(
        self,
        name: str,
        *,
        parent: Any = None,
        kind: SpanKindName = "internal",
        attributes: Mapping[str, Any] | None = None,
        start_time: float | None = None,
    ) -> Any:
        """Start a span (not made current). `parent`: a span, or None for a root, which
        joins the trace of the config's `parent` carrier (TRACEPARENT) when there is one.
        `start_time`: seconds since the epoch (an event's `ts`)."""
        from opentelemetry import trace

        context = self._parent if parent is None else trace.set_span_in_context(parent)
        return self.tracer.start_span(
            name,
            context=context,
            kind=getattr(trace.SpanKind, kind.upper()),
            attributes=dict(attributes or {}),
            start_time=_nanos(start_time),
        )

    def end_span(
        self,
        span: Any,
        *,
        attributes: Mapping[str, Any] | None = None,
        error: str | None = None,
        end_time: float | None = None,
    ) -> None:
        """Set final attributes, the status (ERROR with `error` as description, else left
        unset as the conventions advise for success) and end the span."""
        if attributes:
            span.set_attributes(dict(attributes))
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=_nanos(end_time))

    def add_event(
        self,
        span: Any,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        timestamp: float | None = None,
    ) -> None:
        span.add_event(name, attributes=dict(attributes or {}), timestamp=_nanos(timestamp))

    def propagate_context(
        self, headers: Mapping[str, str] | None = None, *, span: Any = None
    ) -> dict[str, str]:
        """A copy of `headers` with W3C `traceparent`/`tracestate` of `span` (default: the
        current span of opentelemetry's context, e.g. inside `tracer.start_as_current_span`)."""
        if span is None:
            from opentelemetry import trace

            span = trace.get_current_span()
        return propagation.inject(headers, span)

    # -- closing ----------------------------------------------------------------------

    @property
    def export_errors(self) -> list[str]:
        return list(self._exporter.errors)

    def force_flush(self, timeout_s: float | None = None) -> bool:
        timeout = self.config.close_timeout_s if timeout_s is None else timeout_s
        return bool(self.provider.force_flush(int(timeout * 1000)))

    def shutdown(self) -> bool:
        """Export what is left and stop, within config.close_timeout_s. Returns False when
        that time ran out (spans still unsent are then dropped, never waited for)."""
        if self._closed:
            return True
        self._closed = True
        done = threading.Event()

        def _shutdown() -> None:
            self.provider.shutdown()
            done.set()

        # The SDK's own shutdown may wait on an exporter retrying a dead collector; a daemon
        # thread keeps that wait bounded for the run.
        threading.Thread(target=_shutdown, name="psr-otel-shutdown", daemon=True).start()
        return done.wait(self.config.close_timeout_s)


_BATCH_DEFAULTS = {"max_export_batch_size": 2048, "max_queue_size": 16384}
_BATCH_VARIABLES = ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE")


def batch_options(
    environ: Mapping[str, str], sizes: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Batch sizes of the span processor, unless OTEL_BSP_* set them (then the SDK's reading
    of those, both, so that the two stay consistent). Larger than the SDK's 512: encoding a
    span holds the GIL ~20 us, and an export in the middle of a run stalls the engine's event
    loop for much more than its own CPU (every wake of the loop waits for the exporter's
    thread to let go), so fewer, larger exports: when 2048 spans are ready, every
    OTEL_BSP_SCHEDULE_DELAY (5 s) and at the end (W1: +9% wall time with 512, +2-3% with
    this). 2048 typical spans are ~0.7 MB, well under gRPC's 4 MiB message limit."""
    if any(environ.get(name) for name in _BATCH_VARIABLES):
        return {}
    return dict(_BATCH_DEFAULTS if sizes is None else sizes)


def build_sampler(config: TracingConfig) -> Any:
    from opentelemetry.sdk.trace import sampling

    name = config.sampler
    if name.startswith("parentbased_"):
        return sampling.ParentBased(_root_sampler(name.removeprefix("parentbased_"), config))
    return _root_sampler(name, config)


def _root_sampler(name: str, config: TracingConfig) -> Any:
    from opentelemetry.sdk.trace import sampling

    if name == "always_on":
        return sampling.ALWAYS_ON
    if name == "always_off":
        return sampling.ALWAYS_OFF
    return sampling.TraceIdRatioBased(config.ratio)


def _exporter_for(config: TracingConfig, stream: IO[str] | None) -> Any:
    if config.exporter == "none":
        return _Discard()
    if config.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(out=stream or sys.stderr)
    headers = dict(config.headers) or None
    if config.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        insecure = not config.endpoint.startswith("https://")
        return OTLPSpanExporter(endpoint=config.endpoint, insecure=insecure, headers=headers)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(endpoint=config.endpoint, headers=headers)


class _Guarded:
    """Wraps an exporter so that a failing export is counted, not raised into the SDK's
    worker thread (whose logging would print a traceback into the run's output)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.errors: list[str] = []

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            result = self._inner.export(spans)
        except Exception as error:
            result = SpanExportResult.FAILURE
            self._note(f"{type(error).__name__}: {error}")
        else:
            if result != SpanExportResult.SUCCESS:
                self._note(f"{len(spans)} spans not accepted")
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._inner.force_flush(timeout_millis))

    def _note(self, message: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(message)


class _Discard:
    """OTEL_TRACES_EXPORTER=none: spans are made (context still propagates), never sent."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _hashed_once(resource: Any) -> Any:
    """The same resource, hashed once. Resource.__hash__ serialises every attribute to JSON
    on each call and the OTLP encoder hashes the resource of every span it groups (a tenth
    of the export thread's time, which holds the GIL the run needs). Its attributes are
    immutable, so the hash is too."""
    from opentelemetry.sdk.resources import Resource

    class _Resource(Resource):
        def __init__(self, attributes: Any, schema_url: str | None = None) -> None:
            super().__init__(attributes, schema_url)
            self._hash = super().__hash__()

        def __hash__(self) -> int:
            return self._hash

    return _Resource(resource.attributes, resource.schema_url)


def _nanos(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1e9)
