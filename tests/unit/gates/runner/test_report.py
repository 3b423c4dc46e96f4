"""The words of a gate's verdict: counts, summary line, findings table."""

from __future__ import annotations

import pytest

from psr_engine.gates.findings import Finding
from psr_engine.gates.report import (
    count_by_severity,
    findings_table,
    summary,
    verdict,
    worst_first,
)


def _finding(severity="low", line=1, message="m", file="a.py") -> Finding:
    return Finding("bandit", "B101", severity, message, file=file, line=line)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [("low", "blocked"), ("medium", "blocked"), ("high", "passed"), ("never", "passed")],
)
def test_verdict_blocks_at_or_above_fail_on(fail_on: str, expected: str) -> None:
    assert verdict([_finding("low"), _finding("medium")], fail_on) == expected


def test_counts_name_every_severity_worst_first() -> None:
    counts = count_by_severity([_finding("low"), _finding("low"), _finding("critical")])
    assert list(counts.items()) == [("critical", 1), ("high", 0), ("medium", 0), ("low", 2)]


def test_summary_reads_like_the_brief() -> None:
    found = [_finding("high"), _finding("low"), _finding("low")]
    text = summary(found, fail_on="high", status="blocked")
    assert text == "3 findings (1 high, 2 low); blocking at high"
    assert summary([], fail_on="high", status="passed") == "no findings"


def test_worst_first_orders_by_severity_then_place() -> None:
    ordered = worst_first([_finding("low", 1), _finding("critical", 9), _finding("low", 0)])
    assert [(f.severity, f.line) for f in ordered] == [("critical", 9), ("low", 0), ("low", 1)]


def test_table_is_limited_and_says_how_many_more() -> None:
    rows = [_finding(line=n).to_dict() for n in range(1, 26)]
    lines = findings_table(rows, limit=20).splitlines()
    assert lines[0].split() == ["SEVERITY", "TOOL", "RULE", "LOCATION", "MESSAGE"]
    assert len(lines) == 1 + 20 + 1
    assert lines[-1].startswith("... and 5 more")
    assert "a.py:20" in lines[20]


def test_table_clips_long_messages_and_keeps_the_end_of_long_paths() -> None:
    long_file = "/".join(["deep"] * 20) + "/app.py"
    row = _finding(message="x" * 500, file=long_file).to_dict()
    line = findings_table([row]).splitlines()[1]
    assert "app.py:1" in line and len(line) < 200
    assert line.endswith("…")
