"""Runs traced end to end: real processes, spans exported over OTLP to a real receiver on
loopback, and an instrumented task script continuing the trace from TRACEPARENT.

The engine is driven through the facade's pieces (compile, tracing.build_sink,
WorkflowEngine) exactly as `apply` does; the CLI's own wiring is pinned in test_cli_trace.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from psr_engine import api
from psr_engine.events.sinks.history import HistorySink
from psr_engine.run.engine import WorkflowEngine
from psr_engine.tracing import build_sink

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "manifests" / "examples" / "tracing.yaml"


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without any OTEL_* or trace context a CI job may set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OTEL_") and k not in ("TRACEPARENT", "TRACESTATE")
    }
    return {**env, **extra}


def run_traced(manifest: Path, environ: dict[str, str], *, history: bool = False):
    """`history`: the run is recorded in the manifest's .psr/runs.db too."""
    plan = api.make_plan(str(manifest))
    sink = build_sink(plan, environ=environ)
    assert sink is not None, "tracing should be on"
    recorded = [HistorySink(state_dir=str(manifest.parent / ".psr"))] if history else []
    engine = WorkflowEngine(
        sinks=[sink, *recorded],
        environ=environ,
        state_dir=str(manifest.parent / ".psr"),
        plan_loader=api.plan_loader,
    )
    return engine.run_sync(plan)


def the_trace(receiver, run_id: str):
    roots = [s for s in receiver.spans if s.attributes.get("cicd.pipeline.run.id") == run_id]
    run_spans = [s for s in roots if s.kind == "SERVER"]
    assert len(run_spans) == 1, [s.name for s in roots]
    root = run_spans[0]
    return root, receiver.trace(root.trace_id)


def by_name(spans, name: str):
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{name}: {[s.name for s in spans]}"
    return found[0]


@pytest.fixture(scope="module")
def example_run(otlp_http, tmp_path_factory):
    folder = tmp_path_factory.mktemp("traced")
    shutil.copy(EXAMPLE, folder / "workflow.yaml")
    result = run_traced(
        folder / "workflow.yaml",
        clean_environ(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint),
    )
    root, spans = the_trace(otlp_http, result.run_id)
    return result, root, spans


def test_the_run_is_a_server_root_span_with_the_pipeline_attributes(example_run):
    result, root, _ = example_run
    assert result.status == "failed"
    assert root.name == "RUN traced-build"
    assert root.parent_span_id == ""
    assert root.resource["service.name"] == "traced-build"
    assert root.attributes["cicd.pipeline.name"] == "traced-build"
    assert root.attributes["cicd.pipeline.action.name"] == "RUN"
    assert root.attributes["cicd.pipeline.result"] == "failure"
    assert root.attributes["psr.label.team"] == "platform"
    assert root.status == "ERROR"


def test_every_task_is_a_child_of_the_run_and_every_attempt_of_its_task(example_run):
    _, root, spans = example_run
    tasks = [s for s in spans if s.parent_span_id == root.span_id]
    assert sorted(s.name for s in tasks) == sorted(
        ["prepare", "flaky", "slow", "lint", "publish", "report"]
    )
    for task in tasks:
        assert task.kind == "INTERNAL"
        assert task.attributes["cicd.pipeline.task.name"] == task.name
        attempts = [s for s in spans if s.parent_span_id == task.span_id and " attempt " in s.name]
        expected = {"flaky": 2, "publish": 0}.get(task.name, 1)
        assert sorted(s.name for s in attempts) == [
            f"{task.name} attempt {n}" for n in range(1, expected + 1)
        ]
        for attempt in attempts:
            assert task.start_ns <= attempt.start_ns <= attempt.end_ns <= task.end_ns


