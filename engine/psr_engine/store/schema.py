"""The schema of runs.db and its migrations.

`PRAGMA user_version` holds the version a database is at; MIGRATIONS[n] takes it from n to
n + 1. Append a function to change the schema; never edit one that has shipped (databases made
by it exist). Each migration runs inside the caller's write transaction, so a database is
always at one version or the next, never in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from psr_engine.store.model import HistoryError


def _v1(conn: sqlite3.Connection) -> None:
    """Runs, tasks and attempts."""
    for statement in (
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            manifest_path TEXT,
            manifest_digest TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            labels TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL,
            reason TEXT,
            started_at REAL NOT NULL,
            ended_at REAL,
            host TEXT,
            user TEXT,
            pid INTEGER,
            pid_started INTEGER,
            ci_url TEXT,
            run_dir TEXT,
            counts TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX runs_by_start ON runs (started_at)",
        "CREATE INDEX runs_by_status ON runs (status)",
        """CREATE TABLE tasks (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            task_name TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            exit_code INTEGER,
            started_at REAL,
            ended_at REAL,
            duration REAL NOT NULL DEFAULT 0,
            cpu_user REAL NOT NULL DEFAULT 0,
            cpu_sys REAL NOT NULL DEFAULT 0,
            max_rss INTEGER NOT NULL DEFAULT 0,
            outputs TEXT NOT NULL DEFAULT '{}',
            matrix TEXT NOT NULL DEFAULT '{}',
            log_path TEXT,
            message TEXT,
            PRIMARY KEY (run_id, task_id)
        )""",
        """CREATE TABLE attempts (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            exit_code INTEGER,
            started_at REAL,
            ended_at REAL,
            duration REAL,
            log_path TEXT,
            PRIMARY KEY (run_id, task_id, attempt)
        )""",
    ):
        conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    """Resume (task digests, resumed_from, onExit), gate results, lookups by workflow."""
    for statement in (
        "ALTER TABLE runs ADD COLUMN resumed_from TEXT",
        "ALTER TABLE tasks ADD COLUMN digest TEXT",
        "ALTER TABLE tasks ADD COLUMN on_exit INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX runs_by_workflow ON runs (workflow, started_at)",
        """CREATE TABLE gates (
            run_id TEXT NOT NULL,
            gate TEXT NOT NULL,
            status TEXT NOT NULL,
            counts TEXT NOT NULL DEFAULT '{}',
            findings TEXT NOT NULL DEFAULT '[]',
            started_at REAL,
            ended_at REAL,
            message TEXT,
            PRIMARY KEY (run_id, gate)
        )""",
    ):
        conn.execute(statement)


def _v3(conn: sqlite3.Connection) -> None:
    """Cost attribution: each task's cost (JSON: reserved, used, currency, rates)."""
    conn.execute("ALTER TABLE tasks ADD COLUMN cost TEXT")


def _v4(conn: sqlite3.Connection) -> None:
    """The plan's graph per run (each task's needs and level: the dashboard draws it as
    planned), and the dashboard's runs-list filter by status in start order."""
    for statement in (
        "ALTER TABLE tasks ADD COLUMN needs TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE tasks ADD COLUMN level INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX runs_by_status_start ON runs (status, started_at)",
    ):
        conn.execute(statement)


def _v5(conn: sqlite3.Connection) -> None:
    """The trace id of a run that was traced (OpenTelemetry): the dashboard links to it."""
    conn.execute("ALTER TABLE runs ADD COLUMN trace_id TEXT")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4, _v5)
LATEST = len(MIGRATIONS)


def version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, path: str = "runs.db", target: int = LATEST) -> int:
    """Bring the database to `target`; call inside a write transaction. Returns the version
    it was at before."""
    found = version_of(conn)
    if found > LATEST:
        raise HistoryError(
            f"{path}: the run history was written by a newer psr-engine (schema v{found}, "
            f"this one knows up to v{LATEST}); upgrade psr-engine, or point --state-dir elsewhere"
        )
    for version in range(found, target):
        MIGRATIONS[version](conn)
    if target > found:
        # PRAGMA takes no parameters; target is an int we computed.
        conn.execute(f"PRAGMA user_version = {int(target)}")
    return found
