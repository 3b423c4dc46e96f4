"""What a gate's findings mean: counts, the verdict against ``failOn``, and the words for it.

The summary is what the console prints under ``gate NAME: STATUS``; when a gate blocks, it
carries a compact table of the worst findings so the reader sees why without opening the SARIF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psr_engine.gates.findings import SEVERITIES, Finding, blocks, severity_rank
from psr_engine.printable import printable

MAX_TABLE_ROWS = 20
_MESSAGE_WIDTH = 72
_RULE_WIDTH = 40
_LOCATION_WIDTH = 48


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity present (0 when none), worst first."""
    counts: dict[str, int] = dict.fromkeys(reversed(SEVERITIES), 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    """Findings by severity (critical first), then where they are."""
    return sorted(
        findings, key=lambda f: (-severity_rank(f.severity), f.file, f.line, f.tool, f.rule_id)
    )


def verdict(findings: Iterable[Finding], fail_on: str) -> str:
    """``blocked`` when any finding reaches ``fail_on`` (never, for ``never``), else ``passed``."""
    if fail_on == "never":
        return "passed"
    return "blocked" if any(blocks(f.severity, fail_on) for f in findings) else "passed"


def summary(findings: Sequence[Finding], *, fail_on: str, status: str, accepted: int = 0) -> str:
    """One line, e.g. ``3 findings (1 high, 2 low); blocking at high``."""
    counts = count_by_severity(findings)
    total = len(findings)
    if total:
        detail = ", ".join(f"{n} {severity}" for severity, n in counts.items() if n)
        text = f"{total} finding{'s' if total != 1 else ''} ({detail})"
    else:
        text = "no findings"
    if accepted:
        text += f", {accepted} more accepted by the baseline"
    if fail_on == "never":
        return text + "; report only (failOn: never)"
    if status == "blocked":
        return text + f"; blocking at {fail_on}"
    return text + (f"; none at or above {fail_on}" if total else "")


def findings_table(findings: Sequence[dict[str, Any]], *, limit: int | None = None) -> str:
    """A plain-text table of findings (``Finding.to_dict()`` shapes), one per line.

    ``limit`` rows at most, then a line saying how many more there are.
    """
    shown = findings if limit is None else findings[:limit]
    rows = [("SEVERITY", "TOOL", "RULE", "LOCATION", "MESSAGE")]
    rows += [_row(item) for item in shown]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    ]
    hidden = len(findings) - len(shown)
    if hidden > 0:
        lines.append(f"... and {hidden} more (see the SARIF report or `psr-engine scan`)")
    return "\n".join(line.rstrip() for line in lines)


def _row(item: dict[str, Any]) -> tuple[str, str, str, str, str]:
    file, line = str(item.get("file") or ""), int(item.get("line") or 0)
    location = f"{file}:{line}" if file and line else file or "-"
    # Every cell printable: a file named with a newline forged rows of this table.
    return (
        printable(str(item.get("severity", ""))),
        printable(str(item.get("tool", ""))),
        _clip(printable(str(item.get("ruleId", ""))), _RULE_WIDTH),
        _clip(printable(location), _LOCATION_WIDTH, keep_end=True),
        _clip(printable(" ".join(str(item.get("message", "")).split())), _MESSAGE_WIDTH),
    )


def _clip(text: str, width: int, *, keep_end: bool = False) -> str:
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1) :] if keep_end else text[: width - 1] + "…"


__all__ = [
    "MAX_TABLE_ROWS",
    "count_by_severity",
    "findings_table",
    "summary",
    "verdict",
    "worst_first",
]
