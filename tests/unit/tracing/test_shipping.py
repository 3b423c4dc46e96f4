"""The span shipper and the exporter process: records survive the pipe, a process that is not
needed goes away, and whatever goes wrong over there comes back as a reason, not a
traceback. (Spans reaching a real collector this way: tests/integration/tracing.)"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from psr_engine.tracing import TracingConfig, start_early
from psr_engine.tracing.recorder import OpenSpan, SpanRecorder
from psr_engine.tracing.shipping import (
    SpanShipper,
    Unpacker,
    config_from,
    config_payload,
    frame,
    pack,
    read_frame,
)

CI_PARENT = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def two_spans() -> list[OpenSpan]:
    spans: list[OpenSpan] = []
    recorder = SpanRecorder(TracingConfig(parent=CI_PARENT), spans.append)
    run = recorder.start("RUN etl", kind="server", attributes={"a": 1}, start_time=1.0)
    task = recorder.start("load", parent=run, attributes={"b": "x", "c": 0.5, "d": True})
    recorder.add_event(task, "retry", {"psr.attempt": 1}, timestamp=2.0)
    recorder.end(task, error="exit code 3", end_time=3.0)
    recorder.end(run, end_time=4.0)
    return spans


def test_a_span_comes_out_of_the_pipe_as_it_went_in():
    task, run = two_spans()
    stream = io.BytesIO(frame([pack(task), pack(run)]))
    unpack = Unpacker()
    back = [unpack(record) for record in read_frame(stream)]
    assert read_frame(stream) is None
    for before, after in zip((task, run), back, strict=True):
        for field in ("name", "kind", "attributes", "start_time", "end_time", "error"):
            assert getattr(after, field) == getattr(before, field)
        assert after.events == before.events
        assert after.context.span_id == before.context.span_id
        assert after.context.trace_id == before.context.trace_id
    # The run joined the CI job's trace: its parent is remote; the task's is the run.
    assert back[1].parent.is_remote and back[1].parent.span_id == 0x00F067AA0BA902B7
    assert back[0].parent.span_id == run.context.span_id and not back[0].parent.is_remote


def test_the_config_survives_the_pipe():
    config = TracingConfig(headers={"x": "1"}, parent=CI_PARENT, sampler="always_on")
    assert config_from(read_frame(io.BytesIO(frame(config_payload(config))))) == config


def test_a_stream_cut_inside_a_frame_is_an_error_not_a_short_read():
    data = frame(["a record"])
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(data[:-2]))


def test_an_exporter_process_nobody_configures_exits_when_discarded():
    shipper = SpanShipper()
    shipper.discard()
    assert shipper._process.wait(timeout=30) == 0


def test_an_exporter_that_cannot_start_says_why_and_prints_no_traceback():
    config = TracingConfig(endpoint="ftp://collector/v1/traces", close_timeout_s=5.0)
    shipper = SpanShipper(config)
    for span in two_spans():
        shipper.send(span)
    result = shipper.close()
    assert not result.finished
    assert result.errors == ["ValueError: not an http(s) URL: 'ftp://collector/v1/traces'"]


def test_the_console_exporter_goes_through_the_sdk_in_the_exporter_process():
    # The process's stderr is the run's; here a pipe, to read what the exporter printed.
    program = (
        "from psr_engine.tracing import TracingConfig\n"
        "from psr_engine.tracing.shipping import SpanShipper\n"
        "from psr_engine.tracing.recorder import SpanRecorder\n"
        "shipper = SpanShipper(TracingConfig(exporter='console'))\n"
        "recorder = SpanRecorder(TracingConfig(), shipper.send)\n"
        "recorder.end(recorder.start('RUN etl', attributes={'a': 1}))\n"
        "print(shipper.close())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert "ShipResult(finished=True, errors=[])" in done.stdout
    assert '"name": "RUN etl"' in done.stderr


def test_tracing_asked_for_by_the_environment_starts_the_exporter_before_the_plan():
    assert start_early(environ={}) is None
    assert start_early(environ={"OTEL_SDK_DISABLED": "true"}, force=True) is None
    early = start_early(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert isinstance(early, SpanShipper)
    early.discard()
    assert early._process.wait(timeout=30) == 0
