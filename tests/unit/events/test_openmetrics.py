"""Runs' events as OpenMetrics: a strict parser (prometheus_client's) accepts the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine.errors import DiagnosedError
from psr_engine.events.openmetrics import openmetrics_text, read_run_figures


def _events(path: Path, workflow: str, *, seconds: float, status: str = "succeeded") -> Path:
    lines = [
        {"type": "run.started", "runId": "r", "workflow": workflow},
        {"type": "task.finished", "task": "a[x=1]", "status": "succeeded", "durationS": 0.25},
        {"type": "task.skipped", "task": "b", "status": "skipped"},
        {"type": "run.finished", "status": status, "durationS": seconds},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_strict_parser_reads_every_run_and_label_back(tmp_path):
    parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    odd = 'etl "nightly"\\ \n2'  # quotes, a backslash and a newline: escaped, not broken
    runs = [
        read_run_figures(_events(tmp_path / "1.jsonl", odd, seconds=1.5)),
        read_run_figures(_events(tmp_path / "2.jsonl", odd, seconds=2, status="failed")),
    ]
    text = openmetrics_text(runs)
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    seconds = families["psr_run_duration_seconds"]
    assert seconds.unit == "seconds"
    assert [(s.labels["run"], s.labels["workflow"], s.value) for s in seconds.samples] == [
        ("1", odd, 1.5),
        ("2", odd, 2.0),
    ]
    tasks = families["psr_task_duration_seconds"].samples
    assert {(s.labels["task"], s.value) for s in tasks} == {("a[x=1]", 0.25)}  # skipped: none
    counts = {
        (s.labels["run"], s.labels["status"]): s.value for s in families["psr_run_tasks"].samples
    }
    assert counts == {
        ("1", "skipped"): 1,
        ("1", "succeeded"): 1,
        ("2", "skipped"): 1,
        ("2", "succeeded"): 1,
    }


def test_a_line_that_is_not_json_is_reported_with_its_place(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"type": "run.started"}\nnope\n')
    with pytest.raises(DiagnosedError, match=r"e\.jsonl:2:1"):
        read_run_figures(path)
