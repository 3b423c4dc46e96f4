"""The engine's declared hook for code that is not a sink (Hamilton's lifecycle API:
keyword-only arguments, so a hook can grow one without breaking its implementations). Sinks'
own doors are in events/hooks.py.

    TaskEndHook   called as each task ends, before its task.finished event: returns data to
                  put on the event (cost: data["cost"]); may stop the run (a budget crossed)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from psr_engine.plan.model import PlannedTask
    from psr_engine.run.results import TaskResult


@runtime_checkable
class TaskEndHook(Protocol):
    def task_ended(
        self, *, task: PlannedTask, result: TaskResult, stop: Callable[[str], None]
    ) -> Mapping[str, Any] | None:
        """Data for the task's task.finished event (merged into its `data`), or None.
        `stop(reason)`: nothing more starts, running attempts are killed, onExit still runs."""
        ...


__all__ = ["TaskEndHook"]
