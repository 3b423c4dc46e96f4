"""The otel sink on event sequences the engine emits, spans caught in memory.

An in-memory exporter stands in for the collector here (the OTLP path is covered against a
real receiver in tests/integration/tracing); a simple span processor makes export synchronous.
"""

from __future__ import annotations

import anyio
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from psr_engine.events.model import Event
from psr_engine.tracing import OtelSink, TracingConfig, TracingManager

RUN = "20261126-134511-a3f9c2"
CI_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_sink(**config):
    exporter = InMemorySpanExporter()
    manager = TracingManager(TracingConfig(**config), exporter=exporter, batch=False)
    return OtelSink(manager=manager), exporter


def ev(type_, task=None, **fields):
    return Event(type_, RUN, "etl", task=task, **fields)


def feed(sink, *events):
    anyio.run(sink.start)
    for event in events:
        sink.emit(event)
    anyio.run(sink.aclose)


def spans(exporter):
    return {s.name: s for s in exporter.get_finished_spans()}


def parent_of(span):
    return span.parent.span_id if span.parent else None


def test_a_task_ended_without_starting_is_a_point_span_with_its_result():
    sink, exporter = make_sink()
    feed(
        sink,
        ev("run.started", ts=10.0),
        ev("task.skipped", "load", ts=11.0, status="skipped", reason="upstream_failed"),
        ev("task.finished", "report", ts=11.5, status="cancelled", reason="interrupted"),
        ev("run.finished", ts=12.0, status="cancelled", reason="interrupted"),
    )
    got = spans(exporter)
    load, report, run = got["load"], got["report"], got["RUN etl"]
    assert parent_of(load) == run.context.span_id
    assert load.start_time == load.end_time == 11_000_000_000
    assert load.attributes["cicd.pipeline.task.run.result"] == "skip"
    assert report.attributes["cicd.pipeline.task.run.result"] == "cancellation"
    assert run.attributes["cicd.pipeline.result"] == "cancellation"
    assert load.status.status_code == report.status.status_code == StatusCode.UNSET
    assert run.status.status_code == StatusCode.UNSET


def test_spans_take_the_times_of_their_events():
    sink, exporter = make_sink()
    feed(
        sink,
        ev("run.started", ts=100.0),
        ev("task.started", "a", ts=101.0, attempt=1),
        ev("task.finished", "a", ts=103.5, attempt=1, status="succeeded", exit_code=0),
        ev("run.finished", ts=104.0, status="succeeded"),
    )
    got = spans(exporter)
    assert (got["RUN etl"].start_time, got["RUN etl"].end_time) == (100 * 10**9, 104 * 10**9)
    assert (got["a"].start_time, got["a"].end_time) == (101 * 10**9, 103_500_000_000)
    assert got["a attempt 1"].end_time == 103_500_000_000
    assert got["RUN etl"].kind == SpanKind.SERVER and got["a"].kind == SpanKind.INTERNAL


def test_attempt_env_is_the_traceparent_of_the_open_attempt_span():
    sink, exporter = make_sink()
    anyio.run(sink.start)
    sink.emit(ev("run.started"))
    assert sink.attempt_env(task_id="a", attempt=1) == {}
    sink.emit(ev("task.started", "a", attempt=1))
    first = sink.attempt_env(task_id="a", attempt=1)
    sink.emit(ev("task.retrying", "a", attempt=1, status="retrying", reason="exit code 1"))
    assert sink.attempt_env(task_id="a", attempt=1) == {}
    sink.emit(ev("task.started", "a", attempt=2))
    second = sink.attempt_env(task_id="a", attempt=2)
    sink.emit(ev("task.finished", "a", attempt=2, status="succeeded"))
    sink.emit(ev("run.finished", status="succeeded"))
    anyio.run(sink.aclose)
    got = spans(exporter)
    for env, name in ((first, "a attempt 1"), (second, "a attempt 2")):
        context = got[name].context
        assert env == {
            "TRACEPARENT": f"00-{context.trace_id:032x}-{context.span_id:016x}-01",
            "TRACESTATE": "",
        }


def test_the_run_joins_the_callers_trace_and_passes_its_tracestate_on():
    parent = {
        "traceparent": f"00-{CI_TRACE}-00f067aa0ba902b7-01",
        "tracestate": "vendor=abc",
    }
    sink, exporter = make_sink(parent=parent)
    anyio.run(sink.start)
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "a", attempt=1))
    env = sink.attempt_env(task_id="a", attempt=1)
    headers = sink.trace_headers()
    sink.emit(ev("task.finished", "a", attempt=1, status="succeeded"))
    sink.emit(ev("run.finished", status="succeeded"))
    anyio.run(sink.aclose)
    run = spans(exporter)["RUN etl"]
    assert f"{run.context.trace_id:032x}" == CI_TRACE
    assert run.parent.span_id == 0x00F067AA0BA902B7
    assert env["TRACEPARENT"].startswith(f"00-{CI_TRACE}-")
    assert env["TRACESTATE"] == "vendor=abc"
    assert headers == {
        "traceparent": f"00-{CI_TRACE}-{run.context.span_id:016x}-01",
        "tracestate": "vendor=abc",
    }


def test_an_unsampled_caller_turns_recording_off_but_context_still_flows():
    parent = {"traceparent": f"00-{CI_TRACE}-00f067aa0ba902b7-00"}
    sink, exporter = make_sink(parent=parent)
    anyio.run(sink.start)
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "a", attempt=1))
    env = sink.attempt_env(task_id="a", attempt=1)
    sink.emit(ev("task.finished", "a", attempt=1, status="succeeded"))
    sink.emit(ev("run.finished", status="succeeded"))
    anyio.run(sink.aclose)
    assert exporter.get_finished_spans() == ()
    assert env["TRACEPARENT"].startswith(f"00-{CI_TRACE}-") and env["TRACEPARENT"].endswith("-00")


