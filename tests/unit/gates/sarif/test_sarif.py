"""sarif_log/sarif_json: SARIF 2.1.0 that validates and that GitHub code scanning accepts."""

from __future__ import annotations

import json

import pytest

from psr_engine.gates.findings import Finding
from psr_engine.gates.sarif import RuleInfo, ToolRun, derive_rule, sarif_json, sarif_log


def _finding(**overrides) -> Finding:
    values = {
        "tool": "semgrep",
        "rule_id": "psr.python.eval-injection",
        "severity": "high",
        "message": "eval on input",
        "file": "src/app.py",
        "line": 3,
        "column": 5,
        "end_line": 3,
        "snippet": "eval(x)",
    }
    values.update(overrides)
    return Finding(**values)


def _results(log: dict, run: int = 0) -> list[dict]:
    return log["runs"][run]["results"]


def _uri(result: dict) -> str:
    return result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def test_log_declares_schema_and_version_and_validates(tmp_path, sarif_errors):
    log = sarif_log([ToolRun("semgrep", "1.185.0", [_finding()])], base_dir=str(tmp_path))
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert sarif_errors(log) == []


def test_awkward_findings_still_validate(tmp_path, sarif_errors):
    findings = [
        _finding(line=0, column=0, end_line=0, snippet=""),  # about a whole file
        _finding(file="", rule_id="PYSEC-2021-1", tool="osv", severity="critical"),
        _finding(file=str(tmp_path / "abs" / "x.py"), severity="low", confidence="low"),
        _finding(file="/elsewhere/y.py", severity="medium", message=""),
        _finding(file="dir with space/ü.py"),
    ]
    runs = [
        ToolRun("semgrep", "1.185.0", findings[:1] + findings[2:]),
        ToolRun("osv", "", findings[1:2]),
    ]
    assert sarif_errors(sarif_log(runs, base_dir=str(tmp_path))) == []
    assert sarif_errors(sarif_log([], base_dir=str(tmp_path))) == []


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        ("critical", "error", "9.5"),
        ("high", "error", "8.0"),
        ("medium", "warning", "5.5"),
        ("low", "note", "2.0"),
    ],
)
def test_severity_sets_level_and_github_security_severity(tmp_path, severity, level, score):
    log = sarif_log([ToolRun("t", "1.0.0", [_finding(severity=severity)])], base_dir=str(tmp_path))
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert _results(log)[0]["level"] == level
    assert rule["defaultConfiguration"]["level"] == level
    assert rule["properties"]["security-severity"] == score


def test_locations_are_relative_posix_uris_under_srcroot(tmp_path):
    findings = [
        _finding(file=str(tmp_path / "pkg" / "mod.py")),
        _finding(file="pkg\\win.py"),
        _finding(file="./pkg/dot.py"),
        _finding(file="dir with space/a.py"),
    ]
    log = sarif_log([ToolRun("t", "1", findings)], base_dir=str(tmp_path))
    uris = sorted(_uri(r) for r in _results(log))
    assert uris == ["dir%20with%20space/a.py", "pkg/dot.py", "pkg/mod.py", "pkg/win.py"]
    for result in _results(log):
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uriBaseId"] == "%SRCROOT%"
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == tmp_path.resolve().as_uri() + "/"


