"""The dashboard's documents write times as `status --output json` does: views.timed is a
quicker conventional() for the documents of runs, tasks and attempts."""

from __future__ import annotations

import copy

from psr_engine.json_convention import conventional
from psr_engine.store.model import AttemptRecord, RunRecord, TaskRecord
from psr_engine.ui.views import timed

T = 1_764_050_401.25


def test_timed_is_the_cli_convention_for_runs_tasks_and_attempts() -> None:
    run = RunRecord(
        id="r",
        workflow="w",
        status="succeeded",
        started_at=T,
        ended_at=T + 2.0004,
        params={"day_at": 1.5},
        labels={"k": "v"},
        counts={"timed_out": 1},
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    task = TaskRecord(
        run_id="r",
        id="t[x=1]",
        task="t",
        status="timed_out",
        attempts=2,
        started_at=T + 0.9999999,
        ended_at=None,
        outputs={"built_at": "now"},
        matrix={"x": 1},
        needs=("a",),
        cost={"used": 0.1, "currency": "USD"},
    )
    attempts = [
        AttemptRecord("r", "t[x=1]", 1, "failed", None, 1, T, T + 1, 1.0, None),
        AttemptRecord("r", "t[x=1]", 2, "running", None, None, T + 1.5, None, None, None),
    ]
    for doc in (
        run.to_dict(),
        task.to_dict(),
        {**task.to_dict(), "attempts": [a.to_dict() for a in attempts]},
        TaskRecord(run_id="r", id="p", task="p", status="pending").to_dict(),
    ):
        assert timed(copy.deepcopy(doc)) == conventional(doc)
        assert timed(copy.deepcopy(doc), {}) == conventional(doc)
