"""run_gate over a project with planted problems: each gate type, failOn, baseline, SARIF."""

from __future__ import annotations

import dataclasses
import json

import pytest

from psr_engine.gates import code as code_module
from psr_engine.gates.code import CodeScanError
from psr_engine.gates.runner import GateReport, write_baseline
from psr_engine.gates.secrets import SecretScanner
from psr_engine.run.gating import GateOutcome


def test_report_has_exactly_the_fields_of_the_runtime_outcome(gate, scan) -> None:
    report = scan(gate("secrets", paths=["config"], fail_on="low"))
    assert [f.name for f in dataclasses.fields(GateReport)] == [
        f.name for f in dataclasses.fields(GateOutcome)
    ]
    outcome = GateOutcome(**dataclasses.asdict(report))
    assert outcome.status == "blocked" and not outcome.passed


def test_secrets_gate_blocks_on_a_planted_token_and_never_shows_it(gate, scan) -> None:
    report = scan(gate("secrets", paths=["config"], fail_on="high"))
    assert report.status == "blocked"
    assert report.counts == {"critical": 1, "high": 0, "medium": 0, "low": 0}
    (finding,) = report.findings
    assert finding["file"] == "config/settings.env" and finding["line"] == 1
    assert finding["ruleId"] == "github-token"
    assert report.message.splitlines()[0] == "1 finding (1 critical); blocking at high"
    assert "config/settings.env:1" in report.message
    assert "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi" not in json.dumps(report.findings)
    assert "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi" not in report.message


def test_fail_on_never_reports_without_blocking(gate, scan) -> None:
    report = scan(gate("secrets", paths=["config"], fail_on="never"))
    assert report.status == "passed"
    assert len(report.findings) == 1
    assert report.message == "1 finding (1 critical); report only (failOn: never)"


def test_findings_below_fail_on_pass(gate, scan) -> None:
    report = scan(
        gate(
            "dependencies",
            requirements=["requirements.txt"],
            fail_on="high",
            options={"osvDb": "osv", "unscoredAs": "medium"},
        )
    )
    assert report.status == "passed"
    assert report.counts["medium"] == 2
    assert report.message == (
        "2 findings (2 medium); none at or above high\n"
        "  note: 2 advisories carry no severity (no CVSS vector, no named level): counted as"
        " medium (unscoredAs): PYSEC-2018-28, PYSEC-2023-74"
    )


def test_baseline_accepts_known_findings_whatever_the_gate_type(project, gate, scan) -> None:
    first = scan(
        gate(
            "dependencies",
            requirements=["requirements.txt"],
            fail_on="medium",
            options={"osvDb": "osv"},
        )
    )
    assert first.status == "blocked"
    baseline = project / "deps-baseline.json"
    baseline.write_text(json.dumps([f["fingerprint"] for f in first.findings]))
    # The pin moves down a line: fingerprints ignore line numbers, so the baseline still holds.
    (project / "requirements.txt").write_text("# old pin\n\nrequests==2.19.0\n")
    again = scan(
        gate(
            "dependencies",
            requirements=["requirements.txt"],
            fail_on="medium",
            baseline="deps-baseline.json",
            options={"osvDb": "osv"},
        )
    )
    assert again.status == "passed" and again.findings == ()
    assert again.message == "no findings, 2 more accepted by the baseline"


def test_a_baseline_written_by_the_secret_scanner_is_accepted(project, gate, scan) -> None:
    found = SecretScanner(workers=1).scan_tree(project).findings
    SecretScanner.write_baseline(found, project / "secrets-baseline.json")
    report = scan(gate("secrets", fail_on="low", baseline="secrets-baseline.json"))
    assert report.status == "passed", report.message


def test_a_broken_baseline_is_an_error_naming_the_file(project, gate, scan) -> None:
    (project / "bad.json").write_text('{"not": "a list"}')
    report = scan(gate("secrets", paths=["config"], baseline="bad.json"))
    assert report.status == "error"
    assert "bad.json" in report.message and "JSON list of fingerprints" in report.message


def test_sarif_is_written_valid_with_relative_uris(project, gate, scan, sarif_valid) -> None:
    report = scan(gate("secrets", paths=["config"], fail_on="low", sarif="out/secrets.sarif"))
    assert report.sarif == str(project / "out" / "secrets.sarif")
    log = sarif_valid(project / "out" / "secrets.sarif")
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "psr-secrets"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "config/settings.env", "uriBaseId": "%SRCROOT%"}


