"""Reads: the runs, one run's tasks, attempts and gate results, and `last`/prefix lookups."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from psr_engine.store.model import (
    AttemptRecord,
    GateRecord,
    HistoryError,
    RunRecord,
    TaskRecord,
)

_RUN_COLUMNS = (
    "id, workflow, status, started_at, manifest_path, manifest_digest, params, labels, reason, "
    "ended_at, host, user, pid, pid_started, ci_url, run_dir, counts, resumed_from, trace_id"
)
_TASK_COLUMNS = (
    "run_id, task_id, task_name, status, reason, attempts, exit_code, started_at, ended_at, "
    "duration, cpu_user, cpu_sys, max_rss, outputs, matrix, log_path, message, digest, on_exit, "
    "cost, needs, level"
)
_ATTEMPT_COLUMNS = (
    "run_id, task_id, attempt, status, reason, exit_code, started_at, ended_at, duration, log_path"
)


def _loads(text: str | None, empty: Any) -> Any:
    if not text:
        return empty
    # Most columns of most rows (the dashboard reads thousands a second): as json.loads.
    if text == "{}":
        return {}
    if text == "[]":
        return []
    try:
        return json.loads(text)
    except ValueError:
        return empty


def _run(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        workflow=row[1],
        status=row[2],
        started_at=row[3],
        manifest_path=row[4],
        manifest_digest=row[5],
        params=_loads(row[6], {}),
        labels=_loads(row[7], {}),
        reason=row[8],
        ended_at=row[9],
        host=row[10],
        user=row[11],
        pid=row[12],
        pid_started=row[13],
        ci_url=row[14],
        run_dir=row[15],
        counts=_loads(row[16], {}),
        resumed_from=row[17],
        trace_id=row[18],
    )


def _task(row: Sequence[Any]) -> TaskRecord:
    return TaskRecord(
        run_id=row[0],
        id=row[1],
        task=row[2],
        status=row[3],
        reason=row[4],
        attempts=row[5] or 0,
        exit_code=row[6],
        started_at=row[7],
        ended_at=row[8],
        duration=row[9] or 0.0,
        cpu_user=row[10] or 0.0,
        cpu_sys=row[11] or 0.0,
        max_rss=row[12] or 0,
        outputs=_loads(row[13], {}),
        matrix=_loads(row[14], {}),
        log_path=row[15],
        message=row[16],
        digest=row[17],
        on_exit=bool(row[18]),
        cost=_loads(row[19], None),
        needs=tuple(_loads(row[20], [])),
        level=row[21] or 0,
    )


def _workflow_and_status(workflow: str | None, status: str | None) -> tuple[list[str], list[Any]]:
    """The WHERE terms and their arguments every run listing filters by."""
    where: list[str] = []
    args: list[Any] = []
    if workflow:
        where.append("workflow = ?")
        args.append(workflow)
    if status:
        where.append("status = ?")
        args.append(status)
    return where, args


def list_runs(
    conn: sqlite3.Connection,
    *,
    workflow: str | None = None,
    status: str | None = None,
    limit: int | None = 20,
) -> list[RunRecord]:
    """Newest first."""
    where, args = _workflow_and_status(workflow, status)
    sql = f"SELECT {_RUN_COLUMNS} FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC, rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [_run(row) for row in conn.execute(sql, args)]


def resumes_of(conn: sqlite3.Connection, run_id: str) -> list[RunRecord]:
    """The runs that resumed `run_id`, newest first."""
    sql = (
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE resumed_from = ? "
        "ORDER BY started_at DESC, rowid DESC"
    )
    return [_run(row) for row in conn.execute(sql, (run_id,))]


def get_run(conn: sqlite3.Connection, run_id: str) -> RunRecord | None:
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else _run(row)


def resolve_run(conn: sqlite3.Connection, ref: str, *, workflow: str | None = None) -> RunRecord:
    """`last` (the newest run, of `workflow` when given), a run id, or a unique id prefix."""
    if ref == "last":
        runs = list_runs(conn, workflow=workflow, limit=1)
        if not runs:
            scope = f" of workflow {workflow!r}" if workflow else ""
            raise HistoryError(f"no runs{scope} recorded yet")
        return runs[0]
    run = get_run(conn, ref)
    if run is not None:
        return run
    pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE id LIKE ? ESCAPE '\\' "
        "ORDER BY started_at DESC LIMIT 6",
        (pattern,),
    ).fetchall()
    if len(rows) == 1:
        return _run(rows[0])
    if rows:
        ids = ", ".join(r[0] for r in rows[:5])
        raise HistoryError(f"run {ref!r} is ambiguous: it starts {ids}; give more of the id")
    raise HistoryError(f"no run {ref!r} in the history (see `psr-engine runs`)")


def tasks_of(conn: sqlite3.Connection, run_id: str) -> list[TaskRecord]:
    """In plan order (pending rows are written in plan order when the run starts)."""
    rows = conn.execute(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE run_id = ? ORDER BY rowid", (run_id,)
    )
    return [_task(row) for row in rows]


def some_tasks_of(
    conn: sqlite3.Connection, run_id: str, task_ids: Sequence[str]
) -> tuple[list[TaskRecord], list[AttemptRecord]]:
    """These instances of a run, and their attempts (the dashboard's live view reads only the
    tasks that moved)."""
    ids = list(task_ids)
    if not ids:
        return [], []
    marks = ",".join("?" * len(ids))
    tasks = conn.execute(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE run_id = ? AND task_id IN ({marks}) "
        "ORDER BY rowid",
        [run_id, *ids],
    )
    attempts = conn.execute(
        f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? AND task_id IN ({marks}) "
        "ORDER BY rowid",
        [run_id, *ids],
    )
    return [_task(row) for row in tasks], [AttemptRecord(*row) for row in attempts]


def attempts_of(
    conn: sqlite3.Connection, run_id: str, task_id: str | None = None
) -> list[AttemptRecord]:
    sql = f"SELECT {_ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ?"
    args: list[Any] = [run_id]
    if task_id is not None:
        sql += " AND task_id = ?"
        args.append(task_id)
    sql += " ORDER BY rowid"
    return [AttemptRecord(*row) for row in conn.execute(sql, args)]


def gates_of(conn: sqlite3.Connection, run_id: str) -> list[GateRecord]:
    rows = conn.execute(
        "SELECT run_id, gate, status, counts, findings, started_at, ended_at, message "
        "FROM gates WHERE run_id = ? ORDER BY rowid",
        (run_id,),
    )
    return [
        GateRecord(
            run_id=r[0],
            gate=r[1],
            status=r[2],
            counts=_loads(r[3], {}),
            findings=_loads(r[4], []),
            started_at=r[5],
            ended_at=r[6],
            message=r[7],
        )
        for r in rows
    ]


def task_counts(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """run id -> task status -> number of task instances."""
    counts: dict[str, dict[str, int]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return counts
    marks = ",".join("?" * len(run_ids))
    rows = conn.execute(
        f"SELECT run_id, status, COUNT(*) FROM tasks WHERE run_id IN ({marks}) "
        "GROUP BY run_id, status",
        list(run_ids),
    )
    for run_id, status, number in rows:
        counts[run_id][status] = number
    return counts


def search_runs(
    conn: sqlite3.Connection,
    *,
    workflow: str | None = None,
    status: str | None = None,
    label: tuple[str, str] | None = None,
    text: str | None = None,
    before: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[RunRecord]:
    """Newest first, `limit` at most, strictly older than `before` (started_at, id): keyset
    paging, which costs the same on the last page of 10,000 runs as on the first."""
    where, args = _workflow_and_status(workflow, status)
    if label is not None:
        where.append("json_extract(labels, ?) = ?")
        args.extend((json.dumps(label[0]).join(("$.", "")), label[1]))
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(id LIKE ? ESCAPE '\\' OR workflow LIKE ? ESCAPE '\\' OR labels LIKE ? ESCAPE '\\' "
            "OR reason LIKE ? ESCAPE '\\')"
        )
        args.extend((pattern,) * 4)
    if before is not None:
        # The first term is a range on runs_by_start; an OR alone would scan every run.
        where.append("started_at <= ? AND (started_at < ? OR id < ?)")
        args.extend((before[0], before[0], before[1]))
    sql = f"SELECT {_RUN_COLUMNS} FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC, id DESC LIMIT ?"
    args.append(limit)
    return [_run(row) for row in conn.execute(sql, args)]


def workflow_summaries(conn: sqlite3.Connection) -> list[tuple[str, int, float, str]]:
    """(workflow, number of runs, newest start, newest run's status), by workflow name."""
    rows = conn.execute(
        "SELECT workflow, COUNT(*), MAX(started_at) FROM runs GROUP BY workflow ORDER BY workflow"
    ).fetchall()
    summaries = []
    for name, count, newest in rows:
        last = conn.execute(
            "SELECT status FROM runs WHERE workflow = ? ORDER BY started_at DESC LIMIT 1", (name,)
        ).fetchone()
        summaries.append((name, count, newest, last[0] if last else "unknown"))
    return summaries
