"""A batch of events leaves runs.db exactly as the same events written one per transaction.

The history sink writes a batch in one transaction, coalescing a task's start and end into one
statement per row and grouping statements of one shape (store/batch.py). Each case below is
written one event per transaction, then as one batch, then cut into batches at every place
(and every pair of places); all must leave the same rows, in the same rowid order, in runs,
tasks, attempts and gates.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psr_engine.events.model import Event, EventType
from psr_engine.events.sinks.history import HistorySink
from psr_engine.store import TaskDigest

RUN = "r1"
TS = 1_800_000_000.0
PLANNED = (
    TaskDigest("a", "a", "d-a"),
    TaskDigest("b", "b", "d-b", needs=("a",), level=1),
    TaskDigest("flaky", "flaky", "d-flaky"),
    TaskDigest("fan[n=1]", "fan", "d-f1"),
    TaskDigest("fan[n=2]", "fan", "d-f2"),
    TaskDigest("code", "code", "d-code"),
    TaskDigest("cleanup", "cleanup", "d-cleanup", on_exit=True, level=2),
)


def _log(task: str, attempt: int) -> str:
    return f"/state/runs/{RUN}/{task}.{attempt}.log"


def started(task: str, attempt: int = 1, at: float = 0.0, **fields: Any) -> Event:
    fields.setdefault("log_path", _log(task, attempt))
    return Event(
        "task.started",
        RUN,
        "flow",
        ts=TS + at,
        task=task,
        attempt=attempt,
        status="running",
        **fields,
    )


def retrying(task: str, attempt: int, at: float, **fields: Any) -> Event:
    fields.setdefault("log_path", _log(task, attempt))
    fields.setdefault("reason", "exit code 1")
    fields.setdefault("exit_code", 1)
    return Event(
        "task.retrying",
        RUN,
        "flow",
        ts=TS + at,
        task=task,
        attempt=attempt,
        status="retrying",
        attempt_duration_s=0.5,
        duration_s=0.5,
        data={"delayS": 0.0},
        **fields,
    )


def finished(task: str, attempt: int | None = 1, at: float = 1.0, **fields: Any) -> Event:
    fields.setdefault("status", "succeeded")
    fields.setdefault("exit_code", 0 if fields["status"] == "succeeded" else 1)
    if attempt:
        fields.setdefault("log_path", _log(task, attempt))
        fields.setdefault("attempt_duration_s", 0.25)
    return Event(
        "task.finished",
        RUN,
        "flow",
        ts=TS + at,
        task=task,
        attempt=attempt,
        duration_s=0.75,
        cpu_user_s=0.01,
        cpu_sys_s=0.002,
        max_rss_bytes=4096,
        **fields,
    )


def skipped(task: str, at: float) -> Event:
    return Event(
        "task.skipped",
        RUN,
        "flow",
        ts=TS + at,
        task=task,
        status="skipped",
        reason="upstream_failed",
        message="a failed",
    )


def gate(kind: EventType, name: str, at: float, **fields: Any) -> Event:
    return Event(kind, RUN, "flow", ts=TS + at, task=name, **fields)


RUN_STARTED = Event(
    "run.started",
    RUN,
    "flow",
    ts=TS,
    data={"runDir": f"/state/runs/{RUN}", "params": {"p": 1}, "labels": {"team": "x"}},
)


def run_finished(at: float, status: str = "succeeded") -> Event:
    return Event(
        "run.finished", RUN, "flow", ts=TS + at, status=status, data={"counts": {status: 1}}
    )


FAN = {"matrix": {"n": 1}}
CASES: dict[str, list[Event]] = {
    "quick tasks, interleaved": [
        RUN_STARTED,
        started("a", at=0.1),
        started("flaky", at=0.2),
        finished("flaky", at=0.3, outputs={"rows": "5"}),
        started("b", at=0.4),
        finished("a", at=0.5),
        finished("b", at=0.6),
        run_finished(0.7),
    ],
    "retries, several attempts, the last a success": [
        RUN_STARTED,
        started("flaky", 1, 0.1),
        retrying("flaky", 1, 0.2),
        started("flaky", 2, 0.3),
        retrying("flaky", 2, 0.4, reason="timeout", exit_code=None),
        started("flaky", 3, 0.5),
        finished("flaky", 3, 0.6, log_path=None),  # the row keeps the last start's log
        run_finished(0.7),
    ],
    "a retry cut short by the run's stop: its attempt ends twice": [
        RUN_STARTED,
        started("flaky", 1, 0.1),
        retrying("flaky", 1, 0.2),
        finished("flaky", 1, 0.3, status="cancelled", reason="interrupted", exit_code=None),
        run_finished(0.4, "cancelled"),
    ],
    "retries that end in a timeout, beside another task": [
        RUN_STARTED,
        started("flaky", 1, 0.1),
        started("a", 1, 0.15),
        retrying("flaky", 1, 0.2, reason="timeout", exit_code=None),
        finished("a", 1, 0.25),
        started("flaky", 2, 0.3, log_path=None),
        finished("flaky", 2, 0.4, status="timed_out", reason="timeout", exit_code=None),
        run_finished(0.5, "failed"),
    ],
    "a failure that continues on error, then a skipped task": [
        RUN_STARTED,
        started("a", at=0.1),
        finished("a", at=0.2, status="failed", reason="exit code 3", message="boom"),
        skipped("b", 0.3),
        started("cleanup", at=0.4),
        finished("cleanup", at=0.5, log_path=None),
        run_finished(0.6, "failed"),
    ],
    "matrix instances with outputs and cost": [
        RUN_STARTED,
        started("fan[n=1]", at=0.1, data=FAN),
        started("fan[n=2]", at=0.2, data={"matrix": {"n": 2}}),
        finished(
            "fan[n=2]",
            at=0.3,
            outputs={"k": "v"},
            data={"matrix": {"n": 2}, "cost": {"reserved": 0.5, "used": 0.1, "currency": "USD"}},
        ),
        finished("fan[n=1]", at=0.4, data=FAN),
        run_finished(0.5),
    ],
    "gates, and a gate task that runs in the engine": [
        RUN_STARTED,
        gate("gate.started", "scan", 0.1, status="running"),
        started("code", at=0.15, log_path=None),
        gate("gate.started", "code", 0.2, status="running"),
        gate(
            "gate.finished",
            "code",
            0.3,
            status="blocked",
            data={"counts": {"high": 1}, "findings": [{"rule": "B602"}]},
            message="1 high",
        ),
        finished("code", at=0.35, status="failed", reason="gate blocked", log_path=None),
        gate("gate.finished", "scan", 0.4, status="passed", data={"counts": {}}),
        run_finished(0.5, "blocked"),
    ],
    "tasks outside the plan are created in the order they started": [
        RUN_STARTED,
        started("sub/x", at=0.1),
        started("a", at=0.15),
        started("sub/y", at=0.2),
        finished("sub/y", at=0.3),
        finished("a", 1, at=0.35),
        started("sub/z", at=0.4),
        finished("sub/x", at=0.5),
        finished("never-started", None, at=0.6, status="failed", reason="expression"),
        finished("sub/z", at=0.7, log_path=None),
    ],
    "a run cut short: starts without their ends": [
        RUN_STARTED,
        started("a", at=0.1),
        started("flaky", 1, 0.2),
        retrying("flaky", 1, 0.3),
        finished("a", at=0.4),
        started("flaky", 2, 0.5),
        started("b", at=0.6),
    ],
}


def _batchings(events: Sequence[Event]) -> Iterator[tuple[str, list[list[Event]]]]:
    """One batch, then cut once at each place, then twice at each pair of places."""
    yield "one batch", [list(events)]
    places = range(1, len(events))
    for cut in places:
        yield f"cut at {cut}", [list(events[:cut]), list(events[cut:])]
    for first, second in itertools.combinations(places, 2):
        yield (
            f"cut at {first} and {second}",
            [list(events[:first]), list(events[first:second]), list(events[second:])],
        )


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
            for table in ("runs", "tasks", "attempts", "gates")
        }
    finally:
        conn.close()


def _write(path: Path, batches: Sequence[Sequence[Event]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each batch in one transaction, as the sink's writer thread writes what it took."""
    sink = HistorySink(str(path), tasks=PLANNED, manifest_digest="m")
    try:
        for batch in batches:
            sink._write(list(batch))
    finally:
        if sink._store is not None:
            sink._store.close()
    return _rows(path)


