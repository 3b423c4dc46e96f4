"""The wire between the engine and its exporter process (shipping.py starts it,
exporter_process.py is it): frames of a 4-byte big-endian length and a `marshal` payload on
the process's stdin. The first frame is the TracingConfig and the plan's attributes of each
task, each further one a list of event records: the event's fields, and the ids the engine
gave the run span (run.started) or the attempt span (task.started). marshal, not pickle:
records are plain values, and marshal is the fastest codec for those.

Both sides import this module, the exporter process nothing else of the engine's side: what
it does not load (subprocess, threads' plumbing, the shipper) it does not pay for at each
traced run's start.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from dataclasses import asdict
from typing import IO, Any

from psr_engine.events.model import Event
from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import SpanIds

_HEADER = 4


# -- records ----------------------------------------------------------------------------


def event_record(event: Event, ids: Any = None) -> tuple[Any, ...]:
    """An event as the exporter process needs it (not its outputs or log path), and the ids
    the engine drew: a root's (SpanIds, parent) or an attempt span's id."""
    if isinstance(ids, tuple):
        own, parent = ids
        ids = (
            (own.trace_id, own.span_id, own.trace_flags, _state_header(own.trace_state)),
            None
            if parent is None
            else (parent.trace_id, parent.span_id, int(parent.trace_flags), parent.is_remote),
        )
    return (
        event.type,
        event.run_id,
        event.workflow,
        event.ts,
        event.task,
        event.attempt,
        event.status,
        event.reason,
        event.exit_code,
        event.duration_s,
        event.cpu_user_s,
        event.cpu_sys_s,
        event.max_rss_bytes,
        event.message,
        event.data,
        ids,
    )


def from_record(record: tuple[Any, ...]) -> tuple[Event, Any]:
    """An event record back into the Event and the ids (SpanIds for a root's)."""
    (kind, run_id, workflow, ts, task, attempt, status, reason, exit_code, duration_s) = record[:10]
    (cpu_user_s, cpu_sys_s, max_rss_bytes, message, data, ids) = record[10:]
    event = Event(
        type=kind,
        run_id=run_id,
        workflow=workflow,
        ts=ts,
        task=task,
        attempt=attempt,
        status=status,
        reason=reason,
        exit_code=exit_code,
        duration_s=duration_s,
        cpu_user_s=cpu_user_s,
        cpu_sys_s=cpu_sys_s,
        max_rss_bytes=max_rss_bytes,
        message=message,
        data=data,
    )
    if isinstance(ids, (tuple, list)):
        own, parent = ids
        state = _trace_state(own[3])
        remote = None
        if parent is not None:
            remote = SpanIds(parent[0], parent[1], parent[2], state, is_remote=parent[3])
        ids = (SpanIds(own[0], own[1], own[2], state), remote)
    return event, ids


def _state_header(state: Any) -> str:
    return str(state.to_header()) if state else ""


def _trace_state(header: str) -> Any:
    if not header:
        return None
    from opentelemetry.trace import TraceState

    return TraceState.from_header([header])


def _plain(value: Any) -> Any:
    """A value marshal can write: containers kept, anything else as its str."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


# -- frames -----------------------------------------------------------------------------


def config_payload(config: TracingConfig) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in asdict(config).items()}


def config_from(payload: Mapping[str, Any]) -> TracingConfig:
    return TracingConfig(**payload)


def encode_records(payload: Any) -> bytes:
    """A frame of `payload` (the opening dict, or a list of event records). An event's `data`
    may hold a value marshal cannot write (a plug-in's object): then the frame goes as plain
    values (containers kept, anything else as its str)."""
    try:
        return frame(payload)
    except ValueError:
        return frame(_plain(payload))


def frame(payload: Any) -> bytes:
    data = marshal.dumps(payload)
    return len(data).to_bytes(_HEADER, "big") + data


def read_frame(source: IO[bytes]) -> Any:
    """The next payload, or None at the end of the stream."""
    header = _read_exactly(source, _HEADER)
    if header is None:
        return None
    data = _read_exactly(source, int.from_bytes(header, "big"))
    if data is None:
        raise EOFError("the span stream ended inside a frame")
    return marshal.loads(data)


def _read_exactly(source: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = source.read(size)
        if not chunk:
            if chunks:
                raise EOFError("the span stream ended inside a frame")
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
