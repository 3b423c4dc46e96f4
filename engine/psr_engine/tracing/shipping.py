"""The span shipper: a run's ended spans leave the engine's process for an exporter process
(exporter_process.py), which imports the OpenTelemetry SDK and its OTLP exporter, turns them
into ReadableSpans and exports them.

Why a process: importing and building the SDK and the OTLP/HTTP exporter costs ~0.13 s of
CPU, and encoding spans ~20 us each, all holding the GIL the engine's event loop needs. In a
process of its own that work runs on another core while the tasks run, and the engine pays
only for turning each span into a tuple. W1 (1,000 tasks): +20% wall time in-process, a few
percent this way (benchmarks/exec_bench.py --trace).

The wire: frames of a 4-byte big-endian length and a `marshal` payload on the process's
stdin; the first frame is the TracingConfig, each further one a list of span records. EOF
ends the run's spans: the process exports what is left and answers with one JSON line on its
stdout, `{"finished": bool, "errors": [...]}`. marshal, not pickle: the records are plain
str/int/float/bool/None, tuples, lists and dicts, and marshal is the fastest codec for those.
The process runs in a session of its own (a Ctrl-C aimed at the run does not kill it before
the last spans are out) and exits at EOF, so a killed engine still gets the spans it ended.
"""

from __future__ import annotations

import collections
import json
import marshal
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.recorder import OpenSpan, SpanIds

# Records wait in the engine until this many have ended or SHIP_EVERY_S has passed: fewer,
# larger frames cost the engine less, and a long run still streams its spans out.
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


def pack(span: OpenSpan) -> tuple[Any, ...]:
    """An ended span as a marshal-able record."""
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


class Unpacker:
    """Records back into OpenSpans. Parents are shared SpanIds (the run's for a thousand
    tasks), so the SDK SpanContext each gets is made once."""

    def __init__(self) -> None:
        self._ids: dict[tuple[int, int], SpanIds] = {}
        self._states: dict[str, Any] = {"": None}

    def __call__(self, record: tuple[Any, ...]) -> OpenSpan:
        (name, trace_id, span_id, flags, state, parent, kind, attributes, events) = record[:9]
        start, end, error = record[9:]
        trace_state = self._state(state)
        ids = self._span_ids(trace_id, span_id, flags, trace_state, False)
        up = None
        if parent is not None:
            up = self._span_ids(parent[0], parent[1], parent[2], trace_state, parent[3])
        span = OpenSpan(name, ids, up, kind, attributes, start)
        span.events = [tuple(e) for e in events]
        span.end_time = end
        span.error = error
        return span

    def _span_ids(
        self, trace_id: int, span_id: int, flags: int, state: Any, remote: bool
    ) -> SpanIds:
        key = (trace_id, span_id)
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = SpanIds(trace_id, span_id, flags, state, is_remote=remote)
        return ids

    def _state(self, header: str) -> Any:
        state = self._states.get(header)
        if state is None and header:
            from opentelemetry.trace import TraceState

            state = self._states[header] = TraceState.from_header([header])
        return state


def _state_header(state: Any) -> str:
    return str(state.to_header()) if state else ""


# -- frames -----------------------------------------------------------------------------


def config_payload(config: TracingConfig) -> dict[str, Any]:
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in asdict(config).items()}


def config_from(payload: Mapping[str, Any]) -> TracingConfig:
    return TracingConfig(**payload)


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


class SpanShipper:
    """Starts the exporter process and streams it the spans `send` is given. `send` runs on
    the event loop's thread and only packs and queues; a writer thread encodes and writes,
    so a slow or stalled exporter never blocks the run.

    The process may be started before the config is known (`SpanShipper()`, then
    `configure`): the CLI starts it first thing when the environment asks for tracing, so
    that it loads its libraries while the engine compiles the plan. `discard` lets one
    that turned out unneeded go (one never discarded exits with the engine: EOF)."""

    def __init__(
        self, config: TracingConfig | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self._config = config
        self._configured = threading.Event()
        self._records: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._closing = False
        self._lost: str | None = None
        self._process = subprocess.Popen(
            [sys.executable, "-m", "psr_engine.tracing.exporter_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_exporter_environ(os.environ if environ is None else environ),
            start_new_session=True,
            bufsize=0,  # unbuffered: close() never waits on a flush into a full pipe
        )
        self._writer = threading.Thread(target=self._write, name="psr-otel-ship", daemon=True)
        self._writer.start()
        if config is not None:
            self._configured.set()

    def configure(self, config: TracingConfig) -> None:
        """The run's tracing config (sent first); once, before any span."""
        if self._config is not None:
            raise RuntimeError("the span shipper is configured already")
        self._config = config
        self._configured.set()

    def discard(self) -> None:
        """No run to trace after all: the process gets EOF and exits; nothing waits. Does
        nothing to a configured shipper (a sink owns it; its close ends it)."""
        if self._config is not None:
            return
        self._closing = True
        self._configured.set()
        self._wake.set()
        self._writer.join()
        if self._process.stdin is not None:
            self._process.stdin.close()

    def send(self, span: OpenSpan) -> None:
        self._records.append(pack(span))
        if len(self._records) >= SHIP_BATCH:
            self._wake.set()

    def close(self) -> ShipResult:
        """Ship what is left, end the stream and wait for the exporter process's answer:
        config.close_timeout_s (the exporter's own limit for its last exports) and a grace
        for the process to start, at most. Blocking: call it off the event loop."""
        assert self._config is not None, "close() of a shipper never configured"
        self._closing = True
        self._wake.set()
        timeout = self._config.close_timeout_s + CLOSE_GRACE_S
        self._writer.join(timeout)
        try:
            out, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return ShipResult(False, ["timed out"])
        result = _answer(out, self._process.returncode)
        if self._lost:
            result.errors.insert(0, self._lost)
        return result

    def _write(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        self._configured.wait()
        if self._config is None:
            return  # discarded
        try:
            _write_all(stdin, frame(config_payload(self._config)))
            while True:
                self._wake.wait(SHIP_EVERY_S)
                self._wake.clear()
                closing = self._closing  # read before draining: nothing is left behind
                records = [self._records.popleft() for _ in range(len(self._records))]
                if records:
                    _write_all(stdin, frame(records))
                if closing:
                    break
        except (OSError, ValueError) as error:
            self._lost = f"the exporter process stopped reading ({type(error).__name__})"
            self._records.clear()
        # stdin stays open: close()'s communicate() closes it, which ends the stream.


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


def _exporter_environ(given: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment (the OTEL_* settings the exporter reads itself, such as
    certificates, compression and timeouts, stay in force), with psr_engine importable the
    way it is here, installed or not."""
    environ = dict(given)
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, environ.get("PYTHONPATH", "").split(os.pathsep))]
    environ["PYTHONPATH"] = os.pathsep.join(paths)
    return environ
