"""Test helpers of the runtime core (imported as ``core_factory``; conftest.py puts this folder
on sys.path): Plans made with the model's constructors, no manifest stage, and a sink that
records every event (tests/support/recorder.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from recorder import Recorder

from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.units import Resources


def planned(task_id: str, *, run: str | None = None, **fields: Any) -> PlannedTask:
    """A `run` task; its command line is `run` (default: `echo <id>`)."""
    name = fields.pop("task", task_id.split("[", 1)[0])
    return PlannedTask(
        id=task_id, task=name, kind="run", command=run or f"echo {task_id}", **fields
    )


ROOMY = Resources(cpu=64, memory=2**40)


def plan_with(
    manifest_path: str,
    *tasks: PlannedTask,
    on_exit: tuple[PlannedTask, ...] = (),
    concurrency: int = 8,
    capacity: Resources = ROOMY,
    **fields: Any,
) -> Plan:
    groups: dict[str, tuple[str, ...]] = {}
    for task in (*tasks, *on_exit):
        groups[task.task] = (*groups.get(task.task, ()), task.id)
    return Plan(
        workflow="core",
        manifest_path=manifest_path,
        manifest_digest="",
        params=fields.pop("params", {}),
        tasks=tuple(tasks),
        groups=groups,
        on_exit=tuple(replace(t, on_exit=True) for t in on_exit),
        concurrency=concurrency,
        capacity=capacity,
        **fields,
    )


__all__ = ["ROOMY", "Recorder", "plan_with", "planned"]
