"""What the dashboard shows of a run, as documents (the API's JSON, the pages' context).

Field names and times are `status --output json`'s (json_convention.py: times as RFC 3339
text): a run's `to_dict()`, its tasks' by instance id, its gates' by name; the API adds what
only the dashboard needs (attempts, critical path, layout).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psr_engine.json_convention import conventional, rfc3339
from psr_engine.status import LIVE
from psr_engine.store import queries as q
from psr_engine.store.model import AttemptRecord, GateRecord, RunRecord, TaskRecord
from psr_engine.ui.catalog import crashed_task


@dataclass(frozen=True, slots=True)
class RunDetail:
    run: RunRecord
    tasks: tuple[TaskRecord, ...]
    attempts: tuple[AttemptRecord, ...]
    gates: tuple[GateRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": timed(self.run.to_dict()),
            "tasks": {t.id: timed(t.to_dict()) for t in self.tasks},
            "gates": {g.gate: conventional(g.to_dict()) for g in self.gates},
            "attempts": [timed(a.to_dict()) for a in self.attempts],
            "criticalPath": list(critical_path(self.tasks)),
            "cost": cost_summary(self.tasks),
        }


_TIMES = ("startedAt", "endedAt")


def timed(doc: dict[str, Any], seen: dict[float, str] | None = None) -> dict[str, Any]:
    """A run's, task's or attempt's document (its `to_dict()`, changed in place) with its
    times as `status --output json` writes them: what conventional() makes of it (a test
    holds the two equal), quicker, for the thousands of tasks a page of a large run reads.
    A task's attempts, when it carries them, too. `seen`: times already written (a task and
    its attempt start at the same time, and are sent again when they end)."""
    for key in _TIMES:
        value = doc.get(key)
        if value is not None:
            if seen is None:
                doc[key] = rfc3339(value)
            else:
                text = seen.get(value)
                if text is None:
                    text = seen[value] = rfc3339(value)
                doc[key] = text
    attempts = doc.get("attempts")
    if attempts:
        doc["attempts"] = [timed(a, seen) for a in attempts]
    return doc


def load_detail(conn: sqlite3.Connection, run: RunRecord, *, attempts: bool = True) -> RunDetail:
    """`run` as the catalog saw it (maybe crashed though recorded running). Without its
    attempts when `attempts` is False: the page draws none (its script reads them)."""
    tasks = q.tasks_of(conn, run.id)
    if run.status == "crashed":
        tasks = [crashed_task(t) for t in tasks]
    return RunDetail(
        run=run,
        tasks=tuple(tasks),
        attempts=tuple(q.attempts_of(conn, run.id)) if attempts else (),
        gates=tuple(q.gates_of(conn, run.id)),
    )


def plan_of(conn: sqlite3.Connection, run_id: str) -> str:
    """A digest of the run's DAG as the page draws it: its task instances in plan order, each
    with its task, needs, level and whether it is onExit. Two runs with the same draw the
    same nodes in the same places: a page showing one takes the next in place (the follow
    page), only its statuses cleared. Read from a few columns, not from whole tasks."""
    rows = conn.execute(
        "SELECT task_id, task_name, needs, level, on_exit FROM tasks WHERE run_id = ? "
        "ORDER BY rowid",
        (run_id,),
    )
    digest = hashlib.blake2b(digest_size=12)
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def elapsed(task: TaskRecord, now: float | None = None) -> float:
    """How long a task took, or has taken so far when it is still going."""
    if task.status in LIVE and task.started_at is not None:
        return max(0.0, (time.time() if now is None else now) - task.started_at)
    return task.duration


def critical_path(tasks: Sequence[TaskRecord]) -> tuple[str, ...]:
    """The chain of needs whose durations add up the most: what made the run as long as it
    was (or, before anything ran, the longest chain, one per task). onExit tasks aside."""
    main = [t for t in tasks if not t.on_exit]
    by_id = {t.id: t for t in main}
    now = time.time()
    weight = {t.id: elapsed(t, now) for t in main}
    if not any(weight.values()):
        weight = dict.fromkeys(weight, 1.0)
    best: dict[str, tuple[float, str | None]] = {}
    for task in sorted(main, key=lambda t: t.level):  # needs sit on lower levels
        before = [(best[n][0], n) for n in task.needs if n in best]
        total, previous = max(before, default=(0.0, None))
        best[task.id] = (total + weight[task.id], previous)
    if not best:
        return ()
    end = max(best, key=lambda k: best[k][0])
    chain: list[str] = []
    at: str | None = end
    while at is not None and at in by_id:
        chain.append(at)
        at = best[at][1]
    return tuple(reversed(chain))


def cost_summary(tasks: Iterable[TaskRecord]) -> dict[str, Any] | None:
    """The run's cost: the sum of its tasks' (used and reserved), per currency."""
    used: dict[str, float] = {}
    reserved: dict[str, float] = {}
    for task in tasks:
        cost = task.cost or {}
        currency = str(cost.get("currency") or "USD")
        for key, into in (("used", used), ("reserved", reserved)):
            value = cost.get(key)
            if isinstance(value, int | float):
                into[currency] = into.get(currency, 0.0) + float(value)
    if not used and not reserved:
        return None
    return {"used": used, "reserved": reserved}


@dataclass(slots=True)
class Group:
    """One manifest task on the DAG: its instances (a matrix task has several)."""

    task: str
    level: int
    instances: list[TaskRecord] = field(default_factory=list)

    @property
    def matrix(self) -> bool:
        return len(self.instances) > 1 or bool(self.instances and self.instances[0].matrix)

    @property
    def status(self) -> str:
        """The most telling status of the instances: live first, then failures."""
        seen = {t.status for t in self.instances}
        for status in (
            "running",
            "retrying",
            "crashed",
            "failed",
            "timed_out",
            "cancelled",
            "pending",
            "skipped",
        ):
            if status in seen:
                return status
        return "succeeded"


def layout(tasks: Sequence[TaskRecord]) -> tuple[list[list[Group]], list[Group]]:
    """The DAG as the plan laid it out: columns by level, each a list of task groups in plan
    order; and the onExit tasks, drawn apart."""
    columns: dict[int, dict[str, Group]] = {}
    on_exit: dict[str, Group] = {}
    for task in tasks:
        into = on_exit if task.on_exit else columns.setdefault(task.level, {})
        group = into.setdefault(task.task, Group(task=task.task, level=task.level))
        group.instances.append(task)
    levels = [list(columns[level].values()) for level in sorted(columns)]
    return levels, list(on_exit.values())


def format_bytes(count: int | None) -> str:
    if not count:
        return "-"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}GiB"


def format_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def run_costs(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, str]:
    """run id -> its cost used, as text ("0.0123 USD"), for the runs that have one."""
    if not run_ids:
        return {}
    marks = ",".join("?" * len(run_ids))
    rows = conn.execute(
        f"SELECT run_id, cost FROM tasks WHERE run_id IN ({marks}) AND cost IS NOT NULL",
        list(run_ids),
    )
    totals: dict[str, dict[str, float]] = {}
    for run_id, text in rows:
        try:
            cost = json.loads(text)
        except ValueError:
            continue
        value = cost.get("used") if isinstance(cost, dict) else None
        if isinstance(value, int | float):
            currency = str(cost.get("currency") or "USD")
            into = totals.setdefault(run_id, {})
            into[currency] = into.get(currency, 0.0) + float(value)
    return {
        run_id: ", ".join(f"{v:.4f} {c}" for c, v in sorted(by.items()))
        for run_id, by in totals.items()
    }
