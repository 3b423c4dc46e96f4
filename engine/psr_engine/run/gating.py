"""How the runtime sees security gates: an injected runner returning a GateOutcome.

The runtime does not import gates/ (they are siblings in the layers); the facade lends it a
runner that calls the scanners. Gates from spec.gates run before any task, all at once; a gate
task runs where the DAG puts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from psr_engine.plan.model import PlannedGate
from psr_engine.status import GateStatus


@dataclass(frozen=True, slots=True)
class GateOutcome:
    name: str
    status: GateStatus
    counts: dict[str, int] = field(default_factory=dict)  # findings by severity
    findings: tuple[dict[str, Any], ...] = ()  # Finding.to_dict() of each, for events/history
    sarif: str | None = None  # where the SARIF was written
    message: str | None = None  # a one-line summary, or what went wrong
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def event_data(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "counts": self.counts,
            "findings": list(self.findings[:200]),
            "findingsTotal": len(self.findings),
            "sarif": self.sarif,
        }


GateRunner = Callable[[PlannedGate], Awaitable[GateOutcome]]
