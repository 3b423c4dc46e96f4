"""SARIF 2.1.0 from Findings: one log, one run per tool, ready for GitHub code scanning.

Every scanner (code, secrets, dependencies) reports through here, so the upload rules live in
one place. What GitHub needs beyond the schema, and why each field is here:

- ``artifactLocation.uri`` relative, POSIX, with ``uriBaseId: %SRCROOT%``: GitHub maps results
  onto the repository by relative path; ``originalUriBaseIds`` says where %SRCROOT% was.
- ``region.startLine`` >= 1 (a finding about a whole file, line 0, is put on line 1).
- ``partialFingerprints.primaryLocationLineHash``: GitHub tracks an alert across commits by it;
  ours (Finding.fingerprint) ignores the line number, so moving code keeps the alert.
- ``properties["security-severity"]`` on each rule, a numeric *string*: GitHub's severity
  column (critical >= 9.0, high >= 7.0, medium >= 4.0, else low) and the "security" tag.

Output is deterministic: runs, rules and results are sorted, so two scans of the same tree
give the same bytes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from psr_engine.gates.findings import SEVERITIES, Finding, severity_rank

SARIF_VERSION = "2.1.0"
# What bandit writes and GitHub's documentation uses; the OASIS schema accepts any URI here.
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"

SECURITY_SEVERITY: dict[str, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
}
LEVELS: dict[str, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
MAX_TAGS = 20  # GitHub keeps at most 20 tags per rule and drops the rest
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
_CWE = re.compile(r"(?i)^(?:cwe-)?(\d+)\b")


@dataclass(frozen=True)
class RuleInfo:
    """What a SARIF rule says about itself; derived from findings when a scanner gives none."""

    id: str
    name: str = ""
    short_description: str = ""
    help_uri: str = ""
    severity: str = "medium"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolRun:
    """One tool's findings, which become one SARIF run."""

    tool: str
    version: str
    findings: Sequence[Finding]
    rules: Sequence[RuleInfo] | None = None
    information_uri: str = ""


def sarif_json(runs: Sequence[ToolRun], *, base_dir: str) -> str:
    """The SARIF log of ``runs`` as JSON text (indented, keys in SARIF's usual order)."""
    return json.dumps(sarif_log(runs, base_dir=base_dir), indent=2, ensure_ascii=False)


