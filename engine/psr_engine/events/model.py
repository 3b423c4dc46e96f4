"""Events: the versioned records every sink sees.

One record type with optional fields (rather than a class per event type) keeps sinks simple:
they read what they know and ignore the rest, so adding a field never breaks a plug-in.
`to_dict()` gives the wire form of the spec: camelCase keys, RFC 3339 `time`, absent fields
omitted.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal

from psr_engine.status import GateStatus, RunStatus, TaskState

EVENT_VERSION = 1

EventType = Literal[
    "run.started",
    "run.finished",
    "gate.started",
    "gate.finished",
    "task.started",
    "task.retrying",
    "task.finished",
    "task.skipped",
    "task.log",
]


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    run_id: str
    workflow: str
    ts: float = field(default_factory=_time.time)  # seconds since the epoch
    task: str | None = None  # instance id: "transform[region=eu,size=large]"
    attempt: int | None = None
    status: TaskState | RunStatus | GateStatus | None = None  # of the run, task or gate
    reason: str | None = None
    exit_code: int | None = None
    duration_s: float | None = None  # task.finished: summed over its attempts
    attempt_duration_s: float | None = None  # the (last) attempt's own
    cpu_user_s: float | None = None
    cpu_sys_s: float | None = None
    max_rss_bytes: int | None = None
    outputs: dict[str, str] | None = None
    message: str | None = None  # task.log: the line; others: a human note
    log_path: str | None = None
    data: dict[str, Any] | None = None  # type-specific extras (params, gate findings, costs...)
    version: int = EVENT_VERSION

    @property
    def time(self) -> str:
        return (
            datetime.fromtimestamp(self.ts, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "time": self.time}
        for f in fields(self):
            if f.name in ("type", "ts"):
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[_CAMEL[f.name]] = value
        return out

    def with_(self, **changes: Any) -> Event:
        return replace(self, **changes)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() if part != "s" else "S" for part in rest)


_CAMEL = {f.name: _camel(f.name) for f in fields(Event)}
# The spec's names where the mechanical camelCase would differ.
_CAMEL.update(
    {
        "run_id": "runId",
        "duration_s": "durationS",
        "cpu_user_s": "cpuUserS",
        "cpu_sys_s": "cpuSysS",
        "max_rss_bytes": "maxRssBytes",
        "exit_code": "exitCode",
        "log_path": "logPath",
    }
)
