"""SARIF 2.1.0 -> GitLab's SAST report and Code Quality report.

GitLab shows a merge request's findings from two artifacts (`artifacts:reports:sast` and
`:codequality`), neither of which reads SARIF. Three rules make the findings land where they
belong:

- **Paths from the repository root.** A SARIF location is `uri` relative to `uriBaseId`, which
  `originalUriBaseIds` resolves (ours: %SRCROOT% = the folder the scan ran in). GitLab wants
  the path from the project's root, so each uri is resolved through its base and made relative
  to ``root`` (a scan run in `etl/` reports `etl/handler.py`, not `handler.py`).
- **Severity from the finding, not the SARIF level.** SARIF's `level` has three values
  (error/warning/note), so a critical and a high finding are both `error`. The finding's own
  `properties.severity` is used first (ours carry it), then the rule's numeric
  `security-severity` (GitHub's scale), then the level.
- **Code Quality's scale** is info < minor < major < critical < blocker: a critical finding is a
  `blocker`, a high one `critical`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import url2pathname

from psr_engine._version import __version__
from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.cvss import severity_of_score

# GitLab's security report schema this output follows (sast-report-format.json).
SAST_SCHEMA_VERSION = "15.2.1"
SAST_SEVERITY = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Info",
}
CODE_QUALITY_SEVERITY = {
    "critical": "blocker",
    "high": "critical",
    "medium": "major",
    "low": "minor",
    "info": "info",
}
_LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}


@dataclass(frozen=True, slots=True)
class SarifIssue:
    """One SARIF result, reduced to what both GitLab reports need."""

    tool: str
    tool_version: str
    rule_id: str
    rule_name: str
    message: str
    severity: str  # critical | high | medium | low | info
    path: str  # from the repository root, POSIX; "" when the result has no location
    line: int
    end_line: int
    fingerprint: str
    cwes: tuple[int, ...] = ()
    help_uri: str = ""


def read_sarif_issues(
    files: Iterable[str | os.PathLike[str]], *, root: str | os.PathLike[str]
) -> list[SarifIssue]:
    """Every result of every run in ``files``, located relative to ``root``."""
    base = Path(root).resolve()
    issues: list[SarifIssue] = []
    for file in files:
        try:
            log = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DiagnosedError(
                Diagnostic(str(file), 0, 0, f"not a readable SARIF file: {exc}")
            ) from None
        for run in _mapping(log).get("runs") or ():
            issues.extend(_run_issues(_mapping(run), base))
    return sorted(issues, key=lambda i: (i.path, i.line, i.tool, i.rule_id, i.fingerprint))


def sast_report(issues: Sequence[SarifIssue], *, now: datetime | None = None) -> dict[str, Any]:
    """A GitLab SAST report (security report schema 15.x) of ``issues``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    scanner = {
        "id": "psr-engine",
        "name": "psr-engine",
        "version": __version__,
        "vendor": {"name": "psr-engine"},
    }
    return {
        "version": SAST_SCHEMA_VERSION,
        "vulnerabilities": [_vulnerability(issue) for issue in issues],
        "scan": {
            "analyzer": scanner,
            "scanner": scanner,
            "type": "sast",
            "start_time": stamp,
            "end_time": stamp,
            "status": "success",
        },
    }


def code_quality_report(issues: Sequence[SarifIssue]) -> list[dict[str, Any]]:
    """A GitLab Code Quality report (the Code Climate subset GitLab reads) of ``issues``."""
    return [
        {
            "type": "issue",
            "description": issue.message,
            "check_name": issue.rule_id,
            "fingerprint": issue.fingerprint,
            "severity": CODE_QUALITY_SEVERITY[issue.severity],
            "location": {"path": issue.path, "lines": {"begin": issue.line}},
        }
        for issue in issues
        if issue.path  # Code Quality cannot show a finding that is not in a file
    ]


def _vulnerability(issue: SarifIssue) -> dict[str, Any]:
    identifiers: list[dict[str, str]] = [
        {"type": issue.tool.lower(), "name": issue.rule_id, "value": issue.rule_id}
    ]
    if issue.help_uri:
        identifiers[0]["url"] = issue.help_uri
    for cwe in issue.cwes:
        identifiers.append(
            {
                "type": "cwe",
                "name": f"CWE-{cwe}",
                "value": str(cwe),
                "url": f"https://cwe.mitre.org/data/definitions/{cwe}.html",
            }
        )
    location: dict[str, Any] = {}
    if issue.path:
        location = {"file": issue.path, "start_line": issue.line}
        if issue.end_line >= issue.line:
            location["end_line"] = issue.end_line
    return {
        "id": issue.fingerprint,
        "name": issue.rule_name or issue.rule_id,
        "description": issue.message,
        "severity": SAST_SEVERITY[issue.severity],
        "location": location,
        "identifiers": identifiers,
    }