def test_a_file_outside_the_base_keeps_an_absolute_uri(tmp_path):
    log = sarif_log([ToolRun("t", "1", [_finding(file="/opt/other/x.py")])], base_dir=str(tmp_path))
    artifact = _results(log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///opt/other/x.py"}


def test_regions_start_at_line_one_and_omit_unknown_columns(tmp_path):
    log = sarif_log(
        [ToolRun("t", "1", [_finding(file="a.py", line=0, column=0, end_line=0), _finding()])],
        base_dir=str(tmp_path),
    )
    first, second = (r["locations"][0]["physicalLocation"]["region"] for r in _results(log))
    assert first == {"startLine": 1, "snippet": {"text": "eval(x)"}}
    assert second == {
        "startLine": 3,
        "startColumn": 5,
        "endLine": 3,
        "snippet": {"text": "eval(x)"},
    }


def test_results_carry_the_fingerprint_and_point_at_their_rule(tmp_path):
    findings = [_finding(rule_id="b"), _finding(rule_id="a", file="z.py")]
    log = sarif_log([ToolRun("t", "1", findings)], base_dir=str(tmp_path))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["a", "b"]
    for result, finding in zip(_results(log), findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        assert result["partialFingerprints"] == {"primaryLocationLineHash": finding.fingerprint}


def test_a_result_without_a_file_has_no_location(tmp_path):
    log = sarif_log([ToolRun("osv", "", [_finding(file="", line=0)])], base_dir=str(tmp_path))
    assert "locations" not in _results(log)[0]


def test_rules_are_derived_from_findings_with_worst_severity_and_cwe_tags():
    rule = derive_rule(
        [
            _finding(severity="medium", rule_name="", properties={"cwe": ["CWE-95: eval"]}),
            _finding(
                severity="high",
                rule_name="Eval",
                help_uri="https://x.test/eval",
                properties={"cwe": 94, "tags": ["python"]},
            ),
        ]
    )
    assert rule == RuleInfo(
        id="psr.python.eval-injection",
        name="Eval",
        short_description="Eval",
        help_uri="https://x.test/eval",
        severity="high",
        tags=("external/cwe/cwe-094", "external/cwe/cwe-095", "python"),
    )


def test_given_rules_are_used_and_completed_from_findings(tmp_path):
    given = RuleInfo(
        "a",
        name="Alpha",
        short_description="Alpha rule",
        help_uri="https://a.test",
        severity="critical",
        tags=("injection", *(f"t{i}" for i in range(30))),
    )
    findings = [_finding(rule_id="a"), _finding(rule_id="b", rule_name="Beta")]
    log = sarif_log([ToolRun("t", "1", findings, rules=[given])], base_dir=str(tmp_path))
    alpha, beta = log["runs"][0]["tool"]["driver"]["rules"]
    assert alpha["name"] == "Alpha" and alpha["shortDescription"] == {"text": "Alpha rule"}
    assert alpha["helpUri"] == "https://a.test"
    assert alpha["help"]["text"] == "Alpha rule\n\nMore: https://a.test"
    assert alpha["properties"]["security-severity"] == "9.5"
    assert alpha["properties"]["tags"][0] == "security" and len(alpha["properties"]["tags"]) == 20
    assert beta["name"] == "Beta" and "security" in beta["properties"]["tags"]
    assert "helpUri" not in beta


def test_driver_has_semantic_version_only_when_the_version_is_semver(tmp_path):
    runs = [ToolRun("a", "1.9.4", [], information_uri="https://a.test"), ToolRun("b", "2024.1", [])]
    a, b = (run["tool"]["driver"] for run in sarif_log(runs, base_dir=str(tmp_path))["runs"])
    assert a == {
        "name": "a",
        "version": "1.9.4",
        "semanticVersion": "1.9.4",
        "informationUri": "https://a.test",
        "rules": [],
    }
    assert b == {"name": "b", "version": "2024.1", "rules": []}


def test_output_is_sorted_and_identical_for_any_input_order(tmp_path):
    findings = [_finding(file=f"f{i % 3}.py", line=10 - i, rule_id=f"r{i % 2}") for i in range(6)]
    runs = [ToolRun("semgrep", "1", findings), ToolRun("bandit", "1", findings[:2])]
    text = sarif_json(runs, base_dir=str(tmp_path))
    assert (
        sarif_json(
            list(reversed([ToolRun("semgrep", "1", findings[::-1]), runs[1]])),
            base_dir=str(tmp_path),
        )
        == text
    )
    log = json.loads(text)
    assert [run["tool"]["driver"]["name"] for run in log["runs"]] == ["bandit", "semgrep"]
    keys = [
        (_uri(r), r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in _results(log, 1)
    ]
    assert keys == sorted(keys)


def test_sarif_json_is_the_log_as_json(tmp_path):
    runs = [ToolRun("t", "1", [_finding()])]
    assert json.loads(sarif_json(runs, base_dir=str(tmp_path))) == sarif_log(
        runs, base_dir=str(tmp_path)
    )
