"""Chargeback: runs, task hours, reserved and used cost per workflow, task or label value."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psr_engine.cost.history import CostRow
from psr_engine.cost.prices import CostError

NO_LABEL = "(none)"
_AGE = re.compile(r"^(?P<n>[0-9]+)(?P<unit>[smhdw])$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(slots=True)
class ChargebackRow:
    group: str
    runs: set[str] = field(default_factory=set)
    seconds: float = 0.0
    reserved: float = 0.0
    used: float = 0.0
    unpriced: int = 0  # tasks the history holds no cost for
    currencies: set[str] = field(default_factory=set)

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "runs": len(self.runs),
            "hours": round(self.hours, 6),
            "reserved": round(self.reserved, 8),
            "used": round(self.used, 8),
            "currency": ",".join(sorted(self.currencies)) or None,
            "unpricedTasks": self.unpriced,
        }


def parse_age(text: str) -> float:
    """Seconds from `30d`, `12h`, `2w`, `90m` or `45s`."""
    match = _AGE.match(text.strip())
    if match is None:
        raise CostError(f"--since {text!r}: expected an age like 30d, 12h, 2w or 90m")
    return int(match["n"]) * _AGE_UNITS[match["unit"]]


def group_key(by: str) -> Any:
    """The function naming a row's group for `--by workflow|task|label:KEY`."""
    if by == "workflow":
        return lambda row: row.workflow
    if by == "task":
        return lambda row: f"{row.workflow}/{row.task}"
    if by.startswith("label:") and len(by) > len("label:"):
        key = by[len("label:") :]
        return lambda row: row.labels.get(key, NO_LABEL)
    raise CostError(f"--by {by!r}: use workflow, task or label:KEY (e.g. label:team)")


def chargeback(rows: Iterable[CostRow], *, by: str = "workflow") -> list[ChargebackRow]:
    """Rows grouped, most expensive first (ties by name)."""
    key = group_key(by)
    groups: dict[str, ChargebackRow] = {}
    for row in rows:
        name = str(key(row))
        group = groups.setdefault(name, ChargebackRow(name))
        group.runs.add(row.run_id)
        group.seconds += row.duration
        if row.reserved is None:
            group.unpriced += 1
            continue
        group.reserved += row.reserved
        group.used += row.used or 0.0
        if row.currency:
            group.currencies.add(row.currency)
    return sorted(groups.values(), key=lambda g: (-g.reserved, g.group))


HEADER = ("group", "runs", "hours", "reserved", "used", "currency")


def render(groups: Sequence[ChargebackRow], *, output: str = "table", by: str = "workflow") -> str:
    if output == "json":
        return json.dumps({"by": by, "groups": [g.to_dict() for g in groups]}, indent=2) + "\n"
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for g in groups:
            d = g.to_dict()
            writer.writerow([d[k] if d[k] is not None else "" for k in HEADER])
        return buffer.getvalue()
    if not groups:
        return "no runs in that period\n"
    table = [(by.upper(), "RUNS", "HOURS", "RESERVED", "USED", "CURRENCY")]
    for g in groups:
        priced = g.reserved or not g.unpriced
        table.append(
            (
                g.group,
                str(len(g.runs)),
                f"{g.hours:.3f}",
                f"{g.reserved:.6f}" if priced else "-",
                f"{g.used:.6f}" if priced else "-",
                ",".join(sorted(g.currencies)) or "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    unpriced = sum(g.unpriced for g in groups)
    if unpriced:
        lines.append(f"({unpriced} task(s) ran without cost settings and are not priced)")
    return "\n".join(lines) + "\n"
