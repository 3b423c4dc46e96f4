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
from typing import IO, TYPE_CHECKING, Any

from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import SpanIds

if TYPE_CHECKING:
    from psr_engine.events.model import Event

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


class EventRecord:
    """An event as the exporter process gets it: the fields the span builder reads
    (attributes.SpanEvent), in a plain slotted record. Not an Event: making that frozen
    dataclass costs ~4 us, twice a task, and its module loads what the process needs not."""

    __slots__ = (
        "attempt",
        "cpu_sys_s",
        "cpu_user_s",
        "data",
        "duration_s",
        "exit_code",
        "max_rss_bytes",
        "message",
        "reason",
        "run_id",
        "status",
        "task",
        "ts",
        "type",
        "workflow",
    )

    def __init__(self, fields: tuple[Any, ...]) -> None:
        """`fields`: an event record's, in event_record's order, its ids left out."""
        (
            self.type,
            self.run_id,
            self.workflow,
            self.ts,
            self.task,
            self.attempt,
            self.status,
            self.reason,
            self.exit_code,
            self.duration_s,
            self.cpu_user_s,
            self.cpu_sys_s,
            self.max_rss_bytes,
            self.message,
            self.data,
        ) = fields

    type: str
    run_id: str
    workflow: str
    ts: float
    task: str | None
    attempt: int | None
    status: str | None
    reason: str | None
    exit_code: int | None
    duration_s: float | None
    cpu_user_s: float | None
    cpu_sys_s: float | None
    max_rss_bytes: int | None
    message: str | None
    data: dict[str, Any] | None


def from_record(record: tuple[Any, ...]) -> tuple[EventRecord, Any]:
    """An event record back into its fields and the ids (SpanIds for a root's)."""
    event = EventRecord(record[:-1])
    ids = record[-1]
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
