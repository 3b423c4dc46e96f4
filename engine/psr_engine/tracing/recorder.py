"""SpanRecorder: the sink's lean path to spans. A span is held as a plain record while open
and becomes an SDK ReadableSpan only when it ends, handed straight to the provider's span
processor (batched and exported as any other span).

Why not the SDK's `tracer.start_span`: every live SDK span costs a sampler call, context
look-ups, locks and attribute cleaning (BoundedAttributes) on the event loop's thread, about
80 us a span, paid twice a task. Here the sampler decides once for a trace's root and its
descendants take that decision from their parent, as the parentbased samplers do (and as
always_on, always_off and traceidratio, keyed on the trace id, decide the same anyway).
Attributes are the plain dicts attributes.py builds: str, bool, int and float values only,
which is what the SDK's cleaning would have kept. Span processors see `on_end` only (they
get no `on_start`, which the batch and simple processors ignore).

opentelemetry is imported when a recorder is built, never at import time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from psr_engine._version import __version__

if TYPE_CHECKING:
    from psr_engine.tracing.setup import TracingManager

INSTRUMENTATION = "psr_engine"


class OpenSpan:
    """A span started and not yet ended: what its ReadableSpan will be made of."""

    __slots__ = ("attributes", "context", "events", "kind", "name", "parent", "start_time")

    def __init__(
        self,
        name: str,
        context: Any,
        parent: Any,
        kind: Any,
        attributes: dict[str, Any],
        start_time: int,
    ) -> None:
        self.name = name
        self.context = context  # SpanContext: its ids are final from the start
        self.parent = parent  # the parent's SpanContext, None for a root of a new trace
        self.kind = kind
        self.attributes = attributes
        self.start_time = start_time
        self.events: list[Any] = []

    def get_span_context(self) -> Any:
        """As an SDK span's: so propagation.carrier works on both."""
        return self.context


class SpanRecorder:
    """Start, annotate and end spans of one TracingManager's provider, cheaply."""

    def __init__(self, manager: TracingManager) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import Event, ReadableSpan
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

        tracer: Any = manager.tracer  # the SDK's Tracer (typed as the API's)
        self._readable = ReadableSpan
        self._event = Event
        self._span_context = SpanContext
        self._error = StatusCode.ERROR
        self._status = Status
        self._unset = Status(StatusCode.UNSET)
        self._flags = (TraceFlags(TraceFlags.DEFAULT), TraceFlags(TraceFlags.SAMPLED))
        self._processor = tracer.span_processor
        self._resource = tracer.resource
        self._sampler = tracer.sampler
        self._ids = tracer.id_generator
        self._scope = InstrumentationScope(INSTRUMENTATION, __version__)
        self._kinds = {k.name.lower(): k for k in trace.SpanKind}
        self._current_span = trace.get_current_span
        self._root_context = manager.root_context

    def start(
        self,
        name: str,
        *,
        parent: OpenSpan | None = None,
        kind: str = "internal",
        attributes: dict[str, Any],
        start_time: float | None = None,
    ) -> OpenSpan:
        """A span under `parent`, or a trace's root (joining the manager's parent carrier)
        when None. `attributes` is taken as is, not copied: pass a fresh dict."""
        span_kind = self._kinds[kind]
        start = time.time_ns() if start_time is None else int(start_time * 1e9)
        if parent is not None:
            up = parent.context
            context = self._span_context(
                up.trace_id,
                self._ids.generate_span_id(),
                is_remote=False,
                trace_flags=up.trace_flags,
                trace_state=up.trace_state,
            )
            return OpenSpan(name, context, up, span_kind, attributes, start)
        # As the SDK: no parent carrier means opentelemetry's current context (an embedding
        # application's active span, if any).
        joined = self._current_span(self._root_context).get_span_context()
        remote = joined if joined.is_valid else None
        trace_id = joined.trace_id if remote is not None else self._ids.generate_trace_id()
        decision = self._sampler.should_sample(
            self._root_context, trace_id, name, span_kind, attributes, ()
        )
        if decision.attributes:
            attributes.update(decision.attributes)
        context = self._span_context(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=self._flags[decision.decision.is_sampled()],
            trace_state=decision.trace_state,
        )
        return OpenSpan(name, context, remote, span_kind, attributes, start)

    def add_event(
        self,
        span: OpenSpan,
        name: str,
        attributes: Mapping[str, Any],
        *,
        timestamp: float | None = None,
    ) -> None:
        when = time.time_ns() if timestamp is None else int(timestamp * 1e9)
        span.events.append(self._event(name, dict(attributes), when))

    def end(
        self,
        span: OpenSpan,
        *,
        attributes: Mapping[str, Any] | None = None,
        error: str | None = None,
        end_time: float | None = None,
    ) -> None:
        """Add the final attributes, the status (ERROR with `error` as description, else
        UNSET) and hand the finished span to the processor, if it is sampled."""
        if not span.context.trace_flags & 0x01:
            return
        if attributes:
            span.attributes.update(attributes)
        self._processor.on_end(
            self._readable(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=self._resource,
                attributes=span.attributes,
                events=tuple(span.events),
                kind=span.kind,
                status=self._unset if error is None else self._status(self._error, error),
                start_time=span.start_time,
                end_time=time.time_ns() if end_time is None else int(end_time * 1e9),
                instrumentation_scope=self._scope,
            )
        )
