"""The state folders a dashboard serves, and read-only connections to their runs.db.

`psr-engine ui PATH...`: a PATH that is a runs.db, a state folder, or a folder below which
`.psr/runs.db` files are found (a monorepo's root shows every workflow in it). Connections are
`mode=ro`: the dashboard never takes the write lock a running engine needs, and WAL lets it
read beside the writer.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar
from urllib.parse import quote

from psr_engine.errors import HistoryError
from psr_engine.status import LIVE
from psr_engine.store import RunStore, db
from psr_engine.store import queries as q
from psr_engine.store.crash import CRASH_REASON
from psr_engine.store.model import RunRecord, TaskRecord
from psr_engine.store.owner import owner_alive
from psr_engine.store.paths import DB_NAME, STATE_DIR_NAME
from psr_engine.store.schema import LATEST, version_of

T = TypeVar("T")

# Folders never worth walking into when looking for state folders.
_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})


@dataclass(frozen=True, slots=True)
class Source:
    """One run history: its runs.db and the state folder holding it (and the runs' logs)."""

    db_path: str
    state_dir: str


def discover(paths: Iterable[str]) -> list[Source]:
    """The run histories under `paths`, each once, in a stable order."""
    found: dict[str, Source] = {}
    for given in paths:
        path = os.path.abspath(given)
        for db_file in _databases_at(path):
            real = os.path.realpath(db_file)
            found.setdefault(real, Source(db_path=real, state_dir=os.path.dirname(real)))
    return sorted(found.values(), key=lambda s: s.db_path)


def _databases_at(path: str) -> Iterator[str]:
    if os.path.isfile(path):
        yield path
        return
    if os.path.isfile(os.path.join(path, DB_NAME)):
        yield os.path.join(path, DB_NAME)
        return
    for folder, dirs, files in os.walk(path):
        if os.path.basename(folder) == STATE_DIR_NAME and DB_NAME in files:
            yield os.path.join(folder, DB_NAME)
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIP and (d == STATE_DIR_NAME or not d.startswith("."))
        )


def connect_ro(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{quote(path)}?mode=ro",
        uri=True,
        timeout=db.BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute("PRAGMA query_only = 1")
    return conn


_HERE = socket.gethostname()


def as_seen(run: RunRecord) -> RunRecord:
    """The run as the next `psr-engine` command will record it: `running` whose engine on this
    host is gone is `crashed` (the dashboard only reads, so it shows that without writing it;
    the engine's own commands close it in the history)."""
    if run.status != "running" or run.host != _HERE or owner_alive(run.pid, run.pid_started):
        return run
    return replace(run, status="crashed", reason=CRASH_REASON.format(pid=run.pid))


def crashed_task(task: TaskRecord) -> TaskRecord:
    """A task of a crashed run, as the history will close it."""
    if task.status not in LIVE:
        return task
    return replace(task, status="crashed", reason="engine crashed")


class Catalog:
    """The sources served, with run ids mapped to the source that holds them."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self.sources = tuple(sources)
        self._where: dict[str, Source] = {}
        self._lock = threading.Lock()

    def upgrade(self) -> list[str]:
        """Bring histories written by an older psr-engine to the current schema: one short
        write, as `psr-engine runs` does on them; after it the dashboard only reads.
        Returns the paths upgraded."""
        upgraded = []
        for source in self.sources:
            with closing(connect_ro(source.db_path)) as conn:
                current = version_of(conn)
            if current < LATEST:
                RunStore.open_file(source.db_path, reap=False).close()
                upgraded.append(source.db_path)
        return upgraded

    @contextmanager
    def reading(self, source: Source) -> Iterator[sqlite3.Connection]:
        conn = connect_ro(source.db_path)
        try:
            yield conn
        finally:
            conn.close()

    def read(self, source: Source, body: Callable[[sqlite3.Connection], T]) -> T:
        with self.reading(source) as conn:
            return db.read(conn, body, what=source.db_path)

    def remember(self, source: Source, runs: Iterable[RunRecord]) -> None:
        with self._lock:
            for run in runs:
                self._where[run.id] = source

    def find(self, run_id: str) -> tuple[Source, RunRecord]:
        """The source holding `run_id` and its record; HistoryError when none does."""
        known = self._where.get(run_id)
        order = [known] if known else []
        order += [s for s in self.sources if s is not known]
        for source in order:
            run = self.read(source, lambda conn: q.get_run(conn, run_id))
            if run is not None:
                self.remember(source, [run])
                return source, as_seen(run)
        raise HistoryError(f"no run {run_id!r} in the histories served")


@contextmanager
def closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()
