"""Dependency findings as SARIF 2.1.0 through the shared writer (psr_engine.gates.sarif)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "data"
DEPS = DATA / "deps"
SCHEMA = DATA / "schemas" / "sarif-2.1.0.json"


def _validate(log: dict, jsonschema) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_dependency_findings_make_valid_sarif_with_advisory_rule_ids(scanner):
    sarif = pytest.importorskip("psr_engine.gates.sarif", reason="the SARIF writer is not in yet")
    jsonschema = pytest.importorskip("jsonschema")
    findings = scanner.scan_requirements(DEPS / "uv" / "uv.lock", root=DEPS)
    assert findings

    log = sarif.sarif_log([sarif.ToolRun("osv", "2024-10-10", findings)], base_dir=str(DEPS))

    _validate(log, jsonschema)
    (run,) = log["runs"]
    assert [r["ruleId"] for r in run["results"]] == [f.rule_id for f in findings]
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "uv/uv.lock"
    assert first["region"]["startLine"] == findings[0].line


def test_environment_findings_without_a_file_make_valid_sarif(scanner, tmp_path):
    sarif = pytest.importorskip("psr_engine.gates.sarif", reason="the SARIF writer is not in yet")
    jsonschema = pytest.importorskip("jsonschema")
    info = tmp_path / "Jinja2-2.10.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n")
    findings = scanner.scan_environment(paths=[str(tmp_path)])

    log = sarif.sarif_log([sarif.ToolRun("osv", "2024-10-10", findings)], base_dir=str(tmp_path))

    _validate(log, jsonschema)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {f.rule_id for f in findings}
