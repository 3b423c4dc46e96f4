"""W3C Trace Context in and out: the run joins TRACEPARENT/TRACESTATE of the engine's
environment (a CI job's trace goes on), every task process gets those of its attempt span,
and HTTP calls (the webhook sink) carry a `traceparent` header.

The formatting is W3C's, done here on a span's context (trace id, span id, flags, state) so
that the hot path (one call per attempt) needs no propagator object; parsing goes through
opentelemetry's TraceContextTextMapPropagator, imported inside the function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def traceparent(span_context: Any) -> str:
    """`00-<trace id>-<span id>-<flags>` of an opentelemetry SpanContext."""
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{int(span_context.trace_flags):02x}"
    )


def carrier(span: Any) -> dict[str, str]:
    """The W3C headers of a span, or of its context (a SpanIds or SpanContext: the engine's
    forwarding sink holds ids, not spans): `traceparent`, and `tracestate` when it has one."""
    getter = getattr(span, "get_span_context", None)
    context = span if getter is None else getter()
    if not context.is_valid:
        return {}
    headers = {"traceparent": traceparent(context)}
    state = context.trace_state.to_header() if context.trace_state else ""
    if state:
        headers["tracestate"] = state
    return headers


def process_env(span: Any) -> dict[str, str]:
    """TRACEPARENT and TRACESTATE for a child process (the names the OpenTelemetry
    environment-carrier convention gives). TRACESTATE is always set, possibly empty, so a
    stale one inherited from the engine's own environment never reaches the task."""
    headers = carrier(span)
    if not headers:
        return {}
    return {"TRACEPARENT": headers["traceparent"], "TRACESTATE": headers.get("tracestate", "")}


def inject(headers: Mapping[str, str] | None, span: Any) -> dict[str, str]:
    """A copy of `headers` with the span's traceparent/tracestate (replacing any given)."""
    out = {k: v for k, v in (headers or {}).items() if k.lower() not in _W3C}
    out.update(carrier(span))
    return out


def extract(headers: Mapping[str, str]) -> Any:
    """An opentelemetry Context from W3C headers (any case); an empty Context when they hold
    no valid traceparent, so the run then starts a trace of its own."""
    from opentelemetry.context import Context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    lowered = {k.lower(): v for k, v in headers.items() if k.lower() in _W3C}
    if "traceparent" not in lowered:
        return Context()
    return TraceContextTextMapPropagator().extract(lowered)


_W3C = frozenset({"traceparent", "tracestate"})
