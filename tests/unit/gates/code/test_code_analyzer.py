"""CodeAnalyzer: bandit and semgrep find the planted issues, and fail with clear messages."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from psr_engine.errors import PsrError
from psr_engine.gates import code
from psr_engine.gates.code import (
    BANDIT_SEVERITY,
    CodeAnalyzer,
    CodeScanError,
    ScannerNotInstalled,
)


def _at(findings, tool):
    return {(f.file, f.line, f.rule_id) for f in findings if f.tool == tool}


def test_bandit_finds_every_planted_issue_at_its_line(project_scan, planted):
    found = _at(project_scan.findings, "bandit")
    missing = [p for p in planted if (p.file, p.line, p.bandit_id) not in found]
    assert len(planted) >= 10
    assert missing == []


def test_semgrep_finds_every_planted_issue_at_its_line(project_scan, planted):
    found = _at(project_scan.findings, "semgrep")
    missing = [p for p in planted if (p.file, p.line, p.semgrep_id) not in found]
    assert missing == []


def test_semgrep_reports_nothing_but_the_planted_issues(project_scan, planted):
    planted_lines = {(p.file, p.line, p.semgrep_id) for p in planted}
    assert _at(project_scan.findings, "semgrep") == planted_lines
    assert not [f for f in project_scan.findings if f.file == "app/safe.py" and f.tool == "semgrep"]


def test_finding_paths_are_posix_and_relative_to_the_scanned_root(project_scan, project_dir):
    for finding in project_scan.findings:
        assert not finding.file.startswith("/") and "\\" not in finding.file
        assert (project_dir / finding.file).is_file()


def test_findings_carry_the_offending_line_and_a_stable_fingerprint(project_scan):
    rule = "psr.python.subprocess-shell-injection"
    shell = [f for f in project_scan.findings if f.rule_id == rule]
    assert shell[0].snippet.startswith('subprocess.run(f"tar czf')
    assert shell[0].column == 5 and shell[0].end_line == shell[0].line
    assert shell[0].rule_name == "Shell command built from interpolated input"
    assert shell[0].help_uri.startswith("https://")
    assert shell[0].properties["cwe"][0].startswith("CWE-78")
    assert len({f.fingerprint for f in project_scan.findings}) == len(project_scan.findings)


def test_semgrep_severity_comes_from_the_rules_psr_severity(project_scan):
    by_rule = {f.rule_id: f for f in project_scan.findings if f.tool == "semgrep"}
    assert by_rule["psr.python.chmod-world-writable"].severity == "high"
    assert by_rule["psr.python.tempfile-mktemp"].severity == "medium"
    assert by_rule["psr.python.tempfile-mktemp"].confidence == "high"


def test_bandit_severity_follows_severity_times_confidence(project_scan):
    for finding in (f for f in project_scan.findings if f.tool == "bandit"):
        pair = (finding.properties["bandit_severity"], finding.properties["bandit_confidence"])
        assert finding.severity == BANDIT_SEVERITY.get(pair, "low")
    shell = next(f for f in project_scan.findings if f.rule_id == "B602")
    assert shell.severity == "high"  # HIGH severity, HIGH confidence


def test_bandit_severity_table_lowers_low_confidence_one_step():
    assert BANDIT_SEVERITY[("HIGH", "HIGH")] == "high"
    assert BANDIT_SEVERITY[("HIGH", "LOW")] == "medium"
    assert BANDIT_SEVERITY[("MEDIUM", "LOW")] == "low"
    assert ("LOW", "HIGH") not in BANDIT_SEVERITY  # low severity stays low


def test_scan_findings_are_sorted_by_file_then_line(project_scan):
    keys = [(f.file, f.line) for f in project_scan.findings]
    assert keys == sorted(keys)


def test_root_keeps_paths_relative_to_the_repository(project_dir):
    findings = CodeAnalyzer().scan(project_dir / "jobs", tools=("bandit",), root=project_dir)
    assert {f.file for f in findings} == {"jobs/shell.py"}


def test_scanning_one_file_reports_paths_relative_to_its_folder(project_dir):
    findings = CodeAnalyzer().scan_with_bandit(project_dir / "jobs" / "shell.py")
    assert {f.file for f in findings} == {"shell.py"}


def test_bandit_skips_virtualenvs_inside_the_scanned_tree(tmp_path):
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text("import os\nos.system('ls ' + x)\n")
    (tmp_path / "main.py").write_text("import pickle\npickle.loads(b'')\n")
    findings = CodeAnalyzer().scan_with_bandit(tmp_path)
    assert {f.file for f in findings} == {"main.py"}


def test_bandit_reports_unparsable_files_as_warnings(tmp_path):
    (tmp_path / "broken.py").write_text("def (:\n")
    analyzer = CodeAnalyzer()
    assert analyzer.scan_with_bandit(tmp_path) == []
    assert any("broken.py" in w for w in analyzer.warnings)


def test_semgrep_failure_is_a_summary_not_a_traceback(tmp_path):
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: broken\n    pattern: eval(\n")
    (tmp_path / "x.py").write_text("eval(input())\n")
    with pytest.raises(CodeScanError) as caught:
        CodeAnalyzer(semgrep_rules=str(tmp_path / "bad.yaml"), timeout=120).scan_with_semgrep(
            tmp_path / "x.py"
        )
    message = str(caught.value)
    assert message.startswith("semgrep failed (exit ")
    assert "bad.yaml:2:5: Invalid rule schema" in message  # where, and what semgrep said
    assert "Traceback" not in message and len(message) < 2000
    assert isinstance(caught.value, PsrError)


def test_missing_bandit_names_the_extra_to_install(monkeypatch, tmp_path):
    # bandit is installed in this venv and cannot be uninstalled for one test; hide it instead.
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "bandit" else real(name, *args)

    monkeypatch.setattr(code.importlib.util, "find_spec", find_spec)
    with pytest.raises(ScannerNotInstalled) as caught:
        CodeAnalyzer().scan_with_bandit(tmp_path)
    assert str(caught.value) == "bandit is not installed: pip install 'psr-engine[security]'"


def test_missing_semgrep_names_the_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ScannerNotInstalled) as caught:
        CodeAnalyzer().scan_with_semgrep(tmp_path)
    assert str(caught.value) == "semgrep is not installed: pip install 'psr-engine[security]'"


def test_a_tool_that_overruns_its_timeout_is_stopped(tmp_path):
    (tmp_path / "x.py").write_text("x = 1\n")
    with pytest.raises(CodeScanError, match="did not finish within"):
        CodeAnalyzer(timeout=0.001).scan_with_bandit(tmp_path)


def test_unknown_tool_and_missing_path_are_user_errors(tmp_path):
    with pytest.raises(CodeScanError, match="unknown code scanner 'pylint'"):
        CodeAnalyzer().scan(tmp_path, tools=("bandit", "pylint"))
    with pytest.raises(CodeScanError, match="no such file or directory"):
        CodeAnalyzer().scan(tmp_path / "missing", tools=("bandit",))


def test_semgrep_runs_offline_and_with_a_writable_home(monkeypatch, tmp_path):
    read_only = tmp_path / "home"
    read_only.mkdir(mode=0o500)
    monkeypatch.setenv("HOME", str(read_only))
    env = code._semgrep_env()
    assert env["SEMGREP_ENABLE_VERSION_CHECK"] == "0"
    assert env["SEMGREP_SEND_METRICS"] == "off"
    if os.access(read_only, os.W_OK):  # root can write anywhere: HOME is then left alone
        assert env["HOME"] == str(read_only)
    else:
        assert env["HOME"] != str(read_only) and os.access(env["HOME"], os.W_OK)


def test_a_tool_traceback_is_cut_down_to_its_exception_line():
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "    resp = self.send(prep)\n"
        "           ^^^^^^^^^^^^^^^\n"
        "requests.exceptions.ConnectionError: cannot resolve semgrep.dev\n"
    )
    assert (
        code._summarise(stderr) == "requests.exceptions.ConnectionError: cannot resolve semgrep.dev"
    )
    assert code._summarise("") == "no error output"
