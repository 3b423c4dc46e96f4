"""The statements that record a run. Each takes an open connection inside a write
transaction (see db.write); the history sink groups many of them into one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec

from psr_engine.store.model import GateRecord, RunRecord, TaskDigest

# One encoder for every write: json.dumps with options builds a new JSONEncoder per call
# (~8 us), which a run of 1,000 tasks pays several thousand times.
_json = json.JSONEncoder(separators=(",", ":"), default=str).encode
P = ParamSpec("P")


def _needs(needs: Sequence[str]) -> str:
    return _json(list(needs)) if needs else "[]"


def begin_run(conn: sqlite3.Connection, run: RunRecord, tasks: Sequence[TaskDigest] = ()) -> None:
    """The run row, and one `pending` row per planned task, in plan order, with its digest."""
    conn.execute(
        """INSERT INTO runs (id, workflow, manifest_path, manifest_digest, params, labels,
               status, reason, started_at, host, user, pid, pid_started, ci_url, run_dir,
               resumed_from, trace_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET status = excluded.status, pid = excluded.pid,
               pid_started = excluded.pid_started, host = excluded.host,
               trace_id = COALESCE(excluded.trace_id, runs.trace_id)""",
        (
            run.id,
            run.workflow,
            run.manifest_path,
            run.manifest_digest,
            _json(run.params),
            _json(run.labels),
            run.status,
            run.reason,
            run.started_at,
            run.host,
            run.user,
            run.pid,
            run.pid_started,
            run.ci_url,
            run.run_dir,
            run.resumed_from,
            run.trace_id,
        ),
    )
    conn.executemany(
        """INSERT INTO tasks (run_id, task_id, task_name, status, digest, on_exit, needs, level)
           VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
        [(run.id, t.id, t.task, t.digest, int(t.on_exit), _needs(t.needs), t.level) for t in tasks],
    )


# One statement per change of a task's row or an attempt's row; the history sink's batches
# (store/batch.py) run the same statements with the same parameters, several rows at a time, and
# write a task that started and ended within one batch with TASK_RAN and ATTEMPT_RAN instead.
TASK_STARTED = """INSERT INTO tasks (run_id, task_id, task_name, status, attempts, started_at,
        log_path, matrix)
    VALUES (?, ?, ?, 'running', ?, ?, ?, ?)
    ON CONFLICT (run_id, task_id) DO UPDATE SET status = 'running',
        attempts = excluded.attempts, log_path = excluded.log_path,
        started_at = COALESCE(tasks.started_at, excluded.started_at),
        matrix = excluded.matrix"""

ATTEMPT_STARTED = """INSERT INTO attempts (run_id, task_id, attempt, status, started_at, log_path)
    VALUES (?, ?, ?, 'running', ?, ?)
    ON CONFLICT DO UPDATE SET status = 'running', started_at = excluded.started_at,
        log_path = excluded.log_path"""

ATTEMPT_ENDED = """INSERT INTO attempts (run_id, task_id, attempt, status, reason, exit_code,
        ended_at, duration, log_path)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET status = excluded.status, reason = excluded.reason,
        exit_code = excluded.exit_code, ended_at = excluded.ended_at,
        duration = excluded.duration,
        log_path = COALESCE(excluded.log_path, attempts.log_path)"""

TASK_MOVED = """UPDATE tasks SET status = ?, reason = ?, exit_code = ?, attempts = ?
    WHERE run_id = ? AND task_id = ?"""

TASK_FINISHED = """INSERT INTO tasks (run_id, task_id, task_name, status, reason, attempts,
        exit_code, ended_at, duration, cpu_user, cpu_sys, max_rss, outputs, matrix, log_path,
        message, cost)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id, task_id) DO UPDATE SET status = excluded.status,
        reason = excluded.reason, attempts = excluded.attempts,
        exit_code = excluded.exit_code, ended_at = excluded.ended_at,
        duration = excluded.duration, cpu_user = excluded.cpu_user,
        cpu_sys = excluded.cpu_sys, max_rss = excluded.max_rss,
        outputs = excluded.outputs, matrix = excluded.matrix,
        log_path = COALESCE(excluded.log_path, tasks.log_path),
        message = excluded.message, cost = excluded.cost"""

