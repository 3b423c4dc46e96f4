"""Writers wait out each other's locks; a lock held for too long is a clear error."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from psr_engine.store import RunStore, StoreBusyError
from psr_engine.store import db as store_db


def _hold_write_lock(path: Path, release: threading.Event) -> threading.Thread:
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(30)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(30)
    return thread


def test_a_writer_outlasts_a_lock_held_longer_than_sqlites_busy_timeout(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.01)
    store = RunStore.open(str(state_dir))
    release = threading.Event()
    holder = _hold_write_lock(state_dir / "runs.db", release)
    # Lift the lock only once the writer has been refused at least a few times.
    refusals = []
    real_sleep = store_db.time.sleep

    def counting_sleep(seconds: float) -> None:
        refusals.append(seconds)
        if len(refusals) == 5:
            release.set()
        real_sleep(seconds)

    monkeypatch.setattr(store_db.time, "sleep", counting_sleep)
    store.write(
        lambda conn: conn.execute(
            "INSERT INTO gates (run_id, gate, status) VALUES ('r', 'g', 'ok')"
        )
    )
    holder.join()
    assert len(refusals) >= 5
    assert len(set(refusals)) > 1  # jittered, growing pauses, not a fixed beat
    store.close()


def test_a_lock_that_never_ends_becomes_a_clear_error(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.01)
    monkeypatch.setattr(store_db, "RETRY_FOR_S", 0.2)
    store = RunStore.open(str(state_dir))
    release = threading.Event()
    holder = _hold_write_lock(state_dir / "runs.db", release)
    try:
        with pytest.raises(StoreBusyError) as busy:
            store.write(lambda conn: conn.execute("DELETE FROM runs"))
    finally:
        release.set()
        holder.join()
        store.close()
    assert "locked by other psr-engine processes" in str(busy.value)
    assert "database is locked" not in str(busy.value)
