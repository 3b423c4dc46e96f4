"""TracingManager: samplers, exporters, context propagation, without touching the global
tracer provider."""

from __future__ import annotations

import io

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from psr_engine.tracing import TracingConfig, TracingManager
from psr_engine.tracing.setup import batch_options, build_sampler


def manager(**config) -> tuple[TracingManager, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return TracingManager(TracingConfig(**config), exporter=exporter, batch=False), exporter


def test_start_span_add_event_and_end_span_record_what_was_asked():
    tracing, exporter = manager()
    root = tracing.start_span("root", kind="server", attributes={"a": 1}, start_time=5.0)
    child = tracing.start_span("child", parent=root)
    tracing.add_event(child, "retry", {"psr.attempt": 1})
    tracing.end_span(child, error="exit code 3", attributes={"b": "x"})
    tracing.end_span(root, end_time=9.0)
    done = {s.name: s for s in exporter.get_finished_spans()}
    assert done["root"].kind == trace.SpanKind.SERVER
    assert (done["root"].start_time, done["root"].end_time) == (5 * 10**9, 9 * 10**9)
    assert done["child"].parent.span_id == done["root"].context.span_id
    assert [e.name for e in done["child"].events] == ["retry"]
    assert done["child"].status.status_code == trace.StatusCode.ERROR
    assert done["child"].attributes["b"] == "x"


def test_propagate_context_adds_w3c_headers_and_keeps_the_others():
    tracing, _ = manager()
    span = tracing.start_span("call")
    headers = tracing.propagate_context(
        {"Content-Type": "application/json", "Traceparent": "00-stale-stale-00"}, span=span
    )
    context = span.get_span_context()
    assert headers == {
        "Content-Type": "application/json",
        "traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-01",
    }


def test_propagate_context_defaults_to_the_current_span():
    tracing, _ = manager()
    with tracing.tracer.start_as_current_span("current") as span:
        headers = tracing.propagate_context()
    assert headers["traceparent"].split("-")[2] == f"{span.get_span_context().span_id:016x}"


def test_the_global_tracer_provider_is_left_alone():
    before = trace.get_tracer_provider()
    manager()
    assert trace.get_tracer_provider() is before


@pytest.mark.parametrize(
    ("name", "kind", "root"),
    [
        ("always_on", sampling.StaticSampler, None),
        ("always_off", sampling.StaticSampler, None),
        ("traceidratio", sampling.TraceIdRatioBased, None),
        ("parentbased_always_on", sampling.ParentBased, sampling.StaticSampler),
        ("parentbased_traceidratio", sampling.ParentBased, sampling.TraceIdRatioBased),
    ],
)
def test_every_sampler_name_builds_its_sampler(name, kind, root):
    sampler = build_sampler(TracingConfig(sampler=name, ratio=0.5))
    assert isinstance(sampler, kind)
    if root is not None:
        assert isinstance(sampler._root, root)
    if "ratio" in name:
        assert "0.5" in sampler.get_description()


def test_the_console_exporter_writes_spans_to_its_stream():
    stream = io.StringIO()
    tracing = TracingManager(TracingConfig(exporter="console"), stream=stream, batch=False)
    tracing.end_span(tracing.start_span("visible"))
    assert tracing.shutdown()
    assert '"name": "visible"' in stream.getvalue()


def test_the_none_exporter_still_makes_valid_contexts():
    tracing = TracingManager(TracingConfig(exporter="none"))
    span = tracing.start_span("quiet")
    assert tracing.propagate_context(span=span)["traceparent"].endswith("-01")
    tracing.end_span(span)
    assert tracing.shutdown()


def test_batches_are_larger_than_the_sdks_unless_otel_bsp_variables_say():
    assert batch_options({}) == {"max_export_batch_size": 2048, "max_queue_size": 16384}
    assert batch_options({"OTEL_BSP_MAX_QUEUE_SIZE": "100"}) == {}
    assert batch_options({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"}) == {}
