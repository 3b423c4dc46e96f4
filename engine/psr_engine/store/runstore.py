"""RunStore: one open runs.db, with the operations the engine, resume and the commands use."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from psr_engine.store import crash, db, queries, schema
from psr_engine.store.model import (
    AttemptRecord,
    GateRecord,
    HistoryError,
    RunRecord,
    TaskRecord,
)
from psr_engine.store.paths import db_path, run_dir

T = TypeVar("T")


class RunStore:
    """The run history of one state folder. Open with `RunStore.open(state_dir)`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.state_dir = os.path.dirname(os.path.abspath(path))

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, state_dir: str, *, create: bool = True, reap: bool = True) -> RunStore:
        """Open `<state_dir>/runs.db`, migrating it to the current schema, and close as
        `crashed` every run whose engine died. `create=False`: a missing database is a
        HistoryError rather than a new empty one (the look-back commands)."""
        return cls.open_file(db_path(state_dir), create=create, reap=reap)

    @classmethod
    def open_file(cls, path: str, *, create: bool = True, reap: bool = True) -> RunStore:
        if not create and not os.path.isfile(path):
            raise HistoryError(
                f"no run history at {path}: run `psr-engine apply` there first, or point "
                "--state-dir (or $PSR_STATE_DIR) at the folder that holds runs.db"
            )
        try:
            conn = db.connect(path, create=create)
        except sqlite3.Error as error:
            raise HistoryError(f"{path}: cannot open the run history: {error}") from None
        store = cls(conn, path)
        try:
            store._migrate()
            if reap:
                store.reap_crashed()
        except BaseException:
            conn.close()
            raise
        return store

    def _migrate(self) -> None:
        try:
            if schema.version_of(self.conn) == schema.LATEST:
                return
            self.write(lambda conn: schema.migrate(conn, path=self.path))
        except sqlite3.DatabaseError as error:
            if db.is_busy(error):
                raise
            raise HistoryError(f"{self.path}: not a psr-engine run history ({error})") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    def write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        return db.write(self.conn, body, what=self.path)

    def read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        return db.read(self.conn, body, what=self.path)

    # -- crash consistency -----------------------------------------------------------------

    def reap_crashed(self) -> list[str]:
        """Mark every run whose owner died as crashed; returns their ids."""
        dead = self.read(crash.crashed_runs)
        if not dead:
            return []

        def close_all(conn: sqlite3.Connection) -> list[str]:
            return [run_id for run_id, pid in dead if crash.mark_crashed(conn, run_id, pid)]

        closed = self.write(close_all)
        for run_id in closed:
            crash.sweep_raw_outputs(run_dir(self.state_dir, run_id))
        return closed

    # -- reads -----------------------------------------------------------------------------

    def runs(
        self, *, workflow: str | None = None, status: str | None = None, limit: int | None = 20
    ) -> list[RunRecord]:
        return self.read(
            lambda conn: queries.list_runs(conn, workflow=workflow, status=status, limit=limit)
        )

    def run(self, ref: str, *, workflow: str | None = None) -> RunRecord:
        """`last`, a run id or a unique prefix of one; HistoryError when there is none."""
        return self.read(lambda conn: queries.resolve_run(conn, ref, workflow=workflow))

    def resumes_of(self, run_id: str) -> list[RunRecord]:
        """The runs that resumed `run_id`, newest first."""
        return self.read(lambda conn: queries.resumes_of(conn, run_id))

    def get(self, run_id: str) -> RunRecord | None:
        return self.read(lambda conn: queries.get_run(conn, run_id))

    def tasks(self, run_id: str) -> list[TaskRecord]:
        return self.read(lambda conn: queries.tasks_of(conn, run_id))

    def attempts(self, run_id: str, task_id: str | None = None) -> list[AttemptRecord]:
        return self.read(lambda conn: queries.attempts_of(conn, run_id, task_id))

    def gates(self, run_id: str) -> list[GateRecord]:
        return self.read(lambda conn: queries.gates_of(conn, run_id))

    def task_counts(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        return self.read(lambda conn: queries.task_counts(conn, run_ids))

    # -- pruning ---------------------------------------------------------------------------

    def prune(
        self,
        *,
        keep: int | None = None,
        older_than_s: float | None = None,
        now: float | None = None,
        dry_run: bool = False,
    ) -> list[RunRecord]:
        """Remove ended runs beyond the newest `keep`, or started more than `older_than_s`
        ago, with their rows and their log folders. Running runs are never removed."""
        if keep is None and older_than_s is None:
            raise HistoryError("prune needs --keep N or --older-than AGE")
        if keep is not None and keep < 0:
            raise HistoryError("--keep must be 0 or more")
        runs = self.runs(limit=None)
        ended = [r for r in runs if r.status != "running"]
        doomed: dict[str, RunRecord] = {}
        if keep is not None:
            doomed.update((r.id, r) for r in ended[keep:])
        if older_than_s is not None:
            cutoff = (time.time() if now is None else now) - older_than_s
            doomed.update((r.id, r) for r in ended if r.started_at < cutoff)
        victims = [r for r in runs if r.id in doomed]
        if dry_run or not victims:
            return victims
        ids = [r.id for r in victims]

        def delete(conn: sqlite3.Connection) -> None:
            for table, column in (
                ("attempts", "run_id"),
                ("tasks", "run_id"),
                ("gates", "run_id"),
                ("runs", "id"),
            ):
                conn.executemany(
                    f"DELETE FROM {table} WHERE {column} = ?", [(run_id,) for run_id in ids]
                )

        self.write(delete)
        for run_id in ids:
            # Only ever the engine's own layout under this state folder.
            shutil.rmtree(run_dir(self.state_dir, run_id), ignore_errors=True)
        return victims
