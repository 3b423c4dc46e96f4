"""What end-of-run reports (JUnit, Markdown summary) collect: the run's first and last events
and each task's final outcome. Subclasses write their file in `aclose`."""

from __future__ import annotations

from dataclasses import dataclass

from psr_engine.events.model import Event


@dataclass(slots=True)
class TaskOutcome:
    task: str
    status: str
    reason: str | None = None
    duration: float = 0.0
    exit_code: int | None = None
    attempts: int = 0
    log_path: str | None = None
    message: str | None = None

    @classmethod
    def from_event(cls, event: Event) -> TaskOutcome:
        return cls(
            task=event.task or "",
            status=event.status or "failed",
            reason=event.reason,
            duration=event.duration_s or 0.0,
            exit_code=event.exit_code,
            attempts=event.attempt or 0,
            log_path=event.log_path,
            message=event.message,
        )


class RunReport:
    """Collects a run for a report written when the sink closes."""

    def __init__(self) -> None:
        self._outcomes: dict[str, TaskOutcome] = {}
        self._run: Event | None = None
        self._end: Event | None = None

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        if event.type == "run.started":
            self._run = event
        elif event.type == "run.finished":
            self._end = event
        elif event.type in ("task.finished", "task.skipped") and event.task:
            self._outcomes[event.task] = TaskOutcome.from_event(event)
