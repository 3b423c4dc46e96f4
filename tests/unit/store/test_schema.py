"""The schema's versions: a fresh database is at the latest one; an older one migrates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from psr_engine.store import HistoryError, RunStore
from psr_engine.store.schema import LATEST, version_of

DATA = Path(__file__).parent / "data"


def test_a_new_database_is_at_the_latest_version_in_wal_mode(state_dir: Path) -> None:
    with RunStore.open(str(state_dir)) as store:
        assert version_of(store.conn) == LATEST
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_version_1_database_migrates_and_keeps_its_runs(state_dir: Path) -> None:
    state_dir.mkdir()
    old = sqlite3.connect(state_dir / "runs.db")
    old.executescript((DATA / "schema-v1.sql").read_text())
    old.close()

    with RunStore.open(str(state_dir)) as store:
        assert version_of(store.conn) == LATEST
        run = store.run("last")
        assert run.id == "20260101-000000-aaaaaa"
        assert run.params == {"date": "2026-01-01"}
        assert run.resumed_from is None
        tasks = {t.id: t for t in store.tasks(run.id)}
        assert tasks["extract"].outputs == {"rows": "3"}
        assert tasks["extract"].digest is None  # v1 recorded none
        assert [a.attempt for a in store.attempts(run.id, "load")] == [1, 2]
        assert store.gates(run.id) == []
        # What v2 added works on the migrated file.
        store.write(
            lambda conn: conn.execute(
                "INSERT INTO gates (run_id, gate, status) VALUES (?, 'code', 'passed')",
                (run.id,),
            )
        )
        assert [g.gate for g in store.gates(run.id)] == ["code"]


def test_a_database_from_a_newer_engine_is_refused_clearly(state_dir: Path) -> None:
    state_dir.mkdir()
    newer = sqlite3.connect(state_dir / "runs.db")
    newer.execute(f"PRAGMA user_version = {LATEST + 1}")
    newer.close()
    with pytest.raises(HistoryError, match="newer psr-engine"):
        RunStore.open(str(state_dir))


def test_a_file_that_is_not_a_database_is_a_clear_error(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "runs.db").write_text("not sqlite at all, just text " * 100)
    with pytest.raises(HistoryError, match=r"runs\.db"):
        RunStore.open(str(state_dir))


def test_reading_a_missing_history_does_not_create_one(state_dir: Path) -> None:
    with pytest.raises(HistoryError, match="no run history"):
        RunStore.open(str(state_dir), create=False)
    assert not (state_dir / "runs.db").exists()
