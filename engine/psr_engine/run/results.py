"""What a run produces: a WorkflowResult holding one TaskResult per task instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psr_engine.status import RunStatus, TaskStatus
from psr_engine.store.model import task_result_dict


@dataclass(frozen=True, slots=True)
class TaskResult:
    id: str  # instance id
    task: str  # manifest task name
    status: TaskStatus
    reason: str | None = None
    attempts: int = 0
    exit_code: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration: float = 0.0  # seconds, summed over attempts
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    max_rss: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    log_paths: tuple[str, ...] = ()
    matrix: dict[str, Any] = field(default_factory=dict)
    continue_on_error: bool = False
    on_exit: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "skipped") or self.continue_on_error

    def to_dict(self) -> dict[str, Any]:
        return task_result_dict(self)


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    run_id: str
    workflow: str
    status: RunStatus
    started_at: float
    ended_at: float
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        return {"succeeded": 0, "failed": 1, "blocked": 3, "cancelled": 130}.get(self.status, 1)

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": {
                "runId": self.run_id,
                "workflow": self.workflow,
                "status": self.status,
                "reason": self.reason,
                "startedAt": self.started_at,
                "endedAt": self.ended_at,
                "durationS": round(self.duration, 6),
            },
            "tasks": {tid: t.to_dict() for tid, t in self.tasks.items()},
        }
