"""What every scanner reports: one Finding per problem, in one shape whatever the tool.

Severities are mapped from each tool's own scale onto ours (low < medium < high < critical),
so one ``failOn`` threshold works across bandit, semgrep, the secret scanner and OSV.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Confidence = Literal["low", "medium", "high"]


def severity_rank(severity: str) -> int:
    """0 for low .. 3 for critical; ``never`` ranks above everything (nothing blocks)."""
    if severity == "never":
        return len(SEVERITIES)
    return SEVERITIES.index(severity)


def blocks(severity: str, fail_on: str) -> bool:
    return severity_rank(severity) >= severity_rank(fail_on)


@dataclass(frozen=True, slots=True)
class Finding:
    tool: str  # bandit | semgrep | psr-secrets | osv
    rule_id: str  # B602, python.subprocess-shell-true, aws-access-key-id, PYSEC-2021-66
    severity: Severity
    message: str
    file: str = ""  # relative to the scanned root, POSIX separators
    line: int = 0  # 1-based; 0 when not about a line (a dependency)
    column: int = 0
    end_line: int = 0
    confidence: Confidence = "medium"
    rule_name: str = ""  # short human title of the rule
    help_uri: str = ""
    snippet: str = ""  # the offending source line, stripped (secrets: redacted)
    preview: str = ""  # secrets only: the first 4 characters, then "…"
    properties: dict[str, Any] = field(default_factory=dict)  # tool-specific extras

    @property
    def fingerprint(self) -> str:
        """Stable across line shifts: tool, rule, file and the offending text, not the line."""
        anchor = self.properties.get("fingerprint_anchor") or self.snippet or self.message
        digest = hashlib.sha256(f"{self.tool}|{self.rule_id}|{self.file}|{anchor}".encode())
        return digest.hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "ruleId": self.rule_id,
            "severity": self.severity,
            "confidence": self.confidence,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fingerprint": self.fingerprint,
            **({"preview": self.preview} if self.preview else {}),
        }
