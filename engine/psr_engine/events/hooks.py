"""The declared doors through which sinks reach past the event stream (Hamilton's lifecycle
hooks: keyword-only methods, so a hook can grow an argument without breaking a plug-in).

A sink takes part by having the method: the engine and the facade find it with isinstance
against these runtime-checkable Protocols, never by looking a name up.

    AttemptEnvHook       adds variables to each attempt's environment (tracing: TRACEPARENT)
    RunTraceHook         the run's trace id, drawn before run.started (which carries it)
    TraceHeadersSource   the W3C headers of the run's trace (the otel sink)
    TraceHeadersUser     sends them with what it delivers (the webhook), given a source
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class AttemptEnvHook(Protocol):
    def attempt_env(self, *, task_id: str, attempt: int) -> Mapping[str, str]:
        """Variables for attempt `attempt` of task instance `task_id`, called after its
        task.started event was emitted and before its process starts."""
        ...


@runtime_checkable
class RunTraceHook(Protocol):
    def run_trace_id(self) -> str | None:
        """The trace id (32 lowercase hex digits) the run's spans will have, drawn now if it
        was not yet; None when the run is not traced (not sampled). Called by the engine
        just before it emits run.started, whose data carries it (`traceId`): the history
        records it without knowing of tracing."""
        ...


@runtime_checkable
class TraceHeadersSource(Protocol):
    def trace_headers(self) -> Mapping[str, str]:
        """`traceparent` (and `tracestate`) of the run's span, or {} before it exists."""
        ...


@runtime_checkable
class TraceHeadersUser(Protocol):
    def use_trace_headers(self, *, source: Callable[[], Mapping[str, str]]) -> None:
        """From now on, add `source()` to what is sent."""
        ...


__all__ = ["AttemptEnvHook", "RunTraceHook", "TraceHeadersSource", "TraceHeadersUser"]
