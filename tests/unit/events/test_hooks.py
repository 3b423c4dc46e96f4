"""Sinks reach past the event stream only through the declared hook protocols
(events/hooks.py, run/hooks.py), found by isinstance, with keyword-only arguments."""

from __future__ import annotations

from psr_engine.events.hooks import AttemptEnvHook, TraceHeadersSource, TraceHeadersUser
from psr_engine.events.sinks.jsonl import JsonlSink
from psr_engine.events.sinks.webhook import WebhookSink
from psr_engine.run.hooks import TaskEndHook


def test_the_webhook_takes_trace_headers_through_its_declared_door():
    hook = WebhookSink("http://127.0.0.1:9/hook")
    assert isinstance(hook, TraceHeadersUser)
    assert not isinstance(hook, AttemptEnvHook)
    assert not isinstance(JsonlSink("x.jsonl"), TraceHeadersUser)


def test_the_otel_sink_offers_attempt_env_and_trace_headers():
    from psr_engine.tracing.sink import OtelSink

    sink = OtelSink()
    assert isinstance(sink, AttemptEnvHook)
    assert isinstance(sink, TraceHeadersSource)


def test_the_cost_annotator_is_a_task_end_hook():
    from psr_engine.cost.budget import CostAnnotator
    from psr_engine.cost.model import Rates

    assert isinstance(CostAnnotator(Rates(1.0, 1.0), workflow="w"), TaskEndHook)


def test_a_webhook_timeout_written_as_a_duration_is_taken():
    # The schema documents `timeout: 10s`; the sink used to fail on float("10s").
    sink = WebhookSink("http://127.0.0.1:9/hook", timeout="10s", flushInterval="250ms")
    assert sink._timeout == 10.0
    assert sink._interval == 0.25
