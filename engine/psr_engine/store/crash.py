"""Runs whose engine died: found and closed the next time anyone opens the store.

A run is `running` while its owner lives. When the owner (pid + start time, on this host) is
gone without writing `run.finished` (SIGKILL, OOM killer, power loss), the run becomes
`crashed`: tasks that had ended keep their rows, tasks that were running (or waiting to retry)
become `crashed` too, and `--resume` can pick the run up from there.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import time

from psr_engine.store.owner import owner_alive

CRASH_REASON = "the engine process ({pid}) ended without finishing the run"


def crashed_runs(conn: sqlite3.Connection, *, host: str | None = None) -> list[tuple[str, int]]:
    """(run id, owner pid) of `running` runs on this host whose owner is gone."""
    here = host or socket.gethostname()
    rows = conn.execute(
        "SELECT id, host, pid, pid_started FROM runs WHERE status = 'running'"
    ).fetchall()
    # Another host's process cannot be checked from here; its own next command will.
    return [
        (run_id, pid)
        for run_id, run_host, pid, started in rows
        if run_host == here and not owner_alive(pid, started)
    ]


def mark_crashed(conn: sqlite3.Connection, run_id: str, pid: int | None) -> bool:
    """Close one run as crashed (inside a write transaction). False if it ended meanwhile."""
    last = conn.execute(
        """SELECT MAX(COALESCE(MAX(ended_at), 0), COALESCE(MAX(started_at), 0))
           FROM tasks WHERE run_id = ?""",
        (run_id,),
    ).fetchone()[0]
    changed = conn.execute(
        """UPDATE runs SET status = 'crashed', reason = ?,
               ended_at = MAX(started_at, COALESCE(?, 0))
           WHERE id = ? AND status = 'running'""",
        (CRASH_REASON.format(pid=pid), last or time.time(), run_id),
    ).rowcount
    if not changed:
        return False
    conn.execute(
        """UPDATE tasks SET status = 'crashed', reason = 'engine crashed'
           WHERE run_id = ? AND status IN ('running', 'retrying')""",
        (run_id,),
    )
    conn.execute(
        """UPDATE attempts SET status = 'crashed', reason = 'engine crashed'
           WHERE run_id = ? AND status = 'running'""",
        (run_id,),
    )
    return True


RAW_OUTPUT_SUFFIX = ".out"  # the $PSR_OUTPUT files a task writes (run/scheduler.py)


def sweep_raw_outputs(run_folder: str) -> int:
    """Remove the `$PSR_OUTPUT` files a dead engine left in a run's folder (sub-workflows'
    folders included): raw task outputs, maybe secrets, that nobody will read now. Returns
    how many went."""
    removed = 0
    for folder, _, names in os.walk(run_folder):
        for name in names:
            if name.endswith(RAW_OUTPUT_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))
                    removed += 1
    return removed
