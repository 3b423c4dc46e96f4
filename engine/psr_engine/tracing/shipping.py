"""The shipper: a run's traced events leave the engine's process for an exporter process
(exporter_process.py), which builds the spans (spans.py), encodes and exports them.

Why a process: importing the OpenTelemetry SDK and an OTLP exporter costs ~0.1 s of CPU,
building a span's attributes and encoding it ~20 us, all holding the GIL the engine's event
loop needs, and W1's loop hands out the next task the moment one ends. In a process of its
own that work runs on the other core; the engine pays for a tuple per event and an id per
attempt. W1 (1,000 tasks): +20% wall time with the SDK in the engine, a few percent this way
(benchmarks/exec_bench.py --trace).

The wire: frames of a 4-byte big-endian length and a `marshal` payload on the process's
stdin. The first frame is the TracingConfig and the plan's attributes of each task, each
further one a list of event records: the event's fields, and the ids the engine gave the
run span (run.started) or the attempt span (task.started). EOF ends the run: the process
ends what is still open, exports what is left and answers with one JSON line on its stdout,
`{"finished": bool, "errors": [...]}`. marshal, not pickle: records are plain values, and
marshal is the fastest codec for those. The process runs in a session of its own (a Ctrl-C
aimed at the run does not stop it before the last spans are out) and exits at EOF, so the
spans of a killed engine still go out, marked incomplete where they had not ended.
"""

from __future__ import annotations

import collections
import contextlib
import json
import marshal
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from psr_engine.events.model import Event
from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import OpenSpan, SpanIds

# Records wait in the engine until this many are queued or SHIP_EVERY_S has passed: fewer,
# larger frames cost the engine less, and a long run still streams its events out.
SHIP_BATCH = 256
SHIP_EVERY_S = 0.5
_HEADER = 4
# Beyond close_timeout_s: the exporter process may still be loading the SDK when a short run
# ends, and its own limit for the last exports starts only after that.
CLOSE_GRACE_S = 3.0


@dataclass(slots=True)
class ShipResult:
    """How the exporter process ended: `finished` when it exported (or tried to export)
    every span in time; `errors` what went wrong on the way (export failures included)."""

    finished: bool
    errors: list[str] = field(default_factory=list)


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


_EVENT_FIELDS = (
    "type",
    "run_id",
    "workflow",
    "ts",
    "task",
    "attempt",
    "status",
    "reason",
    "exit_code",
    "duration_s",
    "cpu_user_s",
    "cpu_sys_s",
    "max_rss_bytes",
    "message",
    "data",
)


def from_record(record: tuple[Any, ...]) -> tuple[Event, Any]:
    """An event record back into the Event and the ids (SpanIds for a root's)."""
    event = Event(**dict(zip(_EVENT_FIELDS, record[:-1], strict=True)))
    ids = record[-1]
    if isinstance(ids, (tuple, list)):
        own, parent = ids
        state = _trace_state(own[3])
        remote = None
        if parent is not None:
            remote = SpanIds(parent[0], parent[1], parent[2], state, is_remote=parent[3])
        ids = (SpanIds(own[0], own[1], own[2], state), remote)
    return event, ids


def pack(span: OpenSpan) -> tuple[Any, ...]:
    """An ended span as the OTLP encoder's record (otlp_http.Encoder)."""
    ids = span.context
    parent = span.parent
    return (
        span.name,
        ids.trace_id,
        ids.span_id,
        ids.trace_flags,
        _state_header(ids.trace_state),
        None
        if parent is None
        else (parent.trace_id, parent.span_id, int(parent.trace_flags), parent.is_remote),
        span.kind,
        span.attributes,
        span.events,
        span.start_time,
        span.end_time,
        span.error,
    )


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


# -- the engine's side ------------------------------------------------------------------


