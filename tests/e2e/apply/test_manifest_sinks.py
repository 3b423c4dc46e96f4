"""Sinks declared in the manifest: defaults as the schema documents them, options honoured."""

from __future__ import annotations

import json


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_jsonl_sink_without_a_path_writes_events_beside_the_manifest(ws):
    # Exit 70 (JsonlSink missing 'path') before: the schema says the path has a default.
    ws.manifest("a: {run: echo hi}", extra="sinks: [{type: jsonl}]")
    result = ws.cli("apply", events=False)
    assert result.code == 0, result.stdout + result.stderr
    types = [e["type"] for e in _lines(ws.root / ".psr" / "events.jsonl")]
    assert types[0] == "run.started" and types[-1] == "run.finished"
    assert "task.log" not in types


def test_a_jsonl_sink_keeps_only_the_event_types_it_names_and_logs_when_asked(ws):
    ws.manifest(
        "a: {run: echo hello from a}",
        extra="""
        sinks:
          - {type: jsonl, path: out/lines.jsonl, logs: true, events: [task.log, run.finished]}
          - {type: jsonl, path: out/ends.jsonl, events: [task.finished]}
        """,
    )
    result = ws.cli("apply", events=False)
    assert result.code == 0, result.stdout + result.stderr
    lines = _lines(ws.root / "out" / "lines.jsonl")
    # logs: true turns task.log lines on for the run without --log-events.
    assert [e["type"] for e in lines] == ["task.log", "run.finished"]
    assert lines[0]["message"] == "hello from a"
    assert [e["type"] for e in _lines(ws.root / "out" / "ends.jsonl")] == ["task.finished"]