def test_a_retried_task_shows_the_failed_attempt_and_a_retry_event(example_run):
    _, _, spans = example_run
    flaky = by_name(spans, "flaky")
    first, second = by_name(spans, "flaky attempt 1"), by_name(spans, "flaky attempt 2")
    assert flaky.attributes["cicd.pipeline.task.run.result"] == "success"
    assert flaky.attributes["psr.attempts"] == 2 and flaky.attributes["psr.retries"] == 1
    assert flaky.status == "UNSET"
    assert first.status == "ERROR"
    assert first.attributes["psr.exit_code"] == 75
    assert first.attributes["cicd.pipeline.task.run.result"] == "failure"
    assert second.attributes["psr.exit_code"] == 0 and second.status == "UNSET"
    assert (
        first.attributes["cicd.pipeline.task.run.id"]
        != second.attributes["cicd.pipeline.task.run.id"]
    )
    retries = [attrs for name, attrs in flaky.events if name == "retry"]
    assert retries == [
        {
            "psr.attempt": 1,
            "psr.reason": "exit code 75",
            "psr.exit_code": 75,
            "psr.retry.delay_s": 0.1,
        }
    ]


def test_a_failed_task_has_an_error_status_and_its_dependent_a_skip(example_run):
    _, _, spans = example_run
    lint = by_name(spans, "lint")
    assert lint.status == "ERROR" and lint.status_message == "exit code 3"
    assert lint.attributes["cicd.pipeline.task.run.result"] == "failure"
    assert lint.attributes["error.type"] == "exit_code"
    assert lint.attributes["cicd.pipeline.task.type"] == "test"
    publish = by_name(spans, "publish")
    assert publish.attributes["cicd.pipeline.task.run.result"] == "skip"
    assert publish.attributes["psr.reason"] == "upstream_failed"
    assert publish.status == "UNSET"


def test_a_timeout_is_an_event_on_the_attempt_and_a_timeout_result(example_run):
    _, _, spans = example_run
    slow, attempt = by_name(spans, "slow"), by_name(spans, "slow attempt 1")
    assert slow.attributes["cicd.pipeline.task.run.result"] == "timeout"
    assert slow.attributes["error.type"] == "timeout"
    assert slow.attributes["psr.timeout_s"] == 0.5
    assert attempt.status == "ERROR"
    assert [name for name, _ in attempt.events] == ["timeout"]


def test_the_scripts_own_span_is_a_child_of_its_attempt_span(example_run):
    _, root, spans = example_run
    attempt = by_name(spans, "report attempt 1")
    script = by_name(spans, "render report")
    assert script.trace_id == root.trace_id
    assert script.parent_span_id == attempt.span_id
    assert script.resource["service.name"] == "report-script"
    assert script.attributes["report.rows"] == 42


def test_the_run_continues_the_trace_given_by_TRACEPARENT(otlp_http, tmp_path):
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: joined}\n"
        "spec:\n  tasks:\n    one: {run: 'true'}\n"
    )
    ci_trace, ci_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    environ = clean_environ(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint,
        OTEL_SERVICE_NAME="ci-job",
        TRACEPARENT=f"00-{ci_trace}-{ci_span}-01",
        TRACESTATE="vendor=abc",
    )
    result = run_traced(manifest, environ, history=True)
    root, spans = the_trace(otlp_http, result.run_id)
    assert root.trace_id == ci_trace and root.parent_span_id == ci_span
    from psr_engine.store import RunStore

    with RunStore.open(str(tmp_path / ".psr")) as store:
        assert store.get(result.run_id).trace_id == ci_trace  # the trace it joined
    assert root.resource["service.name"] == "ci-job"
    assert {s.name for s in spans} >= {"RUN joined", "one", "one attempt 1"}


def test_sub_workflow_tasks_are_children_of_their_parent_task(otlp_http, tmp_path):
    (tmp_path / "child.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: child}\n"
        "spec:\n  tasks:\n    inner: {run: 'true'}\n"
    )
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: parent}\n"
        "spec:\n  tracing: {enabled: true}\n"
        "  tasks:\n    etl: {workflow: child.yaml}\n"
    )
    result = run_traced(manifest, clean_environ(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint))
    assert result.status == "succeeded"
    root, spans = the_trace(otlp_http, result.run_id)
    etl = by_name(spans, "etl")
    inner = by_name(spans, "etl/inner")
    assert etl.parent_span_id == root.span_id
    assert inner.parent_span_id == etl.span_id
    assert by_name(spans, "etl/inner attempt 1").parent_span_id == inner.span_id