# TASK_STARTED, then (any retries, i.e. TASK_MOVED and TASK_STARTED again, between) TASK_FINISHED,
# as one statement: TASK_FINISHED's columns, the first start's started_at (kept if the row has
# one), and the log path TASK_FINISHED's COALESCE would leave (the ending's, else the last
# start's: that start set it, whatever the row held).
TASK_RAN = """INSERT INTO tasks (run_id, task_id, task_name, status, reason, attempts,
        exit_code, ended_at, duration, cpu_user, cpu_sys, max_rss, outputs, matrix, log_path,
        message, cost, started_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id, task_id) DO UPDATE SET status = excluded.status,
        reason = excluded.reason, attempts = excluded.attempts,
        exit_code = excluded.exit_code, ended_at = excluded.ended_at,
        duration = excluded.duration, cpu_user = excluded.cpu_user,
        cpu_sys = excluded.cpu_sys, max_rss = excluded.max_rss,
        outputs = excluded.outputs, matrix = excluded.matrix, log_path = excluded.log_path,
        message = excluded.message, cost = excluded.cost,
        started_at = COALESCE(tasks.started_at, excluded.started_at)"""

# ATTEMPT_STARTED then ATTEMPT_ENDED as one statement: together they set every column.
ATTEMPT_RAN = """INSERT INTO attempts (run_id, task_id, attempt, status, reason, exit_code,
        ended_at, duration, log_path, started_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET status = excluded.status, reason = excluded.reason,
        exit_code = excluded.exit_code, ended_at = excluded.ended_at,
        duration = excluded.duration, log_path = excluded.log_path,
        started_at = excluded.started_at"""

TaskStartedRow = tuple[str, str, str, int, float, str | None, str]
AttemptStartedRow = tuple[str, str, int, float, str | None]
AttemptEndedRow = tuple[str, str, int, str, str | None, int | None, float, float | None, str | None]
TaskMovedRow = tuple[str, str | None, int | None, int, str, str]
TaskFinishedRow = tuple[
    str,
    str,
    str,
    str,
    str | None,
    int,
    int | None,
    float,
    float,
    float,
    float,
    int,
    str,
    str,
    str | None,
    str | None,
    str | None,
]


def json_object(value: Mapping[str, Any] | None) -> str:
    """A mapping as JSON text; `{}` (most tasks' outputs and matrix) without the encoder."""
    return _json(dict(value)) if value else "{}"


def task_started_rows(
    run_id: str,
    task_id: str,
    *,
    task_name: str,
    attempt: int,
    ts: float,
    log_path: str | None,
    matrix: Mapping[str, Any] | None,
) -> tuple[TaskStartedRow, AttemptStartedRow]:
    """The parameters of TASK_STARTED and ATTEMPT_STARTED."""
    return (
        (run_id, task_id, task_name, attempt, ts, log_path, json_object(matrix)),
        (run_id, task_id, attempt, ts, log_path),
    )


def attempt_ended_rows(
    run_id: str,
    task_id: str,
    *,
    attempt: int,
    status: str,
    reason: str | None,
    exit_code: int | None,
    ts: float,
    duration: float | None,
    log_path: str | None,
    task_status: str | None = None,
) -> tuple[AttemptEndedRow, TaskMovedRow | None]:
    """The parameters of ATTEMPT_ENDED, and of TASK_MOVED when `task_status` (e.g.
    `retrying`) is given: one attempt ended, and that also moves the task's own row."""
    return (
        (run_id, task_id, attempt, status, reason, exit_code, ts, duration, log_path),
        None if task_status is None else (task_status, reason, exit_code, attempt, run_id, task_id),
    )


