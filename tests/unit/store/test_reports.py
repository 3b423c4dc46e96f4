"""CI reports: the JUnit XML a JUnit library parses back, and the Markdown step summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from psr_engine import api
from psr_engine.events.sinks.junit import JunitSink
from psr_engine.events.sinks.summary import SummarySink
from psr_engine.run.engine import WorkflowEngine

FLOW = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: ci-report}
spec:
  tasks:
    ok: {run: echo fine}
    noisy:
      run: |
        for i in $(seq 1 80); do echo "line $i"; done
        printf '\\033[31mred | `tick` <tag> &\\033[0m\\n'
        exit 4
    after: {needs: [noisy], run: echo never}
    fan: {matrix: {n: [1, 2]}, run: "echo ${{ matrix.n }}"}
"""


def _run(write_manifest: Callable[[str], Path], tmp_path: Path, *sinks) -> None:
    plan = api.make_plan(str(write_manifest(FLOW)))
    WorkflowEngine(sinks=list(sinks), state_dir=str(tmp_path / ".psr")).run_sync(plan)


def test_junit_report_parses_back_with_the_right_counts(
    write_manifest: Callable[[str], Path], tmp_path: Path
) -> None:
    report = tmp_path / "reports" / "junit.xml"
    _run(write_manifest, tmp_path, JunitSink(str(report)))

    xml = JUnitXml.fromfile(str(report))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert suite.name == "ci-report"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (5, 1, 0, 1)
    cases = {case.name: case for case in suite}
    assert set(cases) == {"ok", "noisy", "after", "fan[n=1]", "fan[n=2]"}
    assert cases["ok"].is_passed
    assert cases["ok"].time >= 0
    assert cases["fan[n=2]"].classname == "ci-report.fan"
    (failure,) = cases["noisy"].result
    assert isinstance(failure, Failure)
    assert failure.message == "exit code 4"
    text = failure.text or ""
    assert "line 80" in text
    assert "line 31\n" not in text  # only the last 50 lines of the log
    assert "red | `tick` <tag> &" in text  # escapes survive; the ESC bytes are dropped
    (skipped,) = cases["after"].result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "upstream_failed"


JUNIT_XSD = Path(__file__).resolve().parents[2] / "data" / "junit" / "junit-10.xsd"


def test_junit_report_validates_against_junit_10_xsd(
    write_manifest: Callable[[str], Path], tmp_path: Path
) -> None:
    """The strict schema (Jenkins xUnit's, tests/data/junit/SOURCE.md): no attribute the
    readers merely tolerate, e.g. `skipped` on <testsuites>."""
    etree = pytest.importorskip("lxml.etree")
    report = tmp_path / "junit.xml"
    _run(write_manifest, tmp_path, JunitSink(str(report)))
    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    document = etree.parse(str(report))
    assert schema.validate(document), schema.error_log
    root = document.getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "0")


def test_markdown_summary_has_status_table_and_failure_tails(
    write_manifest: Callable[[str], Path], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    _run(write_manifest, tmp_path, SummarySink(str(summary)))

    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, as $GITHUB_STEP_SUMMARY wants
    assert "## ❌ ci-report: failed" in text
    assert "| `ok` | ✅ succeeded | 1 |" in text
    assert "| `noisy` | ❌ failed | 1 |" in text
    assert "| `after` | ⏭️ skipped | - | - | upstream_failed |" in text
    assert "<summary>❌ <code>noisy</code> failed: exit code 4</summary>" in text
    details = text.split("<details>", 1)[1]
    assert "line 80" in details and "line 30\n" not in details
    # The log holds one backtick: the fence is longer than any run of them.
    assert "```text" in details


def test_summary_goes_to_github_step_summary_when_no_path_is_given(
    write_manifest: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    _run(write_manifest, tmp_path, SummarySink())
    assert "ci-report: failed" in target.read_text()


def test_summary_without_a_path_outside_github_writes_nothing(
    write_manifest: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    sink = SummarySink()
    _run(write_manifest, tmp_path, sink)
    assert sink.path is None
