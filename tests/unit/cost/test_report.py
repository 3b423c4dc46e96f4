"""Chargeback: grouping the history's task rows by workflow, task or label, and the outputs."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from psr_engine.cost.history import CostRow, cost_rows, median_durations, opened, spent_since
from psr_engine.cost.prices import CostError
from psr_engine.cost.report import chargeback, parse_age, render


def row(run: str, workflow: str, task: str, seconds: float, team: str | None, cost: float | None):
    labels = {"team": team} if team else {}
    return CostRow(
        run_id=run,
        workflow=workflow,
        task=task,
        task_id=task,
        started_at=0.0,
        duration=seconds,
        labels=labels,
        reserved=cost,
        used=None if cost is None else cost / 2,
        currency=None if cost is None else "USD",
    )


ROWS = [
    row("r1", "etl", "extract", 3600, "data", 0.10),
    row("r1", "etl", "load", 1800, "data", 0.05),
    row("r2", "etl", "extract", 3600, "data", 0.10),
    row("r3", "ml", "train", 7200, "science", 1.00),
    row("r4", "adhoc", "x", 360, None, None),
]


def test_by_label_groups_runs_of_workflows_with_different_labels() -> None:
    groups = {g.group: g for g in chargeback(ROWS, by="label:team")}
    assert set(groups) == {"data", "science", "(none)"}
    assert len(groups["data"].runs) == 2 and groups["data"].hours == pytest.approx(2.5)
    assert groups["data"].reserved == pytest.approx(0.25)
    assert groups["data"].used == pytest.approx(0.125)
    assert groups["science"].reserved == pytest.approx(1.0)
    assert groups["(none)"].unpriced == 1 and groups["(none)"].reserved == 0


def test_by_workflow_and_by_task_most_expensive_first() -> None:
    assert [g.group for g in chargeback(ROWS, by="workflow")] == ["ml", "etl", "adhoc"]
    by_task = {g.group: g for g in chargeback(ROWS, by="task")}
    assert by_task["etl/extract"].reserved == pytest.approx(0.2)
    assert len(by_task["etl/extract"].runs) == 2


def test_outputs_table_json_csv() -> None:
    groups = chargeback(ROWS, by="label:team")
    table = render(groups, output="table", by="label:team")
    assert table.splitlines()[0].split()[:3] == ["LABEL:TEAM", "RUNS", "HOURS"]
    assert "1 task(s) ran without cost settings" in table
    document = json.loads(render(groups, output="json", by="label:team"))
    assert document["groups"][0] == {
        "group": "science",
        "runs": 1,
        "hours": 2.0,
        "reserved": 1.0,
        "used": 0.5,
        "currency": "USD",
        "unpricedTasks": 0,
    }
    parsed = list(csv.DictReader(io.StringIO(render(groups, output="csv"))))
    assert [r["group"] for r in parsed] == ["science", "data", "(none)"]
    assert parsed[1]["reserved"] == "0.25"


@pytest.mark.parametrize("by", ["label:", "team", ""])
def test_bad_grouping_is_a_clear_error(by: str) -> None:
    with pytest.raises(CostError, match="workflow, task or label:KEY"):
        chargeback(ROWS, by=by)


def test_ages() -> None:
    assert parse_age("30d") == 30 * 86400
    assert parse_age("12h") == 43200
    with pytest.raises(CostError, match="30d"):
        parse_age("a month")


def _record(
    store, run_id: str, workflow: str, labels: dict, tasks: dict[str, float], status="succeeded"
) -> None:
    """Write a run as the history sink does (the store's own write functions)."""
    from psr_engine.store import RunRecord
    from psr_engine.store import writes as w

    now = time.time()

    def body(conn) -> None:
        w.begin_run(conn, RunRecord(run_id, workflow, "running", now - 10, labels=labels))
        for name, seconds in tasks.items():
            w.task_finished(
                conn,
                run_id,
                name,
                task_name=name,
                status="succeeded",
                reason=None,
                attempts=1,
                exit_code=0,
                ts=now,
                duration=seconds,
                cpu_user=0,
                cpu_sys=0,
                max_rss=0,
                outputs=None,
                matrix=None,
                log_path=None,
                message=None,
            )
        w.finish_run(conn, run_id, status=status, reason=None, ended_at=now)

    store.write(body)


def test_history_rows_and_medians_from_a_real_store(tmp_path: Path) -> None:
    from psr_engine.store import RunStore

    with RunStore.open(str(tmp_path)) as store:
        _record(store, "r1", "etl", {"team": "data"}, {"a": 10, "b": 100})
        _record(store, "r2", "etl", {"team": "data"}, {"a": 20, "b": 100})
        _record(store, "r3", "etl", {"team": "data"}, {"a": 60, "b": 100})
        _record(store, "r4", "ml", {"team": "science"}, {"train": 3600})
        _record(store, "r5", "etl", {"team": "data"}, {"a": 999}, status="failed")
        assert median_durations(store, "etl") == {"a": 20, "b": 100}
        groups = {g.group: g for g in chargeback(cost_rows(store), by="label:team")}
    assert len(groups["data"].runs) == 4 and len(groups["science"].runs) == 1
    assert groups["science"].hours == pytest.approx(1.0)
    with opened(str(tmp_path)) as again:
        assert again is not None and len(cost_rows(again, workflow="ml")) == 1
    with opened(str(tmp_path / "empty")) as missing:
        assert missing is None and cost_rows(missing) == []


def test_recorded_costs_are_read_and_summed() -> None:
    # A stand-in store: the run history keeps a task's `cost` only once the store records it
    # (TaskRecord.cost); this pins how the cost layer reads it.
    run = SimpleNamespace(id="r1", workflow="etl", started_at=time.time(), labels={"team": "data"})
    tasks = [
        SimpleNamespace(
            id="a",
            task="a",
            attempts=1,
            duration=60,
            cost={"reserved": 0.5, "used": 0.2, "currency": "USD"},
        ),
        SimpleNamespace(
            id="b", task="b", attempts=1, duration=60, cost={"reserved": 0.25, "currency": "EUR"}
        ),
        SimpleNamespace(id="c", task="c", attempts=0, duration=0, cost=None),
    ]
    store = SimpleNamespace(runs=lambda **_: [run], tasks=lambda run_id: tasks)
    rows = cost_rows(store)
    assert [(r.task, r.reserved) for r in rows] == [("a", 0.5), ("b", 0.25)]
    assert spent_since(store, workflow="etl", since=0, currency="USD") == 0.5
