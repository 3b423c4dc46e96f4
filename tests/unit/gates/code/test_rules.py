"""The semgrep rules psr-engine ships: each one fires exactly where its cases say."""

from __future__ import annotations

import importlib.resources
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from psr_engine.gates.code import shipped_rules_dir

_ANNOTATION = re.compile(r"^\s*#\s*(ruleid|ok):\s*(.+?)\s*$")


def _rules() -> list[dict]:
    rules = []
    for path in sorted(shipped_rules_dir().rglob("*.yaml")):
        rules.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["rules"])
    return rules


def _annotations(case: Path) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(expected, forbidden) (line, rule id) pairs, semgrep's convention: an annotation names
    the rule(s) for the next line that is not itself an annotation."""
    lines = case.read_text(encoding="utf-8").splitlines()
    expected: set[tuple[int, str]] = set()
    forbidden: set[tuple[int, str]] = set()
    for index, text in enumerate(lines):
        match = _ANNOTATION.match(text)
        if not match:
            continue
        target = index + 1
        while target < len(lines) and _ANNOTATION.match(lines[target]):
            target += 1
        into = expected if match.group(1) == "ruleid" else forbidden
        into.update((target + 1, rule.strip()) for rule in match.group(2).split(","))
    return expected, forbidden


def test_at_least_25_rules_ship_each_with_a_psr_python_id():
    ids = [rule["id"] for rule in _rules()]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids), "rule ids must be unique"
    assert all(re.fullmatch(r"psr\.python\.[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids), ids


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: rule["id"])
def test_rule_carries_message_severity_and_security_metadata(rule):
    assert rule["message"].strip()
    assert rule["severity"] in {"ERROR", "WARNING", "INFO"}
    meta = rule["metadata"]
    assert meta["psr-severity"] in {"low", "medium", "high", "critical"}
    assert meta["cwe"] and all(c.startswith("CWE-") for c in meta["cwe"])
    assert meta["owasp"] and meta["references"] and meta["title"]
    assert all(ref.startswith("https://") for ref in meta["references"])


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: rule["id"])
def test_rule_has_a_positive_and_a_negative_case(rule, rule_cases_dir):
    case = rule_cases_dir / f"{rule['id'].removeprefix('psr.python.')}.py"
    assert case.is_file(), f"missing {case}"
    expected, forbidden = _annotations(case)
    assert any(r == rule["id"] for _, r in expected), "no '# ruleid:' case"
    assert any(r == rule["id"] for _, r in forbidden), "no '# ok:' case"


def test_rules_validate_against_semgreps_own_rule_schema():
    # semgrep --validate also runs p/semgrep-rule-lints from the registry, so it cannot run
    # offline; the JSON Schema semgrep ships for rule files can.
    source = importlib.resources.files("semgrep").joinpath("semgrep_interfaces/rule_schema_v1.yaml")
    schema = yaml.safe_load(source.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    for path in sorted(shipped_rules_dir().rglob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], f"{path.name}: {errors[:3]}"
    # and the schema does reject a broken rule, so the check above means something
    broken = {"rules": [{"id": "x", "languages": ["python"], "pattern": "eval(...)"}]}
    assert list(validator.iter_errors(broken))


def test_each_rule_fires_exactly_on_its_annotated_lines(rule_case_scan, rule_cases_dir):
    reported = Counter((f.file, f.line, f.rule_id) for f in rule_case_scan.findings)
    problems = []
    expected_all = set()
    for case in sorted(rule_cases_dir.glob("*.py")):
        expected, forbidden = _annotations(case)
        for line, rule in sorted(expected):
            expected_all.add((case.name, line, rule))
            if reported[(case.name, line, rule)] != 1:
                count = reported[(case.name, line, rule)]
                problems.append(f"{case.name}:{line}: {rule} reported {count} times, want 1")
        for line, rule in sorted(forbidden):
            if reported[(case.name, line, rule)]:
                problems.append(f"{case.name}:{line}: {rule} fired on an ok case")
    problems += [
        f"{file}:{line}: {rule} fired without an annotation"
        for (file, line, rule) in sorted(reported)
        if (file, line, rule) not in expected_all
    ]
    assert problems == []
    assert len(expected_all) >= 2 * len(_rules())


def test_rule_scan_runs_cleanly_offline(rule_case_scan):
    assert rule_case_scan.analyzer.warnings == []
    assert rule_case_scan.analyzer.tool_version("semgrep")


def test_shipped_rules_are_package_data():
    rules = shipped_rules_dir()
    assert rules.parts[-3:] == ("psr_engine", "gates", "rules")
    assert sorted(p.name for p in rules.rglob("*.yaml"))
