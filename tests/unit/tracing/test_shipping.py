"""The span shipper and the exporter process: records survive the pipe, a process that is not
needed goes away, and whatever goes wrong over there comes back as a reason, not a
traceback. (Spans reaching a real collector this way: tests/integration/tracing.)"""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest

from psr_engine.events.model import Event
from psr_engine.tracing import TracingConfig, start_early
from psr_engine.tracing.recorder import SpanRecorder
from psr_engine.tracing.shipping import EventShipper
from psr_engine.tracing.wire import (
    EventRecord,
    config_from,
    config_payload,
    encode_records,
    event_record,
    frame,
    from_record,
    read_frame,
)

CI_PARENT = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "vendor=a",
}


def test_an_event_and_its_ids_come_out_of_the_pipe_as_they_went_in():
    root = SpanRecorder(TracingConfig(parent=CI_PARENT), lambda span: None).root_ids()
    started = Event("run.started", "r1", "etl", ts=1.5, data={"tasks": 2, "labels": {"a": 1}})
    attempt = Event("task.started", "r1", "etl", ts=2.0, task="load", attempt=1)
    finished = Event(
        "task.finished", "r1", "etl", task="load", status="failed", exit_code=3, cpu_user_s=0.1
    )
    records = [event_record(started, root), event_record(attempt, 77), event_record(finished)]
    back = [from_record(r) for r in read_frame(io.BytesIO(encode_records(records)))]

    def fields(event: Any) -> tuple[Any, ...]:
        return tuple(getattr(event, name) for name in EventRecord.__slots__)

    # Every field the spans are made of, as it went in.
    assert [fields(event) for event, _ in back] == [
        fields(started),
        fields(attempt),
        fields(finished),
    ]
    (own, parent), span_id, nothing = (ids for _, ids in back)
    assert (own.trace_id, own.span_id, own.trace_flags) == (
        root[0].trace_id,
        root[0].span_id,
        root[0].trace_flags,
    )
    assert own.trace_state.to_header() == "vendor=a"
    # The run joined the CI job's trace: its parent is the remote span of TRACEPARENT.
    assert parent.is_remote and parent.span_id == 0x00F067AA0BA902B7
    assert (span_id, nothing) == (77, None)


def test_event_data_marshal_cannot_write_goes_as_plain_values():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    event = Event("run.started", "r1", "etl", data={"labels": {"team": Odd()}, "n": (1, 2)})
    ((back, _),) = [
        from_record(r) for r in read_frame(io.BytesIO(encode_records([event_record(event)])))
    ]
    assert back.data == {"labels": {"team": "odd"}, "n": [1, 2]}


def test_the_config_survives_the_pipe():
    config = TracingConfig(headers={"x": "1"}, parent=CI_PARENT, sampler="always_on")
    assert config_from(read_frame(io.BytesIO(frame(config_payload(config))))) == config


def test_a_stream_cut_inside_a_frame_is_an_error_not_a_short_read():
    data = frame(["a record"])
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(data[:-2]))


def test_an_exporter_process_nobody_configures_exits_when_discarded():
    shipper = EventShipper()
    shipper.discard()
    assert shipper._process.wait(timeout=30) == 0


def test_an_exporter_that_cannot_start_says_why_and_prints_no_traceback():
    config = TracingConfig(endpoint="ftp://collector/v1/traces", close_timeout_s=5.0)
    shipper = EventShipper(config)
    shipper.send(event_record(Event("run.started", "r1", "etl")))
    result = shipper.close()
    assert not result.finished
    assert result.errors == ["ValueError: not an http(s) URL: 'ftp://collector/v1/traces'"]


def test_the_console_exporter_goes_through_the_sdk_in_the_exporter_process():
    # The process's stderr is the run's; here a pipe, to read what the exporter printed.
    program = (
        "from psr_engine.events.model import Event\n"
        "from psr_engine.tracing import TracingConfig\n"
        "from psr_engine.tracing.shipping import EventShipper\n"
        "from psr_engine.tracing.wire import event_record\n"
        "from psr_engine.tracing.recorder import SpanRecorder\n"
        "config = TracingConfig(exporter='console')\n"
        "shipper = EventShipper(config)\n"
        "root = SpanRecorder(config, print).root_ids()\n"
        "shipper.send(event_record(Event('run.started', 'r1', 'etl'), root))\n"
        "shipper.send(event_record(Event('run.finished', 'r1', 'etl', status='succeeded')))\n"
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
    assert isinstance(early, EventShipper)
    early.discard()
    assert early._process.wait(timeout=30) == 0


@pytest.mark.skipif(sys.platform != "linux", reason="the exporter is forked on Linux only")
def test_the_early_exporter_is_a_fork_holding_only_its_pipes_in_a_session_of_its_own(tmp_path):
    # apply's first step, in a process of its own (one thread, as the CLI has then): the
    # exporter process is a fork of it, and gets what a fresh one would get: its two pipes
    # and the engine's stderr, a session of its own, the environment it is given.
    program = (
        "import os, sys, time\n"
        "from psr_engine.tracing import TracingConfig, start_early\n"
        "held = open(sys.argv[1], 'w')  # a file the engine has open: not the exporter's\n"
        "early = start_early(environ={'OTEL_EXPORTER_OTLP_ENDPOINT': 'http://127.0.0.1:9',"
        " 'OTEL_EXPORTER_OTLP_COMPRESSION': 'zstd'})\n"
        "pid = early._process.pid\n"
        "print(type(early._process).__name__)\n"
        "deadline = time.monotonic() + 20\n"
        "while time.monotonic() < deadline:  # until the child has set itself up\n"
        "    fds = sorted(int(fd) for fd in os.listdir(f'/proc/{pid}/fd'))\n"
        "    if fds == [0, 1, 2] and os.getsid(pid) == pid:\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "print(fds, os.getsid(pid) == pid != os.getsid(0))\n"
        "early.configure(TracingConfig(endpoint='http://127.0.0.1:9/v1/traces'))\n"
        "print(early.close())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "held.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    kind, seen, result = done.stdout.splitlines()[:3]
    assert kind == "ForkedProcess"
    assert seen == "[0, 1, 2] True"
    # The environment given, not the engine's: its compression setting is refused there.
    assert "unknown OTLP compression 'zstd'" in result


@pytest.mark.parametrize("start", ["threading", "_thread"])
def test_with_another_thread_running_the_exporter_starts_afresh(start):
    # A fork copies no thread but would copy a lock one holds: only a lone thread forks.
    # `_thread`: a thread Python's threading module does not know of (as a C library's).
    import _thread
    import threading

    stop = threading.Event()
    running = threading.Event()

    def wait() -> None:
        running.set()
        stop.wait()

    other = None
    if start == "threading":
        other = threading.Thread(target=wait)
        other.start()
    else:
        _thread.start_new_thread(wait, ())
    running.wait(10)
    try:
        early = start_early(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
        assert isinstance(early._process, subprocess.Popen)
        early.discard()
        assert early._process.wait(timeout=30) == 0
    finally:
        stop.set()
        if other is not None:
            other.join()
