"""The statements that record a run. Each takes an open connection inside a write
transaction (see db.write); the history sink groups many of them into one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from psr_engine.store.model import GateRecord, RunRecord, TaskDigest

# One encoder for every write: json.dumps with options builds a new JSONEncoder per call
# (~8 us), which a run of 1,000 tasks pays several thousand times.
_json = json.JSONEncoder(separators=(",", ":"), default=str).encode


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


def task_started(
    conn: sqlite3.Connection,
    run_id: str,
    task_id: str,
    *,
    task_name: str,
    attempt: int,
    ts: float,
    log_path: str | None,
    matrix: Mapping[str, Any] | None,
) -> None:
    conn.execute(
        """INSERT INTO tasks (run_id, task_id, task_name, status, attempts, started_at,
               log_path, matrix)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?)
           ON CONFLICT (run_id, task_id) DO UPDATE SET status = 'running',
               attempts = excluded.attempts, log_path = excluded.log_path,
               started_at = COALESCE(tasks.started_at, excluded.started_at),
               matrix = excluded.matrix""",
        (run_id, task_id, task_name, attempt, ts, log_path, _json(dict(matrix or {}))),
    )
    conn.execute(
        """INSERT INTO attempts (run_id, task_id, attempt, status, started_at, log_path)
           VALUES (?, ?, ?, 'running', ?, ?)
           ON CONFLICT DO UPDATE SET status = 'running', started_at = excluded.started_at,
               log_path = excluded.log_path""",
        (run_id, task_id, attempt, ts, log_path),
    )


def attempt_ended(
    conn: sqlite3.Connection,
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
) -> None:
    """One attempt ended; `task_status` (e.g. `retrying`) also moves the task's own row."""
    conn.execute(
        """INSERT INTO attempts (run_id, task_id, attempt, status, reason, exit_code, ended_at,
               duration, log_path)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET status = excluded.status, reason = excluded.reason,
               exit_code = excluded.exit_code, ended_at = excluded.ended_at,
               duration = excluded.duration,
               log_path = COALESCE(excluded.log_path, attempts.log_path)""",
        (run_id, task_id, attempt, status, reason, exit_code, ts, duration, log_path),
    )
    if task_status is not None:
        conn.execute(
            """UPDATE tasks SET status = ?, reason = ?, exit_code = ?, attempts = ?
               WHERE run_id = ? AND task_id = ?""",
            (task_status, reason, exit_code, attempt, run_id, task_id),
        )


def task_finished(
    conn: sqlite3.Connection,
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
) -> None:
    conn.execute(
        """INSERT INTO tasks (run_id, task_id, task_name, status, reason, attempts, exit_code,
               ended_at, duration, cpu_user, cpu_sys, max_rss, outputs, matrix, log_path,
               message, cost)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, task_id) DO UPDATE SET status = excluded.status,
               reason = excluded.reason, attempts = excluded.attempts,
               exit_code = excluded.exit_code, ended_at = excluded.ended_at,
               duration = excluded.duration, cpu_user = excluded.cpu_user,
               cpu_sys = excluded.cpu_sys, max_rss = excluded.max_rss,
               outputs = excluded.outputs, matrix = excluded.matrix,
               log_path = COALESCE(excluded.log_path, tasks.log_path),
               message = excluded.message, cost = excluded.cost""",
        (
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
            _json(dict(outputs or {})),
            _json(dict(matrix or {})),
            log_path,
            message,
            None if cost is None else _json(dict(cost)),
        ),
    )


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
        (status, reason, ended_at, _json(dict(counts or {})), run_id),
    )


def record_gate(conn: sqlite3.Connection, gate: GateRecord) -> None:
    conn.execute(
        """INSERT INTO gates (run_id, gate, status, counts, findings, started_at, ended_at,
               message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, gate) DO UPDATE SET status = excluded.status,
               counts = excluded.counts, findings = excluded.findings,
               started_at = COALESCE(gates.started_at, excluded.started_at),
               ended_at = excluded.ended_at, message = excluded.message""",
        (
            gate.run_id,
            gate.gate,
            gate.status,
            _json(gate.counts),
            _json(gate.findings),
            gate.started_at,
            gate.ended_at,
            gate.message,
        ),
    )