def _run_issues(run: Mapping[str, Any], root: Path) -> Iterator[SarifIssue]:
    driver = _mapping(_mapping(run.get("tool")).get("driver"))
    tool = str(driver.get("name") or "sarif")
    version = str(driver.get("version") or "")
    rules = [_mapping(r) for r in driver.get("rules") or ()]
    by_id = {str(r.get("id")): r for r in rules if r.get("id")}
    bases = _mapping(run.get("originalUriBaseIds"))
    for raw in run.get("results") or ():
        result = _mapping(raw)
        rule_id = str(result.get("ruleId") or "")
        index = result.get("ruleIndex")
        rule = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else None
        rule = rule or by_id.get(rule_id) or {}
        rule_id = rule_id or str(rule.get("id") or "")
        message = str(_mapping(result.get("message")).get("text") or rule_id).strip()
        path, line, end_line = _where(result, bases, root)
        prints = _mapping(result.get("partialFingerprints"))
        anchor = str(next(iter(prints.values()), "")) if prints else f"{line}:{message}"
        digest = hashlib.sha256(f"{tool}\0{rule_id}\0{path}\0{anchor}".encode()).hexdigest()
        yield SarifIssue(
            tool=tool,
            tool_version=version,
            rule_id=rule_id or tool,
            rule_name=str(rule.get("name") or ""),
            message=message,
            severity=_severity(result, rule),
            path=path,
            line=line,
            end_line=end_line,
            fingerprint=digest,
            cwes=_cwes(rule),
            help_uri=str(rule.get("helpUri") or ""),
        )


def _severity(result: Mapping[str, Any], rule: Mapping[str, Any]) -> str:
    own = str(_mapping(result.get("properties")).get("severity") or "").lower()
    if own in SAST_SEVERITY:
        return own
    score = _mapping(rule.get("properties")).get("security-severity")
    try:
        value = float(score) if score is not None else None
    except (TypeError, ValueError):
        value = None
    if value is not None:  # GitHub's bands for security-severity are CVSS's
        return severity_of_score(value)
    level = str(result.get("level") or _mapping(rule.get("defaultConfiguration")).get("level"))
    return _LEVEL_SEVERITY.get(level, "medium")


def _cwes(rule: Mapping[str, Any]) -> tuple[int, ...]:
    found: set[int] = set()
    for tag in _mapping(rule.get("properties")).get("tags") or ():
        text = str(tag).lower()
        if text.startswith("external/cwe/cwe-") and text[17:].isdigit():
            found.add(int(text[17:]))
    return tuple(sorted(found))


def _where(result: Mapping[str, Any], bases: Mapping[str, Any], root: Path) -> tuple[str, int, int]:
    locations = result.get("locations") or ()
    if not locations:
        return "", 1, 0
    physical = _mapping(_mapping(locations[0]).get("physicalLocation"))
    artifact = _mapping(physical.get("artifactLocation"))
    region = _mapping(physical.get("region"))
    line = _positive(region.get("startLine"), 1)
    end_line = _positive(region.get("endLine"), 0)
    uri = str(artifact.get("uri") or "")
    if not uri:
        return "", line, end_line
    return _repository_path(uri, artifact.get("uriBaseId"), bases, root), line, end_line


def _repository_path(uri: str, base_id: object, bases: Mapping[str, Any], root: Path) -> str:
    """``uri`` (relative to ``base_id``) as a POSIX path from ``root``.

    A uri that resolves outside ``root``, or against a base that is not a file URI, is kept
    as written (GitLab then shows it without a link, which is honest)."""
    absolute = _resolve(uri, base_id, bases, depth=0)
    if absolute is None:
        return unquote(uri)
    try:
        return Path(absolute).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(absolute).as_posix()


def _resolve(uri: str, base_id: object, bases: Mapping[str, Any], *, depth: int) -> str | None:
    """An absolute filesystem path for ``uri``, or None when it cannot be placed."""
    if urlparse(uri).scheme == "file":
        return url2pathname(urlparse(uri).path)
    if urlparse(uri).scheme:
        return None  # https://... : not a file in the repository
    if not isinstance(base_id, str) or depth > 8:
        return None
    base = _mapping(bases.get(base_id))
    base_uri = str(base.get("uri") or "")
    if not base_uri:
        return None
    if not base_uri.endswith("/"):
        base_uri += "/"
    if urlparse(base_uri).scheme == "file":
        return url2pathname(urlparse(urljoin(base_uri, uri)).path)
    # A base relative to another base (SARIF 3.14.14): resolve it first.
    parent = _resolve(base_uri, base.get("uriBaseId"), bases, depth=depth + 1)
    if parent is None:
        return None
    return os.path.join(parent, url2pathname(uri))


def _positive(value: object, default: int) -> int:
    return value if isinstance(value, int) and value >= 1 else default


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
