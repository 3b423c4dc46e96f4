"""The exporter process, started by the shipper (shipping.py) for one run, isolated (-I) on
the engine's sys.path. Reads the TracingConfig and the plan's task attributes, then the
run's event records, from stdin; builds the spans (spans.py) with the ids the engine drew;
exports them: OTLP/HTTP through otlp_http.py, gRPC and the console exporter through a
TracingManager (the SDK's batch processor and exporters). At EOF it ends what is still open,
exports what is left and answers on stdout with one JSON line:
`{"finished": bool, "errors": [...]}`.

Nothing it does reaches the run's console but the console exporter's output (stderr, as in
the engine): failed exports and the SDK's log records (a refused connection, a retry) become
`errors`, which the engine turns into its one warning line.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psr_engine.tracing.config import TracingConfig

# In this process the SDK's export runs beside nothing else: the SDK's batch size (512)
# exports as spans arrive, leaving little for the end; the queue is unbounded in practice so
# that a burst (spans that piled up while the SDK was loading) is never dropped.
BATCH_SIZES = {"max_export_batch_size": 512, "max_queue_size": 1 << 20}
# The default OTLP/HTTP path: spans per request. Each request costs a round trip and the
# collector's handling of it; 2048 typical spans are ~0.4 MB, far under collectors' limits
# (the OpenTelemetry Collector's default is 20 MiB), so a run of 1,000 tasks is one request.
# A batch that does not fill goes out after the SDK's schedule delay (5 s) all the same.
OTLP_BATCH = 2048
SCHEDULE_DELAY_MS = 5000
_MAX_ERRORS = 20


def main(source: IO[bytes] | None = None, out: IO[str] | None = None) -> int:
    """The stream from `source` (default stdin), the answer to `out` (default stdout)."""
    # A Ctrl-C at the terminal goes to the engine's process group, not to this session of
    # its own; ignored anyway, so the engine decides when the stream ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    errors: list[str] = []
    finished = False
    source = sys.stdin.buffer if source is None else source
    answer_to = sys.stdout if out is None else out
    try:
        finished = _export(source, errors)
    except Exception as error:  # reported, never a traceback in the run's output
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        _drain(source)
    import json

    answer = json.dumps({"finished": finished, "errors": list(dict.fromkeys(errors))})
    try:
        answer_to.write(answer + "\n")
        answer_to.flush()
        sys.stderr.flush()
    except OSError:
        pass  # the engine is gone (it exited before closing the stream): nobody to tell
    # The answer is out; tearing the interpreter down (the SDK's threads, every module's
    # objects: ~40 ms) would only keep the engine waiting for this process to exit.
    os._exit(0)


def _export(source: Any, errors: list[str]) -> bool:
    # The default path's libraries first, before waiting for the config: they load while
    # the engine is still preparing the run (the process is started early for that).
    from psr_engine.tracing import otlp_http
    from psr_engine.tracing.wire import config_from, read_frame

    start = read_frame(source)
    if start is None:
        return True  # the engine closed before sending anything: nothing to export
    config = config_from(start["config"])
    planned: dict[str, Any] = start["planned"]
    if otlp_http.usable(config, os.environ):
        return _export_otlp_http(config, planned, source, errors)
    return _export_with_sdk(config, planned, source, errors)


def _build(source: Any, config: TracingConfig, planned: dict[str, Any], send: Any) -> None:
    """Events from the engine into spans, each ended span to `send`; at EOF, the spans
    still open (an engine that died, or stopped before their events) end, incomplete."""
    from psr_engine.tracing.recorder import SpanRecorder
    from psr_engine.tracing.spans import SpanBuilder
    from psr_engine.tracing.wire import from_record, read_frame

    builder = SpanBuilder(SpanRecorder(config, send), lambda task: planned.get(task, {}))
    while (records := read_frame(source)) is not None:
        for record in records:
            builder.handle(*from_record(record))
    builder.end_open(None)


def _export_otlp_http(
    config: TracingConfig, planned: dict[str, Any], source: Any, errors: list[str]
) -> bool:
    """The default path: each span made into its message once, as it ends; a request of them every
    OTLP_BATCH spans, and of what has ended every OTEL_BSP_SCHEDULE_DELAY (a long run's spans
    show as it goes), POSTed by a sender thread, so that reading the pipe never waits on the
    network."""
    import queue
    import threading

    from psr_engine.tracing.otlp_http import Encoder, OtlpHttpExporter, resource_attributes

    exporter = OtlpHttpExporter(config, os.environ)
    encoder = Encoder(resource_attributes(config))
    bodies: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    size = _positive(os.environ.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), OTLP_BATCH)
    delay = _positive(os.environ.get("OTEL_BSP_SCHEDULE_DELAY"), SCHEDULE_DELAY_MS) / 1000
    batch: list[Any] = []  # Span messages, made as each span ends
    lock = threading.Lock()
    encode = encoder.span

    def send(span: Any) -> None:
        encoded = encode(span)
        with lock:
            batch.append(encoded)
            if len(batch) < size:
                return
            spans = batch[:]
            batch.clear()
        bodies.put(encoder.request(spans))

    def take() -> bytes | None:
        with lock:
            spans = batch[:]
            batch.clear()
        return encoder.request(spans) if spans else None

    def post() -> None:
        while True:
            try:
                body = bodies.get(timeout=delay)
            except queue.Empty:
                body = take()  # nothing filled a batch for a while: what there is
                if body is None:
                    continue
            if body is None:
                return
            problem = exporter.export(body)
            if problem is not None and len(errors) < _MAX_ERRORS:
                errors.append(problem)

    sender = threading.Thread(target=post, name="psr-otlp-send", daemon=True)
    sender.start()
    try:
        _build(source, config, planned, send)
        last = take()
        if last is not None:
            bodies.put(last)
    finally:
        bodies.put(None)
        sender.join(config.close_timeout_s)
        exporter.shutdown()
    return not sender.is_alive()


def _export_with_sdk(
    config: TracingConfig, planned: dict[str, Any], source: Any, errors: list[str]
) -> bool:
    """gRPC, the console exporter, credential providers: the SDK's exporters, through a
    TracingManager and its batch processor. The SDK's log records (a refused connection, a
    retry) become `errors` instead of lines in the run's output."""
    import logging

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(errors) < _MAX_ERRORS:
                errors.append(record.getMessage().splitlines()[0][:300])

    sdk_log = logging.getLogger("opentelemetry")
    sdk_log.addHandler(Collect(logging.WARNING))
    sdk_log.propagate = False
    from psr_engine.tracing.recorder import Handover
    from psr_engine.tracing.setup import TracingManager

    manager = TracingManager(config, batch_sizes=BATCH_SIZES)
    try:
        _build(source, config, planned, Handover(manager).send)
    finally:
        finished = manager.shutdown()
        errors.extend(manager.export_errors)
    return finished


def _positive(raw: str | None, default: int) -> int:
    """An OTEL_BSP_* setting if it is a positive number (as the SDK reads them), else
    `default`."""
    try:
        size = int(raw) if raw else 0
    except ValueError:
        size = 0
    return size if size > 0 else default


def _drain(source: Any) -> None:
    """Read to EOF, so the engine's writer never blocks on a process that gave up."""
    try:
        while source.read(1 << 16):
            pass
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
