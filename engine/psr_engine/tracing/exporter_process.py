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

import json
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psr_engine.tracing.config import TracingConfig

# In this process the SDK's export runs beside nothing else: the SDK's batch size (512)
# exports as spans arrive, leaving little for the end; the queue is unbounded in practice so
# that a burst (spans that piled up while the SDK was loading) is never dropped.
BATCH_SIZES = {"max_export_batch_size": 512, "max_queue_size": 1 << 20}
_MAX_ERRORS = 20


class _Collect(logging.Handler):
    """The SDK's warnings and errors, kept for the answer instead of printed."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(record.getMessage().splitlines()[0][:300])


def main() -> int:
    # A Ctrl-C at the terminal goes to the engine's process group, not to this session of
    # its own; ignored anyway, so the engine decides when the stream ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    errors: list[str] = []
    sdk_log = logging.getLogger("opentelemetry")
    sdk_log.addHandler(_Collect(errors))
    sdk_log.propagate = False
    finished = False
    source = sys.stdin.buffer
    try:
        finished = _export(source, errors)
    except Exception as error:  # reported, never a traceback in the run's output
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        _drain(source)
    answer = {"finished": finished, "errors": list(dict.fromkeys(errors))}
    try:
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
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
    from psr_engine.tracing.shipping import config_from, read_frame

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
    from psr_engine.tracing.shipping import from_record, read_frame
    from psr_engine.tracing.spans import SpanBuilder

    builder = SpanBuilder(SpanRecorder(config, send), lambda task: planned.get(task, {}))
    while (records := read_frame(source)) is not None:
        for record in records:
            builder.handle(*from_record(record))
    builder.end_open(None)


def _export_otlp_http(
    config: TracingConfig, planned: dict[str, Any], source: Any, errors: list[str]
) -> bool:
    """The default path: spans encoded in batches as they end, each batch POSTed by a
    sender thread, so that reading the pipe never waits on the network."""
    import queue
    import threading

    from psr_engine.tracing.otlp_http import Encoder, OtlpHttpExporter, resource_attributes
    from psr_engine.tracing.shipping import pack

    exporter = OtlpHttpExporter(config, os.environ)
    encoder = Encoder(resource_attributes(config))
    bodies: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    size = _batch_size(os.environ.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"))
    batch: list[Any] = []

    def send(span: Any) -> None:
        batch.append(pack(span))
        if len(batch) >= size:
            bodies.put(encoder.encode(batch))
            batch.clear()

    def post() -> None:
        while (body := bodies.get()) is not None:
            problem = exporter.export(body)
            if problem is not None and len(errors) < _MAX_ERRORS:
                errors.append(problem)

    sender = threading.Thread(target=post, name="psr-otlp-send", daemon=True)
    sender.start()
    try:
        _build(source, config, planned, send)
        if batch:
            bodies.put(encoder.encode(batch))
    finally:
        bodies.put(None)
        sender.join(config.close_timeout_s)
        exporter.shutdown()
    return not sender.is_alive()


def _export_with_sdk(
    config: TracingConfig, planned: dict[str, Any], source: Any, errors: list[str]
) -> bool:
    """gRPC, the console exporter, credential providers: the SDK's exporters, through a
    TracingManager and its batch processor."""
    from psr_engine.tracing.recorder import Handover
    from psr_engine.tracing.setup import TracingManager

    manager = TracingManager(config, batch_sizes=BATCH_SIZES)
    try:
        _build(source, config, planned, Handover(manager).send)
    finally:
        finished = manager.shutdown()
        errors.extend(manager.export_errors)
    return finished


def _batch_size(raw: str | None) -> int:
    """OTEL_BSP_MAX_EXPORT_BATCH_SIZE if it is a positive number (as the SDK reads it), else
    the SDK's default."""
    try:
        size = int(raw) if raw else 0
    except ValueError:
        size = 0
    return size if size > 0 else BATCH_SIZES["max_export_batch_size"]


def _drain(source: Any) -> None:
    """Read to EOF, so the engine's writer never blocks on a process that gave up."""
    try:
        while source.read(1 << 16):
            pass
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
