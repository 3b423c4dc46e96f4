"""SpanRecorder: the lean path to spans. A span is held as a plain record while open and,
when it ends, handed to a destination: in the exporter process, the OTLP encoder's batch or
the SDK's span processor (Handover); in the engine, a TracingManager's processor for a sink
given one. The engine's forwarding sink uses it only to draw ids (root_ids, new_span_id).

Why not the SDK's `tracer.start_span`: every live SDK span costs a sampler call, context
look-ups, locks and attribute cleaning (BoundedAttributes), about 80 us a span, paid twice a
task. Here the sampler decides once for a trace's root and its
descendants take that decision from their parent, as the parentbased samplers do (and as
always_on, always_off and traceidratio, keyed on the trace id, decide the same anyway).
Attributes are the plain dicts attributes.py builds: str, bool, int and float values only,
which is what the SDK's cleaning would have kept. Span processors see `on_end` only (they
get no `on_start`, which the batch and simple processors ignore).

Why ids and sampling are done here, without opentelemetry: the recorder works from the
TracingConfig alone (W3C ids drawn as the SDK's RandomIdGenerator draws them, root decisions
as the SDK's samplers make them), so TRACEPARENT exists at once and the engine's process
never has to import the SDK.
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from psr_engine._version import __version__

if TYPE_CHECKING:
    from psr_engine.tracing.config import TracingConfig

INSTRUMENTATION = "psr_engine"

_ID_LIMIT = 2**64 - 1
# opentelemetry's TraceContextTextMapPropagator's, so a TRACEPARENT is joined exactly when
# the SDK would join it.
_TRACEPARENT = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?[ \t]*$"
)


class SpanIds:
    """A span's W3C context, as opentelemetry's SpanContext has it (same attribute names, so
    propagation.carrier reads either). `trace_state` is an opentelemetry TraceState or None
    (empty): only a joined TRACESTATE makes one, and parsing that imports opentelemetry."""

    __slots__ = ("is_remote", "native", "span_id", "trace_flags", "trace_id", "trace_state")

    is_valid = True  # ids are drawn non-zero

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        trace_flags: int,
        trace_state: Any = None,
        *,
        is_remote: bool = False,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.trace_state = trace_state
        self.is_remote = is_remote
        self.native: Any = None  # its SpanContext, made once at hand-over


def parse_traceparent(carrier: Mapping[str, str]) -> SpanIds | None:
    """The remote parent of a W3C carrier without `tracestate`, validated as opentelemetry's
    propagator does (None where it would start a new trace)."""
    match = _TRACEPARENT.search(carrier.get("traceparent", ""))
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    if version == "ff" or (version == "00" and rest):
        return None
    return SpanIds(int(trace_id, 16), int(span_id, 16), int(flags, 16), is_remote=True)


def root_sampled(config: TracingConfig, trace_id: int, parent: Any) -> bool:
    """The decision the SDK's sampler of `config` makes for a trace's root span: parentbased_*
    follow a valid parent's sampled flag, else (and for the others) always_on, always_off, or
    traceidratio's test of the trace id's lower 64 bits against round(ratio * 2**64)."""
    name = config.sampler
    if name.startswith("parentbased_"):
        if parent is not None:
            return bool(parent.trace_flags & 0x01)
        name = name.removeprefix("parentbased_")
    if name == "always_on":
        return True
    if name == "always_off":
        return False
    return trace_id & _ID_LIMIT < round(config.ratio * (_ID_LIMIT + 1))


class OpenSpan:
    """A span started and not yet ended: what its ReadableSpan will be made of."""

    __slots__ = (
        "attributes",
        "context",
        "end_time",
        "error",
        "events",
        "kind",
        "name",
        "parent",
        "start_time",
    )

    def __init__(
        self,
        name: str,
        context: SpanIds,
        parent: Any,
        kind: str,
        attributes: dict[str, Any],
        start_time: int,
    ) -> None:
        self.name = name
        self.context = context  # its ids are final from the start
        self.parent = parent  # the parent's SpanIds (or SpanContext), None for a new trace
        self.kind = kind
        self.attributes = attributes
        self.start_time = start_time
        self.events: list[tuple[str, dict[str, Any], int]] = []
        self.end_time = 0
        self.error: str | None = None

    def get_span_context(self) -> SpanIds:
        """As an SDK span's: so propagation.carrier works on both."""
        return self.context