def task_finished_row(
    run_id: str,
    task_id: str,
    *,
    task_name: str,
    status: str,
    reason: str | None,
    attempts: int,
    exit_code: int | None,
    ts: float,
    duration: float,
    cpu_user: float,
    cpu_sys: float,
    max_rss: int,
    outputs: Mapping[str, str] | None,
    matrix: Mapping[str, Any] | None,
    log_path: str | None,
    message: str | None,
    cost: Mapping[str, Any] | None = None,
) -> TaskFinishedRow:
    """The parameters of TASK_FINISHED."""
    return (
        run_id,
        task_id,
        task_name,
        status,
        reason,
        attempts,
        exit_code,
        ts,
        duration,
        cpu_user,
        cpu_sys,
        max_rss,
        json_object(outputs),
        json_object(matrix),
        log_path,
        message,
        None if cost is None else _json(dict(cost)),
    )


def _at_once(
    build: Callable[P, Any], *statements: str
) -> Callable[Concatenate[sqlite3.Connection, P], None]:
    """The one-call form of a change, for writers of one change at a time: `build`'s
    parameters after the connection, each of `statements` run with its row of what `build`
    gives (a lone statement's row is what it gives; a None row is not run)."""
    lone = len(statements) == 1

    def write(conn: sqlite3.Connection, /, *args: P.args, **kwargs: P.kwargs) -> None:
        rows = build(*args, **kwargs)
        for sql, row in zip(statements, (rows,) if lone else rows, strict=True):
            if row is not None:
                conn.execute(sql, row)

    return write


task_started = _at_once(task_started_rows, TASK_STARTED, ATTEMPT_STARTED)
attempt_ended = _at_once(attempt_ended_rows, ATTEMPT_ENDED, TASK_MOVED)
task_finished = _at_once(task_finished_row, TASK_FINISHED)


def task_ran_row(
    first_start: TaskStartedRow, last_log_path: str | None, finished: TaskFinishedRow
) -> tuple[Any, ...]:
    """TASK_RAN's parameters: what TASK_STARTED (`first_start`; a later start's `log_path`
    last) then TASK_FINISHED (`finished`) leave in the row."""
    log_path = finished[14]
    return (
        *finished[:2],
        first_start[2],  # the name TASK_STARTED inserted with
        *finished[3:14],
        last_log_path if log_path is None else log_path,
        *finished[15:],
        first_start[4],  # started_at
    )


def attempt_ran_row(started: AttemptStartedRow, ended: AttemptEndedRow) -> tuple[Any, ...]:
    """ATTEMPT_RAN's parameters: what ATTEMPT_STARTED then ATTEMPT_ENDED leave in the row."""
    log_path = ended[8]
    return (*ended[:8], started[4] if log_path is None else log_path, started[3])


def finish_run(
    conn: sqlite3.Connection,
    run_id: str,
    *,
    status: str,
    reason: str | None,
    ended_at: float,
    counts: Mapping[str, int] | None = None,
) -> None:
    conn.execute(
        "UPDATE runs SET status = ?, reason = ?, ended_at = ?, counts = ? WHERE id = ?",
        (status, reason, ended_at, json_object(counts), run_id),
    )


GATE = """INSERT INTO gates (run_id, gate, status, counts, findings, started_at, ended_at,
        message)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id, gate) DO UPDATE SET status = excluded.status,
        counts = excluded.counts, findings = excluded.findings,
        started_at = COALESCE(gates.started_at, excluded.started_at),
        ended_at = excluded.ended_at, message = excluded.message"""


def gate_row(gate: GateRecord) -> tuple[Any, ...]:
    """The parameters of GATE."""
    return (
        gate.run_id,
        gate.gate,
        gate.status,
        _json(gate.counts),
        _json(gate.findings),
        gate.started_at,
        gate.ended_at,
        gate.message,
    )


def record_gate(conn: sqlite3.Connection, gate: GateRecord) -> None:
    conn.execute(GATE, gate_row(gate))
