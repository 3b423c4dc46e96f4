"""RunStore: one open runs.db, with the operations the engine, resume and the commands use."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
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
        # Runs whose engine died that could not be closed as crashed (a read-only folder, a
        # full disk): shown as crashed all the same, as the next writable open records them.
        self._unclosed: dict[str, int | None] = {}

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
            if reap and not store.read_only:
                store.reap_crashed()
            elif reap:
                store._unclosed = dict(store.read(crash.crashed_runs))
        except BaseException:
            conn.close()
            raise
        return store

    @property
    def read_only(self) -> bool:
        """Opened read-only: the folder cannot be written (a read-only mount, a full disk)."""
        return isinstance(self.conn, db.ReadOnlyConnection)

    def _migrate(self) -> None:
        try:
            if schema.version_of(self.conn) == schema.LATEST:
                return
            if self.read_only:
                raise HistoryError(
                    f"{self.path} was written by an older psr-engine and cannot be upgraded "
                    "where it is (the folder is not writable): copy the folder somewhere "
                    "writable and point --state-dir at the copy"
                )
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

        try:
            closed = self.write(close_all)
        except sqlite3.OperationalError as error:
            if not db.is_full(error):
                raise
            self._unclosed = dict(dead)  # a full disk: shown crashed, closed by a later open
            return []
        for run_id in closed:
            crash.sweep_raw_outputs(run_dir(self.state_dir, run_id))
        return closed

    # -- reads -----------------------------------------------------------------------------

    def runs(
        self, *, workflow: str | None = None, status: str | None = None, limit: int | None = 20
    ) -> list[RunRecord]:
        found = self.read(
            lambda conn: queries.list_runs(conn, workflow=workflow, status=status, limit=limit)
        )
        return [self._as_seen(r) for r in found]

    def run(self, ref: str, *, workflow: str | None = None) -> RunRecord:
        """`last`, a run id or a unique prefix of one; HistoryError when there is none."""
        return self._as_seen(
            self.read(lambda conn: queries.resolve_run(conn, ref, workflow=workflow))
        )

    def resumes_of(self, run_id: str) -> list[RunRecord]:
        """The runs that resumed `run_id`, newest first."""
        return self.read(lambda conn: queries.resumes_of(conn, run_id))

    def get(self, run_id: str) -> RunRecord | None:
        found = self.read(lambda conn: queries.get_run(conn, run_id))
        return None if found is None else self._as_seen(found)

    def tasks(self, run_id: str) -> list[TaskRecord]:
        found = self.read(lambda conn: queries.tasks_of(conn, run_id))
        if run_id not in self._unclosed:
            return found
        return [
            replace(t, status="crashed", reason="engine crashed")
            if t.status in ("running", "retrying")
            else t
            for t in found
        ]

    def attempts(self, run_id: str, task_id: str | None = None) -> list[AttemptRecord]:
        return self.read(lambda conn: queries.attempts_of(conn, run_id, task_id))

    def gates(self, run_id: str) -> list[GateRecord]:
        return self.read(lambda conn: queries.gates_of(conn, run_id))

    def task_counts(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        counts = self.read(lambda conn: queries.task_counts(conn, run_ids))
        for run_id in self._unclosed.keys() & counts.keys():
            seen = dict(counts[run_id])
            for status in ("running", "retrying"):
                if status in seen:
                    seen["crashed"] = seen.get("crashed", 0) + seen.pop(status)
            counts[run_id] = seen
        return counts

    def _as_seen(self, record: RunRecord) -> RunRecord:
        if record.id not in self._unclosed or record.status != "running":
            return record
        pid = self._unclosed[record.id]
        return replace(record, status="crashed", reason=crash.CRASH_REASON.format(pid=pid))

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
            import shutil  # with bz2, lzma and zlib: only when runs are removed

            shutil.rmtree(run_dir(self.state_dir, run_id), ignore_errors=True)
        return victims
