"""The runnable examples in manifests/examples do what their comments (and the docs) say."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "examples"


@pytest.fixture
def examples(ws):
    shutil.copytree(EXAMPLES, ws.root, dirs_exist_ok=True)
    return ws


def test_retries_timeouts_example_shows_each_rule(examples):
    result = examples.cli("apply", "retries-timeouts.yaml")
    assert result.code == 1  # `broken` fails the run
    final = result.finished()
    assert (final["flaky"]["status"], final["flaky"]["attempt"]) == ("succeeded", 3)
    assert (final["slow"]["status"], final["slow"]["attempt"]) == ("timed_out", 2)
    assert (final["broken"]["status"], final["broken"]["attempt"]) == ("failed", 1)
    assert final["cleanup"]["status"] == "succeeded"
    assert final["alert"]["status"] == "succeeded"
    assert (final["publish"]["status"], final["publish"]["reason"]) == (
        "skipped",
        "upstream_failed",
    )
    assert final["always"]["status"] == "succeeded"
    assert final["summary"]["status"] == "succeeded"


def test_matrix_fanout_example_runs_every_combination(examples):
    result = examples.cli("apply", "matrix-fanout.yaml")
    assert result.code == 0, result.stdout + result.stderr
    trains = sorted(t for t in result.statuses() if t.startswith("train["))
    assert trains == [
        "train[region=apac,size=small]",
        "train[region=eu,size=large,gpu=true]",
        "train[region=eu,size=small]",
        "train[region=us,size=large]",
    ]
    assert result.statuses()["pick"] == "succeeded"


def test_daily_etl_report_prints_the_date_exactly_as_given(examples):
    """The flagship example's `echo "loaded ... for ${{ params.date }}"` printed
    `'2026 11 24'`, quotes and all, while shlex.quote quoted inside double quotes."""
    result = examples.cli(
        "apply", "daily-etl.yaml", "-p", "rows=5", "-p", "date=2026 11 24", "--log-events"
    )
    assert result.code == 0, result.stdout + result.stderr
    lines = [
        e["message"] for e in result.events if e["type"] == "task.log" and e["task"] == "report"
    ]
    assert lines == ["loaded 15 orders for 2026 11 24"]
