"""The names expressions see at run time: params, env, matrix, tasks, run, workflow, secrets.

`tasks` is a lazy view over the results so far: building every task's entry for every
render would make a 5,000-task run quadratic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.run.results import TaskResult
from psr_engine.status import FAILED


def _entry(result: TaskResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "outputs": result.outputs,
        "exitCode": result.exit_code,
        "attempts": result.attempts,
        "duration": round(result.duration, 3),
    }


class TasksView(Mapping[str, Any]):
    """tasks.<name>: one instance's fields; a matrix task adds `results`, one per instance."""

    def __init__(self, plan: Plan, results: Mapping[str, TaskResult]) -> None:
        self._groups = plan.groups
        self._results = results

    def __getitem__(self, name: str) -> dict[str, Any]:
        ids = self._groups.get(name)
        if ids is None:
            raise KeyError(name)
        done = [self._results[i] for i in ids if i in self._results]
        if len(ids) == 1 and ids[0] == name:
            if not done:
                raise KeyError(name)
            return _entry(done[0])
        results = [{"matrix": r.matrix, **_entry(r)} for r in done]
        statuses = {r.status for r in done}
        if statuses & FAILED:
            status = "failed"
        elif statuses == {"skipped"}:
            status = "skipped"
        else:
            status = "succeeded"
        merged: dict[str, str] = {}
        for r in done:
            merged.update(r.outputs)
        return {
            "status": status,
            "outputs": merged,
            "exitCode": max((r.exit_code or 0 for r in done), default=0),
            "attempts": sum(r.attempts for r in done),
            "duration": round(sum(r.duration for r in done), 3),
            "results": results,
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


def build_context(
    plan: Plan,
    *,
    run: Mapping[str, Any],
    results: Mapping[str, TaskResult],
    secrets: Mapping[str, str],
    env: Mapping[str, str],
) -> dict[str, Any]:
    """The context shared by every task of a run; `for_task` adds the task's matrix."""
    return {
        "params": plan.params,
        "env": env,
        "tasks": TasksView(plan, results),
        "run": run,
        "workflow": {"name": plan.workflow, "labels": plan.labels},
        "secrets": secrets,
        "matrix": {},
    }


def for_task(context: dict[str, Any], task: PlannedTask) -> dict[str, Any]:
    if not task.matrix:
        return context
    return {**context, "matrix": task.matrix}
