"""SARIF -> GitLab SAST and Code Quality: locations resolved through originalUriBaseIds to
the repository root, severities from the finding before the SARIF level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine.errors import DiagnosedError
from psr_engine.gates.findings import Finding
from psr_engine.gates.sarif import ToolRun, sarif_json
from psr_engine.gates.sarif_gitlab import code_quality_report, read_sarif_issues, sast_report


def _finding(severity: str, file: str, line: int = 3, rule: str = "r1") -> Finding:
    return Finding(
        tool="psr-secrets",
        rule_id=rule,
        severity=severity,
        message=f"{severity} thing",
        file=file,
        line=line,
        confidence="high",
    )


def _sarif(tmp_path: Path, base: Path, *findings: Finding) -> Path:
    path = tmp_path / "scan.sarif"
    path.write_text(sarif_json([ToolRun("psr-secrets", "1.0", findings)], base_dir=str(base)))
    return path


def test_paths_are_made_relative_to_the_repository_not_the_scan_folder(tmp_path):
    repo = tmp_path / "repo"
    (repo / "vuln").mkdir(parents=True)
    sarif = _sarif(tmp_path, repo / "vuln", _finding("high", "handler.py"))
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"
    ]["artifactLocation"] == {"uri": "handler.py", "uriBaseId": "%SRCROOT%"}
    (issue,) = read_sarif_issues([sarif], root=repo)
    assert issue.path == "vuln/handler.py"
    assert sast_report([issue])["vulnerabilities"][0]["location"]["file"] == "vuln/handler.py"
    assert code_quality_report([issue])[0]["location"]["path"] == "vuln/handler.py"


@pytest.mark.parametrize(
    ("severity", "sast", "quality"),
    [
        ("critical", "Critical", "blocker"),
        ("high", "High", "critical"),
        ("medium", "Medium", "major"),
        ("low", "Low", "minor"),
    ],
)
def test_severities_keep_their_weight(tmp_path, severity, sast, quality):
    sarif = _sarif(tmp_path, tmp_path, _finding(severity, "a.py"))
    issues = read_sarif_issues([sarif], root=tmp_path)
    assert sast_report(issues)["vulnerabilities"][0]["severity"] == sast
    assert code_quality_report(issues)[0]["severity"] == quality


def test_a_foreign_sarif_without_our_properties_uses_security_severity_then_level(tmp_path):
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Other",
                        "rules": [
                            {"id": "scored", "properties": {"security-severity": "9.8", "tags": ["external/cwe/cwe-078"]}},
                            {"id": "plain"},
                        ],
                    }
                },
                "originalUriBaseIds": {
                    "ROOT": {"uri": (tmp_path / "repo").as_uri() + "/"},
                    "SRC": {"uri": "src/", "uriBaseId": "ROOT"},
                },
                "results": [
                    {"ruleId": "scored", "ruleIndex": 0, "level": "error", "message": {"text": "m"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "x.py", "uriBaseId": "SRC"}, "region": {"startLine": 7}}}]},
                    {"ruleId": "plain", "level": "note", "message": {"text": "n"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "lib/y.py"}}}]},
                ],
            }
        ],
    }  # fmt: skip
    path = tmp_path / "other.sarif"
    path.write_text(json.dumps(log))
    scored, plain = sorted(
        read_sarif_issues([path], root=tmp_path / "repo"), key=lambda i: i.rule_id
    )[::-1]
    assert (scored.path, scored.line, scored.severity) == ("src/x.py", 7, "critical")
    assert (plain.path, plain.line, plain.severity) == ("lib/y.py", 1, "low")  # no base: as written
    cwe = sast_report([scored])["vulnerabilities"][0]["identifiers"][1]
    assert (cwe["type"], cwe["value"]) == ("cwe", "78")


def test_not_sarif_is_a_clear_error(tmp_path):
    path = tmp_path / "x.sarif"
    path.write_text("{not json")
    with pytest.raises(DiagnosedError, match="not a readable SARIF file"):
        read_sarif_issues([path], root=tmp_path)
