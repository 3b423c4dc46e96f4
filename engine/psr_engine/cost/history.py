"""What the cost features read from the run history (store/): median task durations for the
projection, and the recorded costs of past runs for budgets by day/month and chargeback.

A task's cost is the `cost` mapping of its task.finished event, which the history keeps with
the task (`TaskRecord.cost`). Records without one (runs from before costs were on, or a store
that does not keep them) count as runs and hours, with no cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psr_engine.store import RunStore

HISTORY_RUNS = 20  # how many recent successful runs the medians look at


@dataclass(frozen=True, slots=True)
class CostRow:
    """One finished task of one run, with what the history knows of its cost."""

    run_id: str
    workflow: str
    task: str  # manifest task name
    task_id: str
    started_at: float
    duration: float
    labels: dict[str, str] = field(default_factory=dict)
    reserved: float | None = None
    used: float | None = None
    currency: str | None = None


@contextmanager
def opened(store_or_state_dir: RunStore | str | None) -> Iterator[RunStore | None]:
    """The store given, or the one in a state folder (None when it has no history yet)."""
    if store_or_state_dir is None or not isinstance(store_or_state_dir, str):
        yield store_or_state_dir
        return
    from psr_engine.store import HistoryError, RunStore

    try:
        store = RunStore.open(store_or_state_dir, create=False, reap=False)
    except HistoryError:
        yield None
        return
    with store:
        yield store


def task_cost(record: Any) -> Mapping[str, Any] | None:
    """The cost recorded with a task, if the history has one."""
    cost = getattr(record, "cost", None)
    return cost if isinstance(cost, Mapping) and "reserved" in cost else None


def median_durations(
    store: RunStore | None, workflow: str, *, runs: int = HISTORY_RUNS
) -> dict[str, float]:
    """Task instance id -> median duration (s) over the workflow's recent successful runs."""
    if store is None:
        return {}
    samples: dict[str, list[float]] = {}
    for run in store.runs(workflow=workflow, status="succeeded", limit=runs):
        for task in store.tasks(run.id):
            if task.status == "succeeded" and task.attempts:
                samples.setdefault(task.id, []).append(task.duration)
    return {task_id: statistics.median(values) for task_id, values in samples.items()}


def cost_rows(
    store: RunStore | None, *, since: float | None = None, workflow: str | None = None
) -> list[CostRow]:
    """Every task that ran (attempts > 0) in runs started at or after `since`."""
    if store is None:
        return []
    rows: list[CostRow] = []
    for run in store.runs(workflow=workflow, limit=None):
        if since is not None and run.started_at < since:
            continue
        for task in store.tasks(run.id):
            if not task.attempts:
                continue
            cost = task_cost(task) or {}
            rows.append(
                CostRow(
                    run_id=run.id,
                    workflow=run.workflow,
                    task=task.task,
                    task_id=task.id,
                    started_at=run.started_at,
                    duration=task.duration,
                    labels=dict(run.labels),
                    reserved=_number(cost.get("reserved")),
                    used=_number(cost.get("used")),
                    currency=cost.get("currency"),
                )
            )
    return rows


def spent_since(store: RunStore | None, *, workflow: str, since: float, currency: str) -> float:
    """Reserved cost recorded for the workflow's runs since `since`, in `currency`."""
    return sum(
        row.reserved
        for row in cost_rows(store, since=since, workflow=workflow)
        if row.reserved is not None and (row.currency or currency) == currency
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