@pytest.mark.parametrize("case", list(CASES))
def test_a_batch_leaves_the_rows_that_one_event_per_transaction_leaves(
    case: str, tmp_path: Path
) -> None:
    events = CASES[case]
    expected = _write(tmp_path / "one-by-one.db", [[event] for event in events])
    assert expected["tasks"] and expected["attempts"]
    for number, (how, batches) in enumerate(_batchings(events)):
        found = _write(tmp_path / f"{number}.db", batches)
        for table, rows in expected.items():
            assert found[table] == rows, f"{case}, {how}: {table} differ"


def test_a_task_that_starts_and_ends_in_one_batch_costs_one_statement_per_row(
    tmp_path: Path,
) -> None:
    """Its task row and its attempt row, each written once as they end up (it was four
    statements a task: both rows as started, then each again as ended)."""
    sink = HistorySink(str(tmp_path / "runs.db"), tasks=PLANNED)
    sink._write([RUN_STARTED])
    assert sink._store is not None
    statements: list[str] = []
    sink._store.conn.set_trace_callback(statements.append)
    quick = ["a", "b", "flaky", "fan[n=1]", "fan[n=2]"]
    sink._write(
        [started(t, at=i) for i, t in enumerate(quick)]
        + [finished(t, at=10 + i) for i, t in enumerate(quick)]
    )
    sink._store.close()
    writes = [s for s in statements if s.lstrip().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2 * len(quick)


def _task_events(draw: Any, task: str) -> list[Any]:
    """One task's events, as makers of an Event given its time: a skip, or attempts (each
    but the last retried) ending in a finish, a stop after the last retry, or nothing (the
    run was cut short)."""
    if draw(st.booleans()) and draw(st.booleans()):
        return [lambda at: skipped(task, at)]
    attempts = draw(st.integers(1, 3))
    ending = draw(st.sampled_from(["finished", "stopped", "cut short"]))
    made: list[Any] = []
    for attempt in range(1, attempts + 1):
        log = draw(st.sampled_from([_log(task, attempt), None]))
        made.append(lambda at, n=attempt, log=log: started(task, n, at, log_path=log))
        if attempt < attempts or ending == "stopped":
            made.append(lambda at, n=attempt: retrying(task, n, at))
    if ending in ("finished", "stopped"):
        status = (
            "cancelled" if ending == "stopped" else draw(st.sampled_from(["succeeded", "failed"]))
        )
        log = draw(st.sampled_from([_log(task, attempts), None]))
        made.append(lambda at: finished(task, attempts, at, status=status, log_path=log))
    return made


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_interleaving_in_any_batches_leaves_the_rows_of_one_event_per_transaction(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Random runs: tasks in and out of the plan, retried or not, ended, stopped or cut
    short, their events interleaved and cut into batches anywhere."""
    draw = data.draw
    names = draw(
        st.lists(
            st.sampled_from(["a", "b", "flaky", "sub/x", "sub/y"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    pending = {name: _task_events(draw, name) for name in names}
    events = [RUN_STARTED]
    while any(pending.values()):
        name = draw(st.sampled_from([n for n, left in pending.items() if left]))
        events.append(pending[name].pop(0)(len(events) / 10))
    if draw(st.booleans()):
        events.append(run_finished(len(events) / 10))
    cuts = sorted(draw(st.sets(st.integers(1, len(events) - 1), max_size=4)))
    bounds = [0, *cuts, len(events)]
    folder = tmp_path_factory.mktemp("interleaved")
    expected = _write(folder / "one-by-one.db", [[event] for event in events])
    found = _write(folder / "batched.db", [events[s:e] for s, e in itertools.pairwise(bounds)])
    assert found == expected
