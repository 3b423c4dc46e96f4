"""The workflow page's numbers: its runs over time as bars, its slowest and most-retried
tasks over those runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from psr_engine.store.model import RunRecord

RUNS_SHOWN = 100
CHART_W, CHART_H = 800, 160


@dataclass(frozen=True, slots=True)
class Bar:
    run_id: str
    status: str
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    longest_s: float


def runs_chart(runs: Sequence[RunRecord]) -> Chart:
    """Oldest left, one bar a run, its height the run's duration (running: so far)."""
    import time

    now = time.time()
    durations = [
        (r.duration if r.duration is not None else max(0.0, now - r.started_at)) for r in runs
    ]
    longest = max(durations, default=0.0) or 1.0
    step = min(CHART_W / max(len(runs), 1), 24.0)  # a few runs: narrow bars, not slabs
    bars = []
    for index, (run, seconds) in enumerate(zip(runs, durations, strict=True)):
        height = max(2.0, (CHART_H - 10) * seconds / longest)
        bars.append(
            Bar(
                run_id=run.id,
                status=run.status,
                x=round(index * step + 1, 1),
                y=round(CHART_H - height, 1),
                width=round(max(step - 2, 1.0), 1),
                height=round(height, 1),
                label=f"{run.id} {run.status} {seconds:.1f}s",
            )
        )
    return Chart(tuple(bars), CHART_W, CHART_H, longest)


@dataclass(frozen=True, slots=True)
class TaskStat:
    task: str
    runs: int
    total_s: float
    max_s: float
    retries: int

    @property
    def mean_s(self) -> float:
        return self.total_s / self.runs if self.runs else 0.0


def task_stats(conn: sqlite3.Connection, run_ids: Sequence[str]) -> list[TaskStat]:
    """Per manifest task over `run_ids`: instances that ran, their time, their retries."""
    if not run_ids:
        return []
    marks = ",".join("?" * len(run_ids))
    rows = conn.execute(
        f"SELECT task_name, COUNT(*), SUM(duration), MAX(duration), "
        f"SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END) FROM tasks "
        f"WHERE run_id IN ({marks}) AND attempts > 0 GROUP BY task_name",
        list(run_ids),
    )
    return [TaskStat(r[0], r[1], r[2] or 0.0, r[3] or 0.0, r[4] or 0) for r in rows]


def merge_stats(stats: Iterable[TaskStat]) -> list[TaskStat]:
    merged: dict[str, TaskStat] = {}
    for stat in stats:
        had = merged.get(stat.task)
        if had is None:
            merged[stat.task] = stat
        else:
            merged[stat.task] = TaskStat(
                stat.task,
                had.runs + stat.runs,
                had.total_s + stat.total_s,
                max(had.max_s, stat.max_s),
                had.retries + stat.retries,
            )
    return list(merged.values())
