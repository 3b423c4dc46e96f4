"""Connections to runs.db: WAL, a busy timeout, short write transactions, retries.

Many engines may share one state folder (100 `apply`s at once in CI). WAL lets readers run
beside the one writer; BEGIN IMMEDIATE takes the write lock up front, so two writers never
deadlock upgrading read locks; the busy timeout waits for the lock inside SQLite, and what
still comes back SQLITE_BUSY/LOCKED (a checkpoint, the first switch to WAL) is retried here
with jittered exponential backoff, so "database is locked" never reaches a user.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from psr_engine.store.model import StoreBusyError
from psr_engine.store.private import (
    DIR_MODE,
    FILE_MODE,
    make_private_dirs,
    open_private,
    tighten,
)

T = TypeVar("T")

BUSY_TIMEOUT_S = 10.0  # SQLite's own wait, per statement
RETRY_FOR_S = 120.0  # our retries on top, in total
_FIRST_DELAY_S = 0.005
_MAX_DELAY_S = 0.5


def is_busy(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def retrying(action: Callable[[], T], *, what: str = "the run history") -> T:
    """Run `action`, again after a jittered, growing pause while SQLite says busy/locked."""
    deadline = time.monotonic() + RETRY_FOR_S
    delay = _FIRST_DELAY_S
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            if time.monotonic() > deadline:
                raise StoreBusyError(
                    f"{what} stayed locked by other psr-engine processes for "
                    f"{RETRY_FOR_S:.0f}s; try again when they are done"
                ) from error
        import random  # only when the database is busy

        time.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, _MAX_DELAY_S)


def connect(path: str, *, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves), WAL, NORMAL sync.

    NORMAL in WAL mode keeps every committed transaction through a process crash (only a
    power loss may drop the last ones), without an fsync per commit.

    `create=False` (the look-back commands): where the folder cannot be written (a read-only
    mount, a full disk) the history is opened read-only rather than not at all.
    """
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if create:
        make_private_dirs(folder)
        # SQLite creates the -wal and -shm files with the database's own mode: a database
        # born 0600 keeps all three private.
        with contextlib.suppress(FileExistsError):
            os.close(open_private(path, os.O_RDWR | os.O_CREAT | os.O_EXCL))
        target = path
        uri = False
    else:
        if not writable(path):
            return connect_read_only(path)
        target = f"file:{path}?mode=rw"
        uri = True
    _tighten_state(folder, path)
    conn = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False, uri=uri
    )
    try:
        retrying(lambda: _configure(conn), what=path)
    except sqlite3.OperationalError as error:
        conn.close()
        if create or not is_full(error):
            raise
        return connect_read_only(path)  # a full disk: still readable
    except BaseException:
        conn.close()
        raise
    return conn


def writable(path: str) -> bool:
    """Can the database and its folder (where -wal and -shm go) be written?"""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    return os.access(folder, os.W_OK) and os.access(path, os.W_OK)


def is_full(error: sqlite3.Error) -> bool:
    """SQLITE_FULL, or an I/O error creating -wal/-shm: what a full disk looks like."""
    text = str(error).lower()
    return "full" in text or "disk i/o" in text


def connect_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection that needs nothing written: `mode=ro` when SQLite can read the
    WAL without creating its -shm file, else `immutable=1` (what was checkpointed; a run
    still writing cannot be, on a folder nobody can write)."""
    for options in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(
            f"file:{path}?{options}",
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            uri=True,
            factory=ReadOnlyConnection,
        )
        try:
            conn.execute("PRAGMA user_version").fetchone()
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error:
            conn.close()
            continue
        return conn
    raise sqlite3.OperationalError(f"{path}: cannot be opened, even read-only")


class ReadOnlyConnection(sqlite3.Connection):
    """A connection opened read-only (the folder cannot be written): the store then neither
    migrates nor closes crashed runs, it only answers."""


def _tighten_state(folder: str, path: str) -> None:
    """A state folder an older version made world-readable is closed when opened."""
    tighten(folder, DIR_MODE)
    for name in (path, f"{path}-wal", f"{path}-shm"):
        tighten(name, FILE_MODE)


def _configure(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")


def write(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T], *, what: str) -> T:
    """Run `body` in one BEGIN IMMEDIATE transaction, retried whole while the lock is busy."""

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return retrying(attempt, what=what)


def read(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T], *, what: str) -> T:
    """Run `body` in one read transaction (a consistent snapshot), retried while busy."""

    def attempt() -> T:
        conn.execute("BEGIN")
        try:
            return body(conn)
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    return retrying(attempt, what=what)