class SpanRecorder:
    """Start, annotate and end spans of one run's trace, cheaply. Each sampled span goes to
    `send` when it ends (unsampled ones are dropped there: their ids still propagate)."""

    def __init__(self, config: TracingConfig, send: Callable[[OpenSpan], None]) -> None:
        self._config = config
        self._send = send
        self._bits = random.getrandbits
        self._root_parent = _root_parent(config.parent)
        # An embedding application's active span can only exist if it loaded opentelemetry
        # before the run.
        self._app_context = "opentelemetry.context" in sys.modules

    def start(
        self,
        name: str,
        *,
        parent: OpenSpan | None = None,
        kind: str = "internal",
        attributes: dict[str, Any],
        start_time: float | None = None,
        span_id: int | None = None,
        ids: tuple[SpanIds, Any] | None = None,
    ) -> OpenSpan:
        """A span under `parent`, or a trace's root (joining the config's parent carrier)
        when None. `attributes` is taken as is, not copied: pass a fresh dict. `span_id`:
        the child's id, when it was drawn elsewhere (the engine's, for an attempt span its
        process already carries); `ids`: a root's (SpanIds, parent) from root_ids()."""
        start = time.time_ns() if start_time is None else int(start_time * 1e9)
        if parent is not None:
            up = parent.context
            own = SpanIds(
                up.trace_id, span_id or self.new_span_id(), up.trace_flags, up.trace_state
            )
            return OpenSpan(name, own, up, kind, attributes, start)
        own, remote = ids if ids is not None else self.root_ids()
        return OpenSpan(name, own, remote, kind, attributes, start)

    def root_ids(self) -> tuple[SpanIds, Any]:
        """The ids of a new trace root and its parent: the config's parent carrier (or an
        embedding application's active span), else none; sampled as the config says."""
        if self._config.parent:
            remote = self._root_parent
        else:
            remote = _current_span_context() if self._app_context else None
        trace_id = remote.trace_id if remote is not None else self._trace_id()
        sampled = root_sampled(self._config, trace_id, remote)
        state = remote.trace_state if remote is not None else None
        return SpanIds(trace_id, self.new_span_id(), int(sampled), state), remote

    def add_event(
        self,
        span: OpenSpan,
        name: str,
        attributes: Mapping[str, Any],
        *,
        timestamp: float | None = None,
    ) -> None:
        when = time.time_ns() if timestamp is None else int(timestamp * 1e9)
        span.events.append((name, dict(attributes), when))

    def end(
        self,
        span: OpenSpan,
        *,
        attributes: Mapping[str, Any] | None = None,
        error: str | None = None,
        end_time: float | None = None,
    ) -> None:
        """Add the final attributes, the status (ERROR with `error` as description, else
        UNSET) and send the finished span on, if it is sampled."""
        if not span.context.trace_flags & 0x01:
            return
        if attributes:
            span.attributes.update(attributes)
        span.error = error
        span.end_time = time.time_ns() if end_time is None else int(end_time * 1e9)
        self._send(span)

    def _trace_id(self) -> int:
        # As the SDK's RandomIdGenerator: random bits, drawn again in the unlikely zero case.
        trace_id = self._bits(128)
        while not trace_id:
            trace_id = self._bits(128)
        return trace_id

    def new_span_id(self) -> int:
        span_id = self._bits(64)
        while not span_id:
            span_id = self._bits(64)
        return span_id


def _root_parent(carrier: Mapping[str, str]) -> Any:
    """The remote parent the run's root joins, or None. A TRACESTATE is parsed by
    opentelemetry's propagator (rare: its rules are not worth copying)."""
    if not carrier:
        return None
    if "tracestate" not in carrier:
        return parse_traceparent(carrier)
    from opentelemetry import trace

    from psr_engine.tracing import propagation

    joined = trace.get_current_span(propagation.extract(carrier)).get_span_context()
    return joined if joined.is_valid else None


def _current_span_context() -> Any:
    """As the SDK: no parent carrier means opentelemetry's current context (an embedding
    application's active span)."""
    from opentelemetry import trace

    joined = trace.get_current_span().get_span_context()
    return joined if joined.is_valid else None


class Handover:
    """Ended OpenSpans into ReadableSpans for one provider's span processor (that of a
    TracingManager, or of anything with its `tracer`)."""

    def __init__(self, manager: Any) -> None:
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
        self._trace_flags = TraceFlags
        self._processor = tracer.span_processor
        self._resource = tracer.resource
        self._scope = InstrumentationScope(INSTRUMENTATION, __version__)
        self._kinds = {k.name.lower(): k for k in trace.SpanKind}

    def send(self, span: OpenSpan) -> None:
        event = self._event
        self._processor.on_end(
            self._readable(
                name=span.name,
                context=self._native(span.context),
                parent=None if span.parent is None else self._native(span.parent),
                resource=self._resource,
                attributes=span.attributes,
                events=tuple(event(name, attrs, when) for name, attrs, when in span.events),
                kind=self._kinds[span.kind],
                status=self._unset if span.error is None else self._status(self._error, span.error),
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=self._scope,
            )
        )

    def _native(self, ids: Any) -> Any:
        """The SpanContext of SpanIds (made once per span: its children reuse it); one
        already (a joined parent) as it is."""
        if not isinstance(ids, SpanIds):
            return ids
        if ids.native is None:
            ids.native = self._span_context(
                ids.trace_id,
                ids.span_id,
                is_remote=ids.is_remote,
                trace_flags=self._trace_flags(ids.trace_flags),
                trace_state=ids.trace_state,
            )
        return ids.native
