"""Sinks: webhook batching and retries, failing sinks isolated, the console's two faces."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest

from psr_engine.events.bus import EventBus
from psr_engine.events.model import Event
from psr_engine.events.sinks.console import ConsoleSink
from psr_engine.events.sinks.jsonl import JsonlSink
from psr_engine.events.sinks.webhook import WebhookSink


def _event(kind: str, task: str | None = None, **fields) -> Event:
    return Event(kind, "run-1", "wf", task=task, **fields)  # type: ignore[arg-type]


class _Hook:
    """A local endpoint that records batches and fails the first `fail` requests with 503."""

    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[dict]] = []
        self.headers: list[dict] = []
        self.fail = fail
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.fail > 0:
                    hook.fail -= 1
                    self.send_response(503)
                else:
                    hook.batches.append(json.loads(body))
                    hook.headers.append(dict(self.headers))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hook():
    servers: list[_Hook] = []

    def make(fail: int = 0) -> _Hook:
        servers.append(_Hook(fail))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _drive(sink, events) -> None:
    async def main() -> None:
        await sink.start()
        for event in events:
            sink.emit(event)
        await sink.aclose()

    anyio.run(main)


def test_webhook_posts_every_event_in_batches_and_retries_server_errors(hook):
    server = hook(fail=2)
    sink = WebhookSink(server.url, batchSize=10, flushInterval=0.05, headers={"X-Team": "data"})
    events = [_event("task.finished", f"t{i}", status="succeeded") for i in range(25)]
    _drive(sink, events)
    delivered = [e["task"] for batch in server.batches for e in batch]
    assert delivered == [f"t{i}" for i in range(25)]
    assert all(len(batch) <= 10 for batch in server.batches)
    assert server.headers[0]["X-Team"] == "data"
    assert sink.dropped == 0


def test_webhook_posts_only_the_event_types_its_events_option_names(hook):
    # The schema offered `events:` and the sink ignored it (every event was posted).
    server = hook()
    sink = WebhookSink(server.url, flushInterval=0.05, events=["task.finished"])
    _drive(
        sink,
        [
            _event("task.started", "a"),
            _event("task.log", "a", message="x"),
            _event("task.finished", "a", status="succeeded"),
            _event("run.finished"),
        ],
    )
    assert [e["type"] for batch in server.batches for e in batch] == ["task.finished"]


def test_a_jsonl_sink_keeps_task_log_lines_only_when_asked(tmp_path):
    lines = [_event("task.started", "a"), _event("task.log", "a", message="x")]
    _drive(JsonlSink(str(tmp_path / "plain.jsonl")), lines)
    _drive(JsonlSink(str(tmp_path / "logs.jsonl"), logs=True), lines)
    _drive(JsonlSink(str(tmp_path / "named.jsonl"), events=["task.log"]), lines)
    kept = {
        name: [json.loads(x)["type"] for x in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        for name in ("plain", "logs", "named")
    }
    assert kept == {
        "plain": ["task.started"],
        "logs": ["task.started", "task.log"],
        "named": ["task.log"],
    }


def test_a_dead_webhook_never_blocks_and_reports_what_it_dropped(capsys):
    sink = WebhookSink(
        "http://127.0.0.1:9/hook", retries=1, timeout=0.5, closeTimeout=5, flushInterval=0.01
    )
    started = time.monotonic()

    async def main() -> float:
        await sink.start()
        before = time.monotonic()
        for i in range(50):
            sink.emit(_event("task.finished", f"t{i}"))
        emitted = time.monotonic() - before
        await sink.aclose()
        return emitted

    emitted = anyio.run(main)
    assert emitted < 0.5  # emit only queues: a dead endpoint costs the run nothing
    assert time.monotonic() - started < 10
    assert "not delivered" in capsys.readouterr().err


class _Broken:
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        self.calls += 1
        raise RuntimeError("disk full")

    async def aclose(self) -> None:
        return None


def test_a_failing_sink_is_reported_once_and_the_others_go_on(tmp_path):
    broken, reports = _Broken(), []
    jsonl = JsonlSink(str(tmp_path / "e.jsonl"))
    bus = EventBus([broken, jsonl], on_sink_error=lambda name, error: reports.append(name))

    async def main() -> None:
        await bus.start()
        for i in range(5):
            bus.emit(_event("task.finished", f"t{i}"))
        await bus.aclose()

    anyio.run(main)
    assert broken.calls == 1 and reports == ["broken"]
    assert len((tmp_path / "e.jsonl").read_text().splitlines()) == 5


def _run_events() -> list[Event]:
    return [
        _event("run.started", data={"tasks": 3}),
        _event("task.started", "extract", attempt=1),
        _event(
            "task.finished",
            "extract",
            status="succeeded",
            attempt=1,
            duration_s=0.5,
            cpu_user_s=0.2,
            cpu_sys_s=0.1,
            max_rss_bytes=200 * 2**20,
        ),
        _event("task.started", "load[region=eu]", attempt=1),
        _event(
            "task.retrying",
            "load[region=eu]",
            attempt=1,
            reason="exit code 75",
            data={"delayS": 1.0},
        ),
        _event(
            "task.finished",
            "load[region=eu]",
            status="failed",
            attempt=2,
            duration_s=1.0,
            reason="exit code 3",
            log_path="/tmp/load.2.log",
        ),
        _event("task.skipped", "report", status="skipped", reason="upstream_failed"),
        _event(
            "run.finished",
            status="failed",
            duration_s=2.0,
            data={"counts": {"succeeded": 1, "failed": 1, "skipped": 1}},
        ),
    ]


def test_plain_console_prints_a_line_per_event_and_a_summary_table():
    out = io.StringIO()
    _drive(ConsoleSink(stream=out, color=False, live=False), _run_events())
    text = out.getvalue()
    assert "✓ extract succeeded in 500ms" in text
    assert "↻ load[region=eu] attempt 1 exit code 75; retrying in 1.0s" in text
    assert "load[region=eu] failed (exit code 3)" in text and "after 2 attempts" in text
    assert "- report skipped (upstream_failed)" in text
    assert "200Mi" in text  # peak memory in the summary table
    assert text.rstrip().endswith("(1 failed, 1 skipped, 1 succeeded)")
    assert "\x1b[" not in text


def test_quiet_console_prints_only_failures_and_the_summary_line():
    out = io.StringIO()
    _drive(ConsoleSink(stream=out, color=False, live=False, quiet=True), _run_events())
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert not any("extract" in line for line in lines)
    assert any("load[region=eu] failed" in line for line in lines)
    assert lines[-1].startswith("run run-1 failed")


def test_live_console_on_a_terminal_ends_with_the_same_summary():
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    _drive(ConsoleSink(stream=out, color=True, live=True), _run_events())
    text = out.getvalue()
    assert "\x1b[" in text  # colours and cursor control on a terminal
    assert "load[region=eu]" in text and "run run-1 failed" in text


def test_a_running_gate_shows_its_scanners_on_the_status_line_and_in_the_heartbeat():
    started = _event(
        "gate.started", "code", status="running", data={"type": "code", "tools": ["bandit"]}
    )
    finished = _event("gate.finished", "code", status="passed", message="no findings")
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    sink = ConsoleSink(stream=terminal, color=False, environ={})
    sink.emit(_event("run.started", data={"tasks": 0}))
    sink.emit(started)
    time.sleep(0.35)  # no event meanwhile: the timer redraws the line
    sink.emit(finished)
    sink.emit(_event("run.finished", status="succeeded", duration_s=0.4))
    drawn = terminal.getvalue()
    assert "1 running: gate code (bandit) " in drawn
    assert len(set(re.findall(r"gate code \(bandit\) (\d+ms)", drawn))) >= 2

    log = io.StringIO()
    sink = ConsoleSink(stream=log, environ={"PSR_HEARTBEAT_S": "0.1"})
    sink.emit(_event("run.started", data={"tasks": 0}))
    sink.emit(started.with_(data={"type": "secrets", "tools": []}))
    time.sleep(0.35)
    sink.emit(finished)
    sink.emit(_event("run.finished", status="succeeded", duration_s=0.4))
    text = log.getvalue()
    assert "▶ gate code (secrets) scanning\n" in text
    assert "… 1 running: gate code (secrets) " in text


def test_only_a_live_console_asks_the_run_for_task_log_lines():
    from psr_engine.api import sinks_want_logs
    from psr_engine.plan.model import Plan

    plan = Plan(
        workflow="wf", manifest_path="/tmp/wf.yaml", manifest_digest="", params={}, tasks=()
    )

    def console(mode):
        return ConsoleSink(stream=io.StringIO(), output=mode)

    assert sinks_want_logs(plan, [console("live")])
    for mode in ("grouped", "failed", "none"):
        assert not sinks_want_logs(plan, [console(mode)])  # they read the log when it ends
    assert not sinks_want_logs(plan, [ConsoleSink(stream=io.StringIO())])  # not a terminal


def test_a_quiet_console_keeps_quiet_during_silences():
    log = io.StringIO()
    sink = ConsoleSink(stream=log, quiet=True, environ={"PSR_HEARTBEAT_S": "0.1"})
    sink.emit(_event("run.started", data={"tasks": 1}))
    sink.emit(_event("task.started", "slow", attempt=1))
    time.sleep(0.35)
    sink.emit(_event("task.finished", "slow", status="succeeded", attempt=1, duration_s=0.35))
    sink.emit(_event("run.finished", status="succeeded", duration_s=0.4))
    assert "running" not in log.getvalue()


def test_the_status_line_is_cut_to_the_terminal_width_counting_wide_characters():
    from psr_engine.events.sinks.progress import fit

    assert fit("2/7 done · 1.2s", 40) == "2/7 done · 1.2s"
    assert fit("x" * 50, 10) == "x" * 9 + "…"
    cut = fit("任务" * 20, 10)  # each takes two columns
    assert cut == "任务任务" + "…"
