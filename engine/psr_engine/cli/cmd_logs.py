"""psr-engine logs RUN_ID|last [TASK] [--attempt N] [--follow]: the output of a run's tasks.

Without TASK: every task's last attempt, each under a `==> task (attempt N) <==` header.
TASK is an instance (`transform[region=eu]`) or a task name (all its instances).
`--follow` prints lines as they are written, through retries, and ends when the task (or,
without TASK, the run) has ended.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from psr_engine.cli.cmd_runs import add_state_dir, open_history
from psr_engine.printable import printable

if TYPE_CHECKING:
    from psr_engine.store import AttemptRecord, RunStore, TaskRecord
    from psr_engine.store.logs import LogCursor

_POLL_S = 0.2
_REAP_EVERY_S = 1.0
_ENDED = frozenset({"succeeded", "failed", "timed_out", "skipped", "cancelled", "crashed"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="RUN_ID|last", help="a run id (or its start), or last")
    parser.add_argument("task", nargs="?", metavar="TASK", help="one task (default: all)")
    parser.add_argument("--attempt", type=int, metavar="N", help="that attempt (default: last)")
    parser.add_argument(
        "-f", "--follow", action="store_true", help="keep printing until the task/run ends"
    )
    add_state_dir(parser)


def run(args: argparse.Namespace) -> int:
    from psr_engine.store import HistoryError

    if args.attempt is not None and args.attempt < 1:
        raise HistoryError("--attempt must be 1 or more")
    with open_history(args) as store:
        record = store.run(args.ref)
        if args.follow:
            return _follow(store, record.id, args.task, args.attempt)
        tasks = _select(store.tasks(record.id), args.task, record.id)
        attempts = store.attempts(record.id)
        if args.attempt is not None:
            what = f"task {args.task}" if args.task else f"run {record.id}"
            _check_attempt_exists(attempts, tasks, args.attempt, what)
        chosen = _chosen_attempts(attempts, tasks, args.attempt)
    if not chosen:
        what = f"task {args.task}" if args.task else f"run {record.id}"
        sys.stderr.write(f"no logs recorded for {what}\n")
        return 0
    headers = len(chosen) > 1
    for attempt in chosen:
        if headers:
            sys.stdout.write(f"==> {printable(attempt.task_id)} (attempt {attempt.attempt}) <==\n")
        _copy(attempt.log_path)
    return 0


def _select(tasks: list[TaskRecord], name: str | None, run_id: str) -> list[TaskRecord]:
    if name is None:
        return tasks
    exact = [t for t in tasks if t.id == name]
    if exact:
        return exact
    group = [t for t in tasks if t.task == name]
    if group:
        return group
    from difflib import get_close_matches

    from psr_engine.store import HistoryError

    close = get_close_matches(name, sorted({*(t.id for t in tasks), *(t.task for t in tasks)}))
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise HistoryError(f"run {run_id} has no task {name!r}{hint}")


def _check_attempt_exists(
    attempts: list[AttemptRecord], tasks: list[TaskRecord], number: int, what: str
) -> None:
    """`--attempt N` that none of the chosen tasks made is a mistake (exit 2), not silence."""
    from psr_engine.store import HistoryError

    wanted = {t.id for t in tasks}
    made = sorted({a.attempt for a in attempts if a.task_id in wanted})
    if number not in made:
        have = f"attempts {', '.join(map(str, made))}" if made else "no attempts"
        raise HistoryError(f"{what} has no attempt {number} (it has {have})")


def _chosen_attempts(
    attempts: list[AttemptRecord], tasks: list[TaskRecord], number: int | None
) -> list[AttemptRecord]:
    """Per task (in plan order): attempt `number`, or its last attempt."""
    by_task: dict[str, list[AttemptRecord]] = {}
    for attempt in attempts:
        by_task.setdefault(attempt.task_id, []).append(attempt)
    chosen = []
    for task in tasks:
        mine = by_task.get(task.id, [])
        if number is not None:
            mine = [a for a in mine if a.attempt == number]
        if mine and mine[-1].log_path:
            chosen.append(mine[-1])
    return chosen


def _copy(path: str | None) -> None:
    if not path:
        return
    try:
        with open(path, "rb") as handle:
            while block := handle.read(65536):
                sys.stdout.buffer.write(block)
    except OSError as error:
        sys.stderr.write(f"warning: cannot read {path}: {error.strerror}\n")
    sys.stdout.flush()


def _follow(store: RunStore, run_id: str, name: str | None, number: int | None) -> int:
    """Poll the history and the log files; print complete lines as they appear."""
    from psr_engine.store import HistoryError
    from psr_engine.store.logs import LogCursor

    cursors: dict[tuple[str, int], LogCursor] = {}
    last_reap = time.monotonic()
    while True:
        record = store.get(run_id)
        if record is None:
            raise HistoryError(f"run {run_id} was removed while following it")
        try:
            tasks = _select(store.tasks(run_id), name, run_id)
        except HistoryError:
            if record.status != "running":
                raise
            tasks = []  # not recorded yet
        wanted = {t.id for t in tasks}
        prefix = name is None or len(wanted) > 1
        for attempt in store.attempts(run_id):
            if attempt.task_id not in wanted or not attempt.log_path:
                continue
            if number is not None and attempt.attempt != number:
                continue
            key = (attempt.task_id, attempt.attempt)
            if key not in cursors:
                cursors[key] = LogCursor(attempt.log_path)
                if attempt.attempt > 1 and not prefix:
                    sys.stdout.write(f"--- attempt {attempt.attempt} ---\n")
            ended = attempt.status != "running"
            label = f"{attempt.task_id} | " if prefix else ""
            for line in cursors[key].read_new(final=ended):
                sys.stdout.write(label + line + "\n")
        sys.stdout.flush()
        finished = record.status != "running" or (
            bool(tasks) and name is not None and all(t.status in _ENDED for t in tasks)
        )
        # Statuses were read before the logs: the pass above read every ended attempt to its
        # end, so once all is final and drained there is nothing more to come.
        if finished and all(_drained(c) for c in cursors.values()):
            return 0
        time.sleep(_POLL_S)
        if time.monotonic() - last_reap > _REAP_EVERY_S:
            store.reap_crashed()
            last_reap = time.monotonic()


def _drained(cursor: LogCursor) -> bool:
    import os

    try:
        return os.path.getsize(cursor.path) <= cursor.offset
    except OSError:
        return True
