"""The records of the run history, as the store hands them out, and its errors.

Field names in `to_dict()` are the events' names (camelCase: `exitCode`, `durationS`...), so
`status --output json` reads like the event stream and like `WorkflowResult.to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import HistoryError as HistoryError
from psr_engine.errors import StoreBusyError as StoreBusyError
from psr_engine.status import RunStatus, TaskState


class TaskEnding(Protocol):
    """How a task instance ended, as the engine's TaskResult and the history's TaskRecord
    both tell it."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def duration(self) -> float: ...
    @property
    def cpu_user(self) -> float: ...
    @property
    def cpu_sys(self) -> float: ...
    @property
    def max_rss(self) -> int: ...
    @property
    def outputs(self) -> dict[str, str]: ...


def task_result_dict(task: TaskEnding) -> dict[str, Any]:
    """A task's ending in the events' names (camelCase): `apply --output json`, `status
    --output json` and the event stream read alike."""
    return {
        "task": task.id,
        "status": task.status,
        "reason": task.reason,
        "attempt": task.attempts,
        "exitCode": task.exit_code,
        "durationS": round(task.duration, 6),
        "cpuUserS": round(task.cpu_user, 6),
        "cpuSysS": round(task.cpu_sys, 6),
        "maxRssBytes": task.max_rss,
        "outputs": task.outputs,
    }


@dataclass(frozen=True, slots=True)
class TaskDigest:
    """A planned task instance as the history knows it before it runs: what resume compares."""

    id: str
    task: str
    digest: str
    on_exit: bool = False
    needs: tuple[str, ...] = ()  # instance ids, as the plan has them
    level: int = 0  # the plan's topological level


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    workflow: str
    status: RunStatus
    started_at: float
    manifest_path: str | None = None
    manifest_digest: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    ended_at: float | None = None
    host: str | None = None
    user: str | None = None
    pid: int | None = None
    pid_started: int | None = None
    ci_url: str | None = None
    run_dir: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    resumed_from: str | None = None
    trace_id: str | None = None  # 32 hex digits, for a run that was traced

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        duration = self.duration
        return {
            "runId": self.id,
            "workflow": self.workflow,
            "status": self.status,
            "reason": self.reason,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "durationS": None if duration is None else round(duration, 6),
            "manifest": self.manifest_path,
            "manifestDigest": self.manifest_digest,
            "params": self.params,
            "labels": self.labels,
            "host": self.host,
            "user": self.user,
            "pid": self.pid,
            "ciJobUrl": self.ci_url,
            "runDir": self.run_dir,
            "counts": self.counts,
            "resumedFrom": self.resumed_from,
            "traceId": self.trace_id,
        }


@dataclass(frozen=True, slots=True)
class TaskRecord:
    run_id: str
    id: str  # instance id
    task: str  # manifest task name
    status: TaskState
    reason: str | None = None
    attempts: int = 0
    exit_code: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration: float = 0.0
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    max_rss: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)
    log_path: str | None = None
    message: str | None = None
    digest: str | None = None
    on_exit: bool = False
    cost: dict[str, Any] | None = None
    needs: tuple[str, ...] = ()
    level: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **task_result_dict(self),
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "matrix": self.matrix,
            "logPath": self.log_path,
            "message": self.message,
            "needs": list(self.needs),
            "level": self.level,
            "onExit": self.on_exit,
            **({"cost": self.cost} if self.cost is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    run_id: str
    task_id: str
    attempt: int
    status: str
    reason: str | None = None
    exit_code: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration: float | None = None
    log_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "attempt": self.attempt,
            "status": self.status,
            "reason": self.reason,
            "exitCode": self.exit_code,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "durationS": self.duration,
            "logPath": self.log_path,
        }


@dataclass(frozen=True, slots=True)
class GateRecord:
    run_id: str
    gate: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)  # severity -> number of findings
    findings: list[Any] = field(default_factory=list)
    started_at: float | None = None
    ended_at: float | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "status": self.status,
            "counts": self.counts,
            "findings": self.findings,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "message": self.message,
        }
