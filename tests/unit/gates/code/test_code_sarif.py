"""SARIF of real bandit + semgrep output: valid against both schemas, fit for GitHub upload."""

from __future__ import annotations

import json
import random
import re

import jsonschema
import pytest

from psr_engine.gates.code import CodeAnalyzer


@pytest.fixture(scope="module")
def sarif(project_scan, project_dir) -> dict:
    text = project_scan.analyzer.generate_sarif_report(project_scan.findings, base_dir=project_dir)
    return json.loads(text)


@pytest.mark.parametrize(
    ("schema_file", "validator_class"),
    [
        ("sarif-2.1.0.json", jsonschema.Draft7Validator),  # SchemaStore's
        ("sarif-schema-2.1.0.oasis.json", jsonschema.Draft4Validator),  # OASIS' original
    ],
)
def test_sarif_of_real_scans_validates(sarif, schemas_dir, schema_file, validator_class):
    schema = json.loads((schemas_dir / schema_file).read_text(encoding="utf-8"))
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(sarif)]
    assert errors == []


def test_one_run_per_tool_with_name_version_and_rules(sarif):
    drivers = [run["tool"]["driver"] for run in sarif["runs"]]
    assert [d["name"] for d in drivers] == ["bandit", "semgrep"]
    for driver in drivers:
        assert re.fullmatch(r"\d+\.\d+\.\d+", driver["semanticVersion"])
        assert driver["informationUri"].startswith("https://")
        assert driver["rules"]


def test_results_meet_github_code_scanning_rules(sarif, project_dir):
    assert sarif["version"] == "2.1.0" and sarif["$schema"].startswith("https://")
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    for run in sarif["runs"]:
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project_dir.as_uri() + "/"
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] == levels[result["properties"]["severity"]]
            assert result["message"]["text"]
            assert re.fullmatch(
                r"[0-9a-f]{32}", result["partialFingerprints"]["primaryLocationLineHash"]
            )
            (location,) = result["locations"]
            artifact = location["physicalLocation"]["artifactLocation"]
            assert artifact["uriBaseId"] == "%SRCROOT%"
            assert not artifact["uri"].startswith(("/", "file:")) and "\\" not in artifact["uri"]
            assert (project_dir / artifact["uri"]).is_file()
            region = location["physicalLocation"]["region"]
            assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_rules_carry_github_security_severity_and_tags(sarif):
    for run in sarif["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            props = rule["properties"]
            assert props["security-severity"] in {"9.5", "8.0", "5.5", "2.0"}
            float(props["security-severity"])
            assert "security" in props["tags"] and len(props["tags"]) <= 20
            assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
            assert rule["help"]["text"] and rule["helpUri"].startswith("https://")
            assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    semgrep = next(r for r in sarif["runs"] if r["tool"]["driver"]["name"] == "semgrep")
    shell = next(
        r
        for r in semgrep["tool"]["driver"]["rules"]
        if r["id"] == "psr.python.subprocess-shell-injection"
    )
    assert shell["properties"]["security-severity"] == "8.0"
    assert "external/cwe/cwe-078" in shell["properties"]["tags"]


def test_sarif_is_deterministic_whatever_the_finding_order(project_scan, project_dir):
    shuffled = list(project_scan.findings)
    random.Random(7).shuffle(shuffled)
    analyzer = project_scan.analyzer
    first = analyzer.generate_sarif_report(project_scan.findings, base_dir=project_dir)
    assert analyzer.generate_sarif_report(shuffled, base_dir=project_dir) == first


def test_sarif_without_base_dir_uses_the_last_scan_root(project_dir):
    analyzer = CodeAnalyzer()
    findings = analyzer.scan_with_bandit(project_dir / "jobs")
    log = json.loads(analyzer.generate_sarif_report(findings))
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/project/jobs/")
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"shell.py"}