def test_code_gate_with_bandit_finds_the_planted_shell_call(project, gate, scan, sarif_valid):
    report = scan(gate("code", paths=["src"], tools=("bandit",), sarif="code.sarif"))
    assert report.status == "blocked"
    rules = {(f["ruleId"], f["file"], f["line"]) for f in report.findings}
    assert ("B602", "src/app.py", 5) in rules
    assert report.findings[0]["severity"] == "high"  # worst first
    log = sarif_valid(project / "code.sarif")
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == ["bandit"]


def test_exclude_drops_findings_in_matching_files(gate, scan) -> None:
    report = scan(gate("secrets", fail_on="low", options={"exclude": ["config/"]}))
    assert report.status == "passed" and report.findings == ()


def test_dependencies_gate_without_a_database_errors_with_how_to_give_one(gate, scan) -> None:
    report = scan(gate("dependencies", requirements=["requirements.txt"]))
    assert report.status == "error"
    assert "no OSV database" in report.message
    assert "osvDb" in report.message and "PSR_OSV_DB" in report.message
    assert "online: true" in report.message


def test_dependencies_gate_reads_the_database_from_the_environment(
    project, gate, scan, monkeypatch
) -> None:
    monkeypatch.setenv("PSR_OSV_DB", str(project / "osv"))
    report = scan(gate("dependencies", requirements=["requirements.txt"], fail_on="medium"))
    assert report.status == "blocked"
    assert {f["ruleId"] for f in report.findings} == {"PYSEC-2018-28", "PYSEC-2023-74"}


def test_dependencies_gate_finds_dependency_files_in_its_paths(gate, scan) -> None:
    report = scan(gate("dependencies", fail_on="medium", options={"osvDb": "osv"}))
    assert report.status == "blocked"
    assert {f["file"] for f in report.findings} == {"requirements.txt"}


def test_a_missing_path_is_an_error_not_an_empty_pass(gate, scan) -> None:
    report = scan(gate("secrets", paths=["no-such-folder"]))
    assert report.status == "error"
    assert "no-such-folder" in report.message and "no such file or folder" in report.message


def test_a_missing_tool_is_an_error_that_blocks(gate, scan, monkeypatch) -> None:
    # bandit is installed here; a missing install is simulated where CodeAnalyzer looks for it.
    monkeypatch.setattr(code_module.importlib.util, "find_spec", lambda name: None)
    report = scan(gate("code", paths=["src"], tools=("bandit",)))
    assert report.status == "error"
    assert "bandit is not installed" in report.message
    assert "psr-engine[security]" in report.message


@pytest.mark.parametrize(
    "failure", [CodeScanError("bandit failed (exit 2)"), RuntimeError("boom")], ids=str
)
def test_a_crashing_tool_is_an_error_with_its_message(gate, scan, monkeypatch, failure) -> None:
    # A real crash cannot be provoked on demand; the analyser's own entry point raises instead.
    def crash(self, path, *, root=None):
        raise failure

    monkeypatch.setattr(code_module.CodeAnalyzer, "scan_with_bandit", crash)
    report = scan(gate("code", paths=["src"], tools=("bandit",)))
    assert report.status == "error"
    assert str(failure) in report.message
    assert report.findings == ()


def test_write_baseline_then_load_round_trip(project, gate, scan) -> None:
    from psr_engine.gates.findings import Finding
    from psr_engine.gates.runner import load_baseline

    findings = [Finding("t", "R1", "low", "m", file="a.py", snippet="x = 1")]
    assert write_baseline(findings, project / "b" / "base.json") == 1
    assert load_baseline(project / "b" / "base.json") == {findings[0].fingerprint}


def test_a_secrets_gate_says_which_files_were_too_large_to_scan(project, gate, scan) -> None:
    (project / "config" / "dump.sql").write_text("-- rows\n" * 200_000)  # 1.6 MB of text
    report = scan(gate("secrets", paths=["config"]))
    lines = report.message.splitlines()
    assert lines[1] == "  note: 1 file over 1 MB not scanned for secrets: config/dump.sql"
    assert report.status == "blocked"  # the token beside it is still found
