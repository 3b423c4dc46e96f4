"""Shared, expensive scans for the code-gate tests.

semgrep pays ~3 s of start-up per run, so the whole folder runs it three times: once over the
rule cases, once over the planted project (session fixtures below), and once for the failure
test. bandit is fast (well under a second) and runs where a test needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from psr_engine.gates.code import CodeAnalyzer
from psr_engine.gates.findings import Finding

TESTS = Path(__file__).resolve().parents[3]
RULE_CASES = TESTS / "data" / "code" / "rules"
PROJECT = TESTS / "data" / "code" / "project"
SCHEMAS = TESTS / "data" / "schemas"

_PLANTED = re.compile(r"#\s*planted:\s*(\S+)\s+(\S+)")


@dataclass(frozen=True)
class Planted:
    """One issue planted in the fixture project, and what each tool must call it."""

    file: str
    line: int
    bandit_id: str
    semgrep_id: str


@pytest.fixture(scope="session")
def planted() -> list[Planted]:
    """The planted issues, read from their ``# planted:`` markers."""
    found = []
    for path in sorted(PROJECT.rglob("*.py")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _PLANTED.search(text)
            if match:
                relative = path.relative_to(PROJECT).as_posix()
                found.append(Planted(relative, number, match.group(1), match.group(2)))
    return found


@dataclass
class Scan:
    analyzer: CodeAnalyzer
    findings: list[Finding]


@pytest.fixture(scope="session")
def rule_case_scan() -> Scan:
    """Every shipped rule over every rule case file: one semgrep run."""
    analyzer = CodeAnalyzer(timeout=180)
    return Scan(analyzer, analyzer.scan_with_semgrep(RULE_CASES))


@pytest.fixture(scope="session")
def project_scan() -> Scan:
    """bandit and semgrep, concurrently, over the planted project: one semgrep run."""
    analyzer = CodeAnalyzer(timeout=180)
    return Scan(analyzer, analyzer.scan(PROJECT))


@pytest.fixture(scope="session")
def rule_cases_dir() -> Path:
    return RULE_CASES


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    return SCHEMAS
