"""The words for how tasks, runs and gates stand, as types. Events, results, the history and
the dashboard all use these; a status is never a free string.

    TaskStatus   how a task instance ended
    TaskState    TaskStatus, or still going (pending, running, retrying), or `crashed` (its
                 engine died: the history's word, never the engine's)
    RunStatus    how a run ended, or `running`, or `crashed`
    GateStatus   how a security gate ended
"""

from __future__ import annotations

from typing import Literal

TaskStatus = Literal["succeeded", "failed", "timed_out", "skipped", "cancelled"]
TaskState = Literal[
    "pending",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "timed_out",
    "skipped",
    "cancelled",
    "crashed",
]
RunStatus = Literal["running", "succeeded", "failed", "blocked", "cancelled", "crashed"]
GateStatus = Literal["passed", "blocked", "error"]

# A task that ended like this failed (unless it may: continueOnError).
FAILED: frozenset[TaskStatus] = frozenset({"failed", "timed_out", "cancelled"})
# A task still going: an engine that died leaves these `crashed`.
LIVE: frozenset[TaskState] = frozenset({"running", "retrying"})

__all__ = ["FAILED", "LIVE", "GateStatus", "RunStatus", "TaskState", "TaskStatus"]