def test_spans_reach_a_grpc_collector(otlp_grpc, tmp_path):
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: over-grpc}\n"
        "spec:\n  tracing: {protocol: grpc}\n  tasks:\n    one: {run: 'true'}\n"
    )
    environ = clean_environ(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_grpc.endpoint)
    result = run_traced(manifest, environ)
    root, spans = the_trace(otlp_grpc, result.run_id)
    assert root.name == "RUN over-grpc"
    assert by_name(spans, "one attempt 1").parent_span_id == by_name(spans, "one").span_id


def test_the_history_and_the_dashboard_carry_the_trace_id_the_collector_got(otlp_http, tmp_path):
    pytest.importorskip("starlette", reason="the dashboard (ui extra) is not installed")
    from starlette.testclient import TestClient

    from psr_engine.store import RunStore
    from psr_engine.ui.app import create_app
    from psr_engine.ui.catalog import Catalog, discover
    from psr_engine.ui.security import Guard

    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: linked}\n"
        "spec:\n  tasks:\n    one: {run: 'true'}\n"
    )
    result = run_traced(
        manifest, clean_environ(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint), history=True
    )
    root, _ = the_trace(otlp_http, result.run_id)
    with RunStore.open(str(tmp_path / ".psr")) as store:
        assert store.get(result.run_id).trace_id == root.trace_id
    app = create_app(
        Catalog(discover([str(tmp_path)])),
        Guard(token=None, loopback=True),
        trace_url="http://jaeger.example/trace/{traceId}",
    )
    client = TestClient(app, base_url="http://127.0.0.1")
    html = client.get(f"/runs/{result.run_id}").text
    assert f'href="http://jaeger.example/trace/{root.trace_id}"' in html
    assert client.get(f"/api/runs/{result.run_id}").json()["run"]["traceId"] == root.trace_id


def test_spans_that_ended_go_out_after_the_schedule_delay_while_the_run_goes_on(otlp_http):
    # A long run's finished tasks show in the tracing UI as it goes: the default path sends
    # what has ended every OTEL_BSP_SCHEDULE_DELAY, not only when 2048 spans have piled up.
    import time

    from psr_engine.events.model import Event
    from psr_engine.tracing import TracingConfig
    from psr_engine.tracing.recorder import SpanRecorder
    from psr_engine.tracing.shipping import EventShipper
    from psr_engine.tracing.wire import event_record

    config = TracingConfig(endpoint=f"{otlp_http.endpoint}/v1/traces")
    shipper = EventShipper(config, environ=clean_environ(OTEL_BSP_SCHEDULE_DELAY="100"))
    root = SpanRecorder(config, lambda span: None).root_ids()
    trace_id = f"{root[0].trace_id:032x}"
    run, at = "20261207-120000-5c4d3e", time.time()
    shipper.send(event_record(Event("run.started", run, "etl", ts=at), root))
    shipper.send(event_record(Event("task.started", run, "etl", ts=at, task="load", attempt=1)))
    finished = Event("task.finished", run, "etl", ts=at + 1, task="load", status="succeeded")
    shipper.send(event_record(finished))
    shipper._wake.set()  # ship now rather than after SHIP_EVERY_S
    deadline = time.monotonic() + 20
    while len(otlp_http.trace(trace_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # The task and its attempt, while the run (and the stream) is still open.
    assert sorted(s.name for s in otlp_http.trace(trace_id)) == ["load", "load attempt 1"]
    shipper.send(event_record(Event("run.finished", run, "etl", ts=at + 2, status="succeeded")))
    assert shipper.close().finished
    assert len(otlp_http.trace(trace_id)) == 3