class EventShipper:
    """Starts the exporter process and streams it the event records `send` is given. `send`
    runs on the event loop's thread and only queues; a writer thread encodes and writes, so
    a slow or stalled exporter never blocks the run.

    The process may be started before the config is known (`EventShipper()`, then
    `configure`): the CLI starts it first thing when the environment asks for tracing, so
    that it loads its libraries while the engine compiles the plan. `discard` lets one
    that turned out unneeded go (one never discarded exits with the engine: EOF)."""

    def __init__(
        self,
        config: TracingConfig | None = None,
        planned: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._config = config
        self._planned = dict(planned or {})
        self._configured = threading.Event()
        self._records: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._closing = False
        self._lost: str | None = None
        self._process = subprocess.Popen(
            _exporter_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(os.environ if environ is None else environ),
            start_new_session=True,
            bufsize=0,  # unbuffered: close() never waits on a flush into a full pipe
        )
        self._writer = threading.Thread(target=self._write, name="psr-otel-ship", daemon=True)
        self._writer.start()
        if config is not None:
            self._configured.set()

    def configure(self, config: TracingConfig, planned: Mapping[str, Any] | None = None) -> None:
        """The run's tracing config and the plan's attributes of each task (sent first);
        once, before any record."""
        if self._config is not None:
            raise RuntimeError("the shipper is configured already")
        self._config = config
        self._planned = dict(planned or {})
        self._configured.set()

    def discard(self) -> None:
        """No run to trace after all: the process gets EOF and exits; nothing waits. Does
        nothing to a configured shipper (a sink owns it; its close ends it)."""
        if self._config is not None:
            return
        self._closing = True
        self._configured.set()  # the writer sees no config and ends the stream

    def send(self, record: tuple[Any, ...]) -> None:
        """An event record (event_record) for the exporter process."""
        if self._lost is not None:
            return  # the process stopped reading: nothing would take it
        self._records.append(record)
        if len(self._records) >= SHIP_BATCH:
            self._wake.set()

    def finish(self) -> None:
        """No more spans: ship the rest and end the stream, without waiting. The exporter
        process then exports its last batch while the engine winds the run up (the otel
        sink calls this at run.finished); close() waits for its answer."""
        self._closing = True
        self._wake.set()

    def close(self) -> ShipResult:
        """finish(), then wait for the exporter process's answer: config.close_timeout_s
        (the exporter's own limit for its last exports) and a grace for the process to
        start, at most. Blocking: call it off the event loop."""
        assert self._config is not None, "close() of a shipper never configured"
        self.finish()
        deadline = time.monotonic() + self._config.close_timeout_s + CLOSE_GRACE_S
        self._writer.join(max(0.0, deadline - time.monotonic()))
        try:
            out = self._answer_by(deadline)
        except TimeoutError:
            self._process.kill()
            self._process.wait()
            return ShipResult(False, ["timed out"])
        result = _answer(out, self._process.returncode)
        if self._lost:
            result.errors.insert(0, self._lost)
        return result

    def _answer_by(self, deadline: float) -> bytes:
        """Everything the process writes to stdout until it exits, by `deadline`."""
        stdout = self._process.stdout
        assert stdout is not None
        chunks = []
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise TimeoutError
                chunk = os.read(stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        stdout.close()
        try:
            self._process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise TimeoutError from None
        return b"".join(chunks)

    def _write(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        self._configured.wait()
        try:
            if self._config is None:
                return  # discarded
            start = {"config": config_payload(self._config), "planned": self._planned}
            _write_all(stdin, encode_records(start))
            while True:
                self._wake.wait(SHIP_EVERY_S)
                self._wake.clear()
                closing = self._closing  # read before draining: nothing is left behind
                records = [self._records.popleft() for _ in range(len(self._records))]
                if records:
                    _write_all(stdin, encode_records(records))
                if closing:
                    break
        except (OSError, ValueError) as error:
            self._lost = f"the exporter process stopped reading ({type(error).__name__})"
            self._records.clear()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()  # EOF: the end of the run


def _write_all(stream: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[stream.write(view) or 0 :]


def _answer(out: bytes, returncode: int) -> ShipResult:
    for line in reversed(out.decode(errors="replace").splitlines()):
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if isinstance(answer, dict) and "finished" in answer:
            return ShipResult(bool(answer["finished"]), [str(e) for e in answer.get("errors", [])])
    return ShipResult(False, [f"the exporter process exited with {returncode}"])


# Isolated (-I): no PYTHON* variables, no current folder on sys.path (a user's repository
# may hold a json.py); instead exactly the engine's own sys.path, so the exporter imports
# the same psr_engine and opentelemetry the engine would, installed, editable or from source.
_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from psr_engine.tracing.exporter_process import main; main()"
)


def _exporter_command() -> list[str]:
    """The exporter process's command line. Its environment is the engine's: the OTEL_*
    settings the exporter reads itself (timeouts, compression, certificates) stay in force."""
    root = str(Path(__file__).resolve().parents[2])  # the folder psr_engine is in
    here = os.getcwd()
    # `python -m psr_engine` puts the current folder first: left out, unless psr_engine is
    # imported from there.
    paths = [p for p in sys.path if p and os.path.isabs(p) and (p != here or p == root)]
    if root not in paths:
        paths.append(root)
    return [sys.executable, "-I", "-c", _BOOT, json.dumps(paths)]