def test_always_off_records_nothing():
    sink, exporter = make_sink(sampler="always_off")
    feed(sink, ev("run.started"), ev("run.finished", status="succeeded"))
    assert exporter.get_finished_spans() == ()


def test_sub_workflow_tasks_and_gates_nest_under_their_parent_task():
    sink, exporter = make_sink()
    feed(
        sink,
        ev("run.started"),
        ev("task.started", "etl[path=a/b]", attempt=1),
        ev("gate.started", "etl[path=a/b]/code", data={"type": "code", "failOn": "high"}),
        ev("gate.finished", "etl[path=a/b]/code", status="passed", data={"counts": {"low": 2}}),
        ev("task.started", "etl[path=a/b]/extract", attempt=1),
        ev("task.finished", "etl[path=a/b]/extract", attempt=1, status="succeeded"),
        ev("task.finished", "etl[path=a/b]", attempt=1, status="succeeded"),
        ev("run.finished", status="succeeded"),
    )
    got = spans(exporter)
    parent = got["etl[path=a/b]"]
    assert parent_of(got["etl[path=a/b]/extract"]) == parent.context.span_id
    gate = got["gate code"]
    assert parent_of(gate) == parent.context.span_id
    assert gate.attributes["cicd.pipeline.task.type"] == "test"
    assert gate.attributes["psr.gate.findings.low"] == 2
    assert gate.attributes["cicd.pipeline.task.run.result"] == "success"


def test_a_blocking_gate_and_a_blocked_run_are_errors():
    sink, exporter = make_sink()
    feed(
        sink,
        ev("run.started"),
        ev("gate.started", "deps", data={"type": "dependencies", "failOn": "high"}),
        ev("gate.finished", "deps", status="blocked", message="1 high finding"),
        ev("run.finished", status="blocked", reason="blocked by gate deps"),
    )
    got = spans(exporter)
    gate, run = got["gate deps"], got["RUN etl"]
    assert parent_of(gate) == run.context.span_id
    assert gate.status.status_code == StatusCode.ERROR
    assert gate.attributes["error.type"] == "gate_blocked"
    assert run.status.status_code == StatusCode.ERROR
    assert run.status.description == "blocked by gate deps"
    assert run.attributes["error.type"] == "gate_blocked"


def test_spans_left_open_are_ended_and_marked_incomplete():
    sink, exporter = make_sink()
    feed(sink, ev("run.started"), ev("task.started", "a", attempt=1))
    got = spans(exporter)
    assert set(got) == {"RUN etl", "a", "a attempt 1"}
    assert all(s.attributes["psr.incomplete"] for s in got.values())


def test_log_events_are_ignored_and_a_task_without_a_run_still_gets_a_span():
    sink, exporter = make_sink()
    feed(sink, ev("task.log", "a", message="hello"), ev("task.finished", "zzz", status="failed"))
    got = spans(exporter)
    assert "zzz" in got and got["zzz"].status.status_code == StatusCode.ERROR


@pytest.mark.filterwarnings("ignore")
def test_an_unreachable_collector_costs_a_warning_not_the_run(capsys):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    config = TracingConfig(endpoint="http://127.0.0.1:9/v1/traces", close_timeout_s=5.0)
    sink = OtelSink(config=config)
    feed(sink, ev("run.started"), ev("run.finished", status="succeeded"))
    err = capsys.readouterr().err
    assert "warning: tracing: spans not all sent to http://127.0.0.1:9/v1/traces" in err
    assert "Traceback" not in err


def test_a_ratio_sampler_decides_for_the_whole_trace_at_its_root():
    sink, exporter = make_sink(sampler="traceidratio", ratio=0.0)
    anyio.run(sink.start)
    sink.emit(ev("run.started"))
    sink.emit(ev("task.started", "a", attempt=1))
    env = sink.attempt_env(task_id="a", attempt=1)
    sink.emit(ev("task.finished", "a", attempt=1, status="succeeded"))
    sink.emit(ev("run.finished", status="succeeded"))
    anyio.run(sink.aclose)
    assert exporter.get_finished_spans() == ()
    assert env["TRACEPARENT"].endswith("-00")


def test_sink_spans_carry_the_resource_and_the_instrumentation_scope():
    sink, exporter = make_sink(service_name="etl-svc")
    feed(sink, ev("run.started"), ev("task.skipped", "a", status="skipped"), ev("run.finished"))
    for span in exporter.get_finished_spans():
        assert span.resource.attributes["service.name"] == "etl-svc"
        assert span.instrumentation_scope.name == "psr_engine"


def test_task_spans_carry_the_cost_the_run_attributed():
    from psr_engine.events.model import Event
    from psr_engine.tracing import attributes as attrs

    event = Event(
        "task.finished",
        "r",
        "wf",
        task="load",
        status="succeeded",
        attempt=1,
        data={"cost": {"reserved": 0.0125, "used": 0.004, "currency": "USD"}},
    )
    ending = attrs.task_end_attributes(event, attempts=1)
    assert ending["psr.cost.reserved"] == 0.0125
    assert ending["psr.cost.used"] == 0.004
    assert ending["psr.cost.currency"] == "USD"
    bare = attrs.task_end_attributes(event.with_(data=None), attempts=1)
    assert not any(key.startswith("psr.cost.") for key in bare)