def sarif_log(runs: Sequence[ToolRun], *, base_dir: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run per ToolRun; finding paths are relative to ``base_dir``."""
    base = Path(base_dir).resolve()
    ordered = sorted(runs, key=lambda r: (r.tool, r.version))
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [_run(run, base) for run in ordered],
    }


def _run(run: ToolRun, base: Path) -> dict[str, Any]:
    findings = sorted(run.findings, key=_finding_order)
    rules = _rules_for(run, findings)
    index = {rule.id: i for i, rule in enumerate(rules)}
    driver: dict[str, Any] = {"name": run.tool}
    if run.version:
        driver["version"] = run.version
        if _SEMVER.match(run.version):
            driver["semanticVersion"] = run.version
    if _is_absolute_uri(run.information_uri):
        driver["informationUri"] = run.information_uri
    driver["rules"] = [_rule(rule, findings) for rule in rules]
    return {
        "tool": {"driver": driver},
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
        "results": [_result(f, index[f.rule_id], base) for f in findings],
    }


def _rules_for(run: ToolRun, findings: Sequence[Finding]) -> list[RuleInfo]:
    """The given rules, plus one derived from findings for every rule id they do not cover."""
    given = {rule.id: rule for rule in run.rules or ()}
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    for rule_id, group in by_rule.items():
        if rule_id not in given:
            given[rule_id] = derive_rule(group)
    return [given[rule_id] for rule_id in sorted(given)]


def derive_rule(findings: Sequence[Finding]) -> RuleInfo:
    """A RuleInfo from the findings of one rule: the highest severity, their CWEs as tags."""
    first = findings[0]
    name = next((f.rule_name for f in findings if f.rule_name), "")
    help_uri = next((f.help_uri for f in findings if f.help_uri), "")
    worst = max((f.severity for f in findings), key=severity_rank)
    tags: set[str] = set()
    for finding in findings:
        tags.update(_tags_of(finding))
    return RuleInfo(
        id=first.rule_id,
        name=name or first.rule_id,
        short_description=name or first.message,
        help_uri=help_uri,
        severity=worst,
        tags=tuple(sorted(tags)),
    )


def _tags_of(finding: Finding) -> Iterable[str]:
    props = finding.properties
    yield from (str(tag) for tag in _as_list(props.get("tags")))
    for cwe in _as_list(props.get("cwe")):
        match = _CWE.match(str(cwe).strip())
        if match:  # CodeQL's spelling, which GitHub turns into CWE links
            yield f"external/cwe/cwe-{int(match.group(1)):03d}"


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _rule(rule: RuleInfo, findings: Sequence[Finding]) -> dict[str, Any]:
    severity = rule.severity if rule.severity in SEVERITIES else "medium"
    short = _one_line(rule.short_description or rule.name or rule.id)
    help_text = short + (f"\n\nMore: {rule.help_uri}" if rule.help_uri else "")
    tags = ["security", *sorted(set(rule.tags) - {"security"})][:MAX_TAGS]
    properties: dict[str, Any] = {"tags": tags, "security-severity": SECURITY_SEVERITY[severity]}
    precision = _precision(rule.id, findings)
    if precision:
        properties["precision"] = precision
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name or rule.id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": short},
    }
    if _is_absolute_uri(rule.help_uri):
        out["helpUri"] = rule.help_uri
    out["help"] = {"text": help_text}
    out["defaultConfiguration"] = {"level": LEVELS[severity]}
    out["properties"] = properties
    return out


def _precision(rule_id: str, findings: Sequence[Finding]) -> str:
    """GitHub's rule precision, from the confidence its findings were reported with."""
    confidences = {f.confidence for f in findings if f.rule_id == rule_id}
    for level in ("high", "medium", "low"):
        if level in confidences:
            return level
    return ""


def _result(finding: Finding, rule_index: int, base: Path) -> dict[str, Any]:
    severity = finding.severity if finding.severity in SEVERITIES else "medium"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[severity],
        "message": {"text": finding.message.strip() or finding.rule_id},
    }
    if finding.file:
        result["locations"] = [_location(finding, base)]
    result["partialFingerprints"] = {"primaryLocationLineHash": finding.fingerprint}
    result["properties"] = {"severity": severity, "confidence": finding.confidence}
    return result


def _location(finding: Finding, base: Path) -> dict[str, Any]:
    start_line = max(finding.line, 1)
    region: dict[str, Any] = {"startLine": start_line}
    if finding.column >= 1:
        region["startColumn"] = finding.column
    if finding.end_line >= start_line:
        region["endLine"] = finding.end_line
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    return {
        "physicalLocation": {"artifactLocation": _artifact(finding.file, base), "region": region}
    }


def _artifact(file: str, base: Path) -> dict[str, str]:
    """A %SRCROOT%-relative URI; an absolute path outside ``base`` stays an absolute file URI."""
    path = file.replace("\\", "/")
    if os.path.isabs(path):
        absolute = Path(path).resolve()
        try:
            path = absolute.relative_to(base).as_posix()
        except ValueError:
            return {"uri": absolute.as_uri()}
    relative = PurePosixPath(path).as_posix().removeprefix("./")
    return {"uri": quote(relative, safe="/-._~"), "uriBaseId": SRCROOT}


def _finding_order(finding: Finding) -> tuple[Any, ...]:
    return (
        finding.file,
        finding.line,
        finding.column,
        finding.rule_id,
        finding.message,
        finding.fingerprint,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _is_absolute_uri(text: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$", text))
