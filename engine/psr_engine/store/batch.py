"""One transaction's history writes, made with fewer statements than one per change.

The history sink commits a batch of events in one transaction. Inside it, changes to
different rows are independent: only the order of one row's own changes matters, and, for
the rows a batch creates, the order they are created in (their rowids: the look-back
commands list tasks, attempts and gates in rowid order). So a WriteBatch keeps each table's
statements in the order they were asked for, and

- writes a task that started and ended within the batch as the row its statements would have
  left: TASK_RAN in place of TASK_STARTED (.. retries ..) TASK_FINISHED, and ATTEMPT_RAN in
  place of ATTEMPT_STARTED, ATTEMPT_ENDED. The combined statement takes the place of the
  first one, where the row was created if it was new;
- runs neighbouring statements of the same shape as one `executemany`.

Tables are written one after another (nothing ties a row of one to a row of another within
a batch). A change of the run's own row is a barrier: what is queued is written first
(`begin_run` adds the planned tasks' rows).

Everything ends up as the writes.py functions, one call per change, would leave it:
tests/unit/store/test_history_batches.py compares the two on many sequences of events.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec

from psr_engine.store import writes as w
from psr_engine.store.model import GateRecord

P = ParamSpec("P")

_Statement = list[Any]  # [sql, parameters]; None in place of one folded into another


@dataclass(slots=True)
class _Started:
    """A task whose TASK_STARTED this batch holds, and no TASK_FINISHED after it yet."""

    at: int  # its first TASK_STARTED's place in the tasks' statements
    row: w.TaskStartedRow  # that statement's parameters
    log_path: str | None  # the latest start's
    between: list[int] = field(default_factory=list)  # later places, folded away at its end


class WriteBatch:
    """Collects the changes of a transaction open on `conn`; `flush` writes them (call it
    before the commit)."""

    __slots__ = ("_attempt_started", "_attempts", "_conn", "_gates", "_started", "_tasks")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._tasks: list[_Statement | None] = []
        self._attempts: list[_Statement | None] = []
        self._gates: list[_Statement | None] = []
        self._started: dict[tuple[str, str], _Started] = {}
        # An attempt whose ATTEMPT_STARTED is the last statement of its row: its place.
        self._attempt_started: dict[tuple[str, str, int], int] = {}

    # -- the run's row: barriers -----------------------------------------------------------

    def at_once(
        self,
        write: Callable[Concatenate[sqlite3.Connection, P], None],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """A change of the run's own row (writes.begin_run, which also adds the planned
        tasks' rows, or writes.finish_run): what is queued is written first."""
        self.flush()
        write(self._conn, *args, **kwargs)

    # -- tasks, attempts, gates: queued, as the rows writes.py's builders give -------------

    def task_started(self, task: w.TaskStartedRow, attempt: w.AttemptStartedRow) -> None:
        """writes.task_started_rows(...)."""
        key = (task[0], task[1])  # run_id, task_id
        tasks = self._tasks
        started = self._started.get(key)
        if started is None:
            self._started[key] = _Started(len(tasks), task, task[5])
        else:  # a retry's start: TASK_RAN keeps the first start's started_at
            started.between.append(len(tasks))
            started.log_path = task[5]
        tasks.append([w.TASK_STARTED, task])
        self._attempt_started[(*key, attempt[2])] = len(self._attempts)
        self._attempts.append([w.ATTEMPT_STARTED, attempt])

    def attempt_ended(self, ended: w.AttemptEndedRow, moved: w.TaskMovedRow | None) -> None:
        """writes.attempt_ended_rows(...)."""
        run_id, task_id, attempt = ended[0], ended[1], ended[2]
        at = self._attempt_started.pop((run_id, task_id, attempt), None)
        if at is None:
            self._attempts.append([w.ATTEMPT_ENDED, ended])
        else:
            statement = self._attempts[at]
            assert statement is not None
            self._attempts[at] = [w.ATTEMPT_RAN, w.attempt_ran_row(statement[1], ended)]
        if moved is not None:
            started = self._started.get((run_id, task_id))
            if started is not None:
                started.between.append(len(self._tasks))
            self._tasks.append([w.TASK_MOVED, moved])

    def task_finished(self, finished: w.TaskFinishedRow) -> None:
        """writes.task_finished_row(...)."""
        started = self._started.pop((finished[0], finished[1]), None)
        if started is None:
            self._tasks.append([w.TASK_FINISHED, finished])
            return
        tasks = self._tasks
        tasks[started.at] = [w.TASK_RAN, w.task_ran_row(started.row, started.log_path, finished)]
        for at in started.between:
            tasks[at] = None

    def record_gate(self, gate: GateRecord) -> None:
        self._gates.append([w.GATE, w.gate_row(gate)])

    # -- writing ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what is queued, each table's statements in order, neighbours of one shape
        in one `executemany`."""
        conn = self._conn
        for statements in (self._tasks, self._attempts, self._gates):
            sql: str | None = None
            rows: list[Any] = []
            for statement in statements:
                if statement is None:
                    continue
                if statement[0] is not sql:
                    _run(conn, sql, rows)
                    sql, rows = statement[0], []
                rows.append(statement[1])
            _run(conn, sql, rows)
            statements.clear()
        self._started.clear()
        self._attempt_started.clear()


def _run(conn: sqlite3.Connection, sql: str | None, rows: list[Any]) -> None:
    if sql is None:
        return
    if len(rows) == 1:
        conn.execute(sql, rows[0])
    else:
        conn.executemany(sql, rows)
