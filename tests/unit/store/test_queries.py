"""Looking runs up: newest first, filters, `last`, id prefixes; pruning old runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from psr_engine.store import HistoryError, RunStore


def test_runs_are_listed_newest_first_and_filter(add_run, store: RunStore) -> None:
    add_run(store, "r1", workflow="etl", status="failed", started_at=100.0)
    add_run(store, "r2", workflow="etl", status="succeeded", started_at=200.0)
    add_run(store, "r3", workflow="other", status="failed", started_at=300.0)
    assert [r.id for r in store.runs()] == ["r3", "r2", "r1"]
    assert [r.id for r in store.runs(workflow="etl")] == ["r2", "r1"]
    assert [r.id for r in store.runs(status="failed")] == ["r3", "r1"]
    assert [r.id for r in store.runs(limit=1)] == ["r3"]


def test_last_is_the_newest_run_or_the_newest_of_a_workflow(add_run, store: RunStore) -> None:
    add_run(store, "r1", workflow="etl", started_at=100.0)
    add_run(store, "r2", workflow="other", started_at=200.0)
    assert store.run("last").id == "r2"
    assert store.run("last", workflow="etl").id == "r1"
    with pytest.raises(HistoryError, match="no runs of workflow 'nope'"):
        store.run("last", workflow="nope")


def test_a_unique_prefix_finds_a_run_and_an_ambiguous_one_says_so(add_run, store: RunStore) -> None:
    add_run(store, "20261126-101010-abc123", started_at=1.0)
    add_run(store, "20261126-101010-abd456", started_at=2.0)
    assert store.run("20261126-101010-abc").id == "20261126-101010-abc123"
    with pytest.raises(HistoryError, match="ambiguous"):
        store.run("20261126-101010-ab")
    with pytest.raises(HistoryError, match="no run 'zzz'"):
        store.run("zzz")
    # LIKE wildcards in a ref are taken literally.
    with pytest.raises(HistoryError, match="no run"):
        store.run("%")


def test_tasks_come_back_in_plan_order_with_their_fields(add_run, store: RunStore) -> None:
    add_run(store, "r1", tasks=[("b", "succeeded"), ("a", "failed"), ("c", "pending")])
    tasks = store.tasks("r1")
    assert [(t.id, t.status) for t in tasks] == [
        ("b", "succeeded"),
        ("a", "failed"),
        ("c", "pending"),
    ]
    assert tasks[0].outputs == {"k": "b"}
    assert tasks[0].digest == "d-b"
    assert tasks[1].to_dict()["exitCode"] == 1
    assert store.task_counts(["r1"]) == {"r1": {"succeeded": 1, "failed": 1, "pending": 1}}


def test_prune_keep_removes_older_runs_with_their_log_folders(
    add_run, store: RunStore, state_dir: Path
) -> None:
    for number in range(5):
        add_run(store, f"r{number}", started_at=100.0 + number)
        (state_dir / "runs" / f"r{number}").mkdir(parents=True)
        (state_dir / "runs" / f"r{number}" / "a.1.log").write_text("log\n")
    removed = store.prune(keep=2)
    assert sorted(r.id for r in removed) == ["r0", "r1", "r2"]
    assert [r.id for r in store.runs()] == ["r4", "r3"]
    assert sorted(p.name for p in (state_dir / "runs").iterdir()) == ["r3", "r4"]
    assert store.tasks("r0") == []


def test_prune_older_than_keeps_recent_and_running_runs(add_run, store: RunStore) -> None:
    add_run(store, "old", started_at=1000.0)
    add_run(store, "old-but-running", started_at=1000.0, status="running")
    add_run(store, "recent", started_at=9000.0)
    removed = store.prune(older_than_s=3600, now=10000.0)
    assert [r.id for r in removed] == ["old"]
    assert {r.id for r in store.runs()} == {"old-but-running", "recent"}


def test_prune_dry_run_removes_nothing(add_run, store: RunStore) -> None:
    add_run(store, "r1", started_at=1.0)
    add_run(store, "r2", started_at=2.0)
    assert [r.id for r in store.prune(keep=1, dry_run=True)] == ["r1"]
    assert len(store.runs()) == 2


def test_prune_needs_a_rule(store: RunStore) -> None:
    with pytest.raises(HistoryError, match="--keep"):
        store.prune()
