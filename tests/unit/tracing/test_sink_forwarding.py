"""The otel sink's side in the engine: what it forwards to the exporter process and what the
run's processes carry. A recording stand-in takes the shipper's place here (the real exporter
process is exercised in test_shipping.py and, end to end, in tests/integration/tracing)."""

from __future__ import annotations

from typing import Any

import anyio

from psr_engine.events.model import Event
from psr_engine.tracing import OtelSink, TracingConfig
from psr_engine.tracing.shipping import ShipResult
from psr_engine.tracing.wire import from_record

RUN = "20261126-134511-a3f9c2"


class Recording:
    """Stands in for EventShipper: keeps what the sink sends."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.planned: Any = None
        self.finished = False

    def configure(self, config: TracingConfig, planned: Any = None) -> None:
        self.planned = planned

    def send(self, record: Any) -> None:
        self.records.append(from_record(record))

    def finish(self) -> None:
        self.finished = True

    def close(self) -> ShipResult:
        self.finish()
        return ShipResult(True)

    def discard(self) -> None:
        return None


def sink_with(**config: Any) -> tuple[OtelSink, Recording]:
    shipper = Recording()
    sink = OtelSink(config=TracingConfig(**config), shipper=shipper)  # type: ignore[arg-type]
    anyio.run(sink.start)
    return sink, shipper


def ev(type_: str, task: str | None = None, **fields: Any) -> Event:
    return Event(type_, RUN, "etl", task=task, **fields)


def test_an_attempts_process_carries_the_span_id_the_exporter_is_given():
    sink, shipper = sink_with()
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "load", attempt=1))
    env = sink.attempt_env(task_id="load", attempt=1)
    (_, (run_ids, parent)), (started, span_id) = shipper.records
    _, trace_id, attempt_id, flags = env["TRACEPARENT"].split("-")
    assert started.type == "task.started" and started.task == "load"
    assert int(attempt_id, 16) == span_id
    assert int(trace_id, 16) == run_ids.trace_id and flags == "01"
    assert parent is None  # no TRACEPARENT in the engine's environment: a new trace
    assert sink.trace_headers()["traceparent"].split("-")[2] == f"{run_ids.span_id:016x}"


def test_a_retry_gets_a_span_of_its_own():
    sink, shipper = sink_with()
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "load", attempt=1))
    first = sink.attempt_env(task_id="load", attempt=1)["TRACEPARENT"]
    sink.emit(ev("task.retrying", "load", attempt=1, reason="exit code 75"))
    sink.emit(ev("task.started", "load", attempt=2))
    second = sink.attempt_env(task_id="load", attempt=2)["TRACEPARENT"]
    assert first.split("-")[2] != second.split("-")[2]
    assert [e.type for e, _ in shipper.records][1:] == [
        "task.started",
        "task.retrying",
        "task.started",
    ]


def test_an_unsampled_run_forwards_nothing_and_still_propagates_its_decision():
    sink, shipper = sink_with(sampler="always_off")
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "load", attempt=1))
    sink.emit(ev("task.finished", "load", attempt=1, status="succeeded"))
    assert shipper.records == []
    # The task is not sampled either: a script's own spans follow the decision.
    sink.emit(ev("task.started", "report", attempt=1))
    assert sink.attempt_env(task_id="report", attempt=1)["TRACEPARENT"].endswith("-00")


def test_only_the_events_that_make_spans_are_forwarded():
    sink, shipper = sink_with()
    sink.emit(ev("run.started"))
    sink.emit(ev("task.log", "load", message="hello"))
    assert [e.type for e, _ in shipper.records] == ["run.started"]


def test_the_stream_ends_at_run_finished_so_the_last_export_starts_at_once():
    sink, shipper = sink_with()
    sink.emit(ev("run.started"))
    assert not shipper.finished
    sink.emit(ev("run.finished", status="succeeded"))
    assert shipper.finished
    anyio.run(sink.aclose)


def test_the_trace_id_drawn_before_run_started_is_the_run_spans():
    sink, shipper = sink_with()
    trace_id = sink.run_trace_id()
    assert trace_id is not None and len(trace_id) == 32 and int(trace_id, 16)
    assert sink.run_trace_id() == trace_id  # drawn once
    sink.emit(ev("run.started", data={"traceId": trace_id}))
    ((_, (run_ids, _parent)),) = shipper.records
    assert f"{run_ids.trace_id:032x}" == trace_id


def test_a_run_not_sampled_has_no_trace_id():
    sink, shipper = sink_with(sampler="always_off")
    assert sink.run_trace_id() is None
    sink.emit(ev("run.started"))
    assert shipper.records == []  # nothing of it is sent either
