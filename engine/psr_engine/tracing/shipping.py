"""The shipper: a run's traced events leave the engine's process for an exporter process
(exporter_process.py), which builds the spans (spans.py), encodes and exports them.

Why a process: importing the OpenTelemetry SDK and an OTLP exporter costs ~0.1 s of CPU,
building a span's attributes and encoding it ~20 us, all holding the GIL the engine's event
loop needs, and W1's loop hands out the next task the moment one ends. In a process of its
own that work runs on the other core; the engine pays for a tuple per event and an id per
attempt. W1 (1,000 tasks): +20% wall time with the SDK in the engine, a few percent this way
(benchmarks/exec_bench.py --trace).

The wire (wire.py): marshal frames on the process's stdin, the config and the plan's task
attributes first, then lists of event records. EOF ends the run: the process ends what is
still open, exports what is left and answers with one JSON line on its stdout,
`{"finished": bool, "errors": [...]}`. The process runs in a session of its own (a Ctrl-C
aimed at the run does not stop it before the last spans are out) and exits at EOF, so the
spans of a killed engine still go out, marked incomplete where they had not ended.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from psr_engine.tracing import forked_exporter
from psr_engine.tracing.config import TracingConfig
from psr_engine.tracing.wire import config_payload, encode_records

# Records wait in the engine until this many are queued or SHIP_EVERY_S has passed: fewer,
# larger frames cost the engine less, and a long run still streams its events out.
SHIP_BATCH = 256
SHIP_EVERY_S = 0.5
# Beyond close_timeout_s: the exporter process may still be loading the SDK when a short run
# ends, and its own limit for the last exports starts only after that.
CLOSE_GRACE_S = 3.0


@dataclass(slots=True)
class ShipResult:
    """How the exporter process ended: `finished` when it exported (or tried to export)
    every span in time; `errors` what went wrong on the way (export failures included)."""

    finished: bool
    errors: list[str] = field(default_factory=list)


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
        fork: bool = False,
    ) -> None:
        """`fork`: fork the engine for the process where that is safe (see
        forked_exporter.py), rather than start a fresh interpreter."""
        self._config = config
        self._planned = dict(planned or {})
        self._configured = threading.Event()
        self._records: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._closing = False
        self._lost: str | None = None
        env = dict(os.environ if environ is None else environ)
        self._process: Any = None
        if fork and forked_exporter.can_fork():
            with contextlib.suppress(OSError):
                self._process = forked_exporter.fork_exporter(env, _exporter_paths())
        if self._process is None:
            self._process = subprocess.Popen(
                _exporter_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
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
# may hold a json.py); instead exactly the engine's own sys.path, one entry a line, so the
# exporter imports the same psr_engine (and opentelemetry, for the SDK's paths) the engine
# would, installed, editable or from source. Nothing but sys is imported to read it.
_BOOT = (
    "import sys; sys.path[:] = sys.argv[1].split('\\n'); "
    "from psr_engine.tracing.exporter_process import main; main()"
)


def _exporter_command() -> list[str]:
    """The exporter process's command line. Its environment is the engine's: the OTEL_*
    settings the exporter reads itself (timeouts, compression, certificates) stay in force."""
    return [sys.executable, "-I", "-c", _BOOT, "\n".join(_exporter_paths())]


def _exporter_paths() -> list[str]:
    """The exporter process's sys.path: the engine's, without the current folder."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    here = os.getcwd()
    # `python -m psr_engine` puts the current folder first: left out, unless psr_engine is
    # imported from there. (A folder whose name holds a line break cannot be passed.)
    paths = [
        p for p in sys.path if p and os.path.isabs(p) and (p != here or p == root) and "\n" not in p
    ]
    if root not in paths:
        paths.append(root)
    return paths
