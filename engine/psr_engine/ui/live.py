"""Server-Sent Events from runs.db: what changed since the page last heard.

Each stream holds one read-only connection and asks SQLite, a few times a second, whether
anything committed since (`PRAGMA data_version`, a counter read from shared memory: no query,
no lock); only then does it read the rows again and send what differs. The engine is never
asked or slowed for it.

A run's stream sends `tasks` (an array: per task its name and the fields that changed since
the stream last sent it, every field the first time, attempts included; a task still pending
when the stream starts is first sent when it moves), `critical` (the critical path's task
names) and `run` (the run's document). Event ids are times (the newest
change sent); a reconnecting browser sends the last one as `Last-Event-ID` and gets the tasks
that changed at or after it, whole, with the run itself.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from psr_engine.status import LIVE
from psr_engine.store import queries as q
from psr_engine.store.model import AttemptRecord, RunRecord, TaskRecord
from psr_engine.ui.catalog import Catalog, Source, as_seen, connect_ro, crashed_task
from psr_engine.ui.views import critical_path, timed

POLL_S = 0.2
HEARTBEAT_S = 15.0


def message(kind: str, data: Any, event_id: float | None = None) -> str:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id!r}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    return "\n".join(lines) + "\n\n"


def parse_last_id(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _changed_at(task: TaskRecord, attempts: list[AttemptRecord]) -> float:
    times = [task.started_at, task.ended_at]
    for attempt in attempts:
        times += [attempt.started_at, attempt.ended_at]
    return max((t for t in times if t is not None), default=0.0)


_LIGHT_COLUMNS = "task_id, status, attempts, started_at, ended_at, exit_code"
_LIGHT = f"SELECT {_LIGHT_COLUMNS} FROM tasks WHERE run_id = ? ORDER BY task_id"
# A look between full ones: the run's counts (in SQLite, no row read into Python), the
# attempts begun since (their rowids only grow), and the light columns of only those tasks
# and of the ones last seen running.
_COUNTS = (
    "SELECT count(*), count(CASE WHEN status = 'pending' THEN 1 END) FROM tasks WHERE run_id = ?"
)
_NEWEST_ATTEMPT = "SELECT ifnull(max(rowid), 0) FROM attempts"
_ATTEMPTS_SINCE = "SELECT rowid, task_id FROM attempts WHERE rowid > ? AND run_id = ?"
# A full look (every task's light columns) at least this often, and when the run ends.
FULL_EVERY_S = 10.0
# The critical path needs every task: worked out again at most once a second (a run of more
# than 500 tasks, whose every task it walks, less often: every 2 s at 1,000), and only when
# a task started or ended since; while tasks run and none did, every few seconds (a running
# task's growing time can make it critical).
CRITICAL_EVERY_S = 1.0
CRITICAL_IDLE_S = 5.0


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class _Light:
    """The light columns of every task of a run, as last read, kept up to date by reading
    only what can have moved.

    Between full reads a look reads two counts (tasks, pending ones), the attempts begun
    since the last look, and the light columns of their tasks and of the tasks last seen
    running or retrying: a task moves by starting an attempt, or while it runs. What moves
    otherwise (a pending task skipped or cancelled, a row added without an attempt) changes
    the counts from what the rows read make them: that look reads every task. So does one
    every FULL_EVERY_S, and the look that sees the run end."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Any, ...]] = {}  # task -> (task, status, ...) in key order
        self.live: set[str] = set()  # tasks last seen running or retrying
        self.pending = 0
        self.attempt_mark = 0  # the newest attempt's rowid seen
        self.full_at = 0.0

    def moved(self, conn: sqlite3.Connection, run_id: str, full: bool) -> list[str]:
        """The tasks whose light columns changed since the last call (every task the first
        time). Inside the caller's read transaction."""
        if not full and self.rows and time.monotonic() - self.full_at < FULL_EVERY_S:
            moved = self._since(conn, run_id)
            if moved is not None:
                return moved
        return self._full(conn, run_id)

    def _full(self, conn: sqlite3.Connection, run_id: str) -> list[str]:
        self.full_at = time.monotonic()
        self.attempt_mark = conn.execute(_NEWEST_ATTEMPT).fetchone()[0]
        rows = conn.execute(_LIGHT, (run_id,)).fetchall()
        moved = [row[0] for row in rows if self.rows.get(row[0]) != row]
        self.rows = {row[0]: row for row in rows}
        self.live = {row[0] for row in rows if row[1] in LIVE}
        self.pending = sum(1 for row in rows if row[1] == "pending")
        return moved

    def _since(self, conn: sqlite3.Connection, run_id: str) -> list[str] | None:
        total, pending = conn.execute(_COUNTS, (run_id,)).fetchone()
        begun = conn.execute(_ATTEMPTS_SINCE, (self.attempt_mark, run_id)).fetchall()
        mark = max((row[0] for row in begun), default=self.attempt_mark)
        wanted = sorted(self.live | {row[1] for row in begun})
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(wanted), 500):  # SQLite's bound on parameters
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows += conn.execute(
                f"SELECT {_LIGHT_COLUMNS} FROM tasks WHERE run_id = ? AND task_id IN ({marks})",
                [run_id, *part],
            ).fetchall()
        added = [row for row in rows if row[0] not in self.rows]
        left_pending = sum(
            1 for row in rows if row[1] != "pending" and self.rows.get(row[0], row)[1] == "pending"
        )
        if total != len(self.rows) + len(added) or pending != self.pending - left_pending:
            return None  # something moved that these rows do not show: read them all
        moved = [row[0] for row in rows if self.rows.get(row[0]) != row]
        for row in rows:
            self.rows[row[0]] = row
            if row[1] in LIVE:
                self.live.add(row[0])
            else:
                self.live.discard(row[0])
        self.pending = pending
        self.attempt_mark = mark
        return moved


def _delta(doc: dict[str, Any], sent: dict[str, Any] | None) -> dict[str, Any]:
    """What a client that has `sent` needs to know `doc`: the task's name and the fields
    that differ (every field when it has nothing yet)."""
    if sent is None:
        return doc
    out = {k: v for k, v in doc.items() if sent.get(k) != v}
    if out:
        out["task"] = doc["task"]
    return out


class _RunWatch:
    """What one stream has sent of one run, and what to send next.

    Each look first reads a few columns of every task (cheap even for a run of thousands);
    only the tasks whose columns moved are read whole. They go out as one `tasks` event per
    look (a run of a thousand tasks changes hundreds a second: one message, not hundreds),
    each task with only the fields that changed since the stream last sent it.
    """

    def __init__(self, run_id: str, last_id: float | None) -> None:
        self.run_id = run_id
        self.last_id = last_id
        self.first = True
        self.light = _Light()
        self.sent_run: Any = None
        self.sent_tasks: dict[str, dict[str, Any]] = {}  # task -> its document as last sent
        self.times: dict[float, str] = {}  # times written, for the next documents
        self.sent_path: list[str] = []
        self.path_at = 0.0
        self.path_moves = 0  # tasks that started or ended since the path was worked out
        self.ended = False
        self.tasks: dict[str, TaskRecord] = {}  # every task as last read, in plan order

    def look(self, conn: sqlite3.Connection) -> str:
        conn.execute("BEGIN")
        try:
            recorded = q.get_run(conn, self.run_id)
            run = None if recorded is None else as_seen(recorded)
            moved = self.light.moved(conn, self.run_id, full=run is None or run.status != "running")
            if self.first:  # every task: the critical path needs them all
                tasks, attempts = q.tasks_of(conn, self.run_id), q.attempts_of(conn, self.run_id)
            else:
                tasks, attempts = q.some_tasks_of(conn, self.run_id, moved)
        finally:
            conn.execute("COMMIT")
        self.path_moves += len(moved)
        by_task: dict[str, list[AttemptRecord]] = {}
        for attempt in attempts:
            by_task.setdefault(attempt.task_id, []).append(attempt)
        out: list[str] = []
        newest = self.last_id or 0.0
        if run is not None and run.status == "crashed":
            tasks = [crashed_task(t) for t in (tasks or self.tasks.values())]
        changed: list[dict[str, Any]] = []
        for task in tasks:
            self.tasks[task.id] = task
            if self.first and task.status == "pending":
                continue  # as any page of the run shows it; sent whole once it moves
            mine = by_task.get(task.id, [])
            at = _changed_at(task, mine)
            if self.first and self.last_id is not None and at < self.last_id:
                continue  # the browser had it before it reconnected
            doc = task.to_dict()
            doc["attempts"] = [a.to_dict() for a in mine]
            if len(self.times) > 20_000:
                self.times.clear()
            timed(doc, self.times)
            delta = _delta(doc, self.sent_tasks.get(task.id))
            self.sent_tasks[task.id] = doc
            if delta:
                changed.append(delta)
                newest = max(newest, at)
        if changed:
            out.append(message("tasks", changed, newest))
        ended = run is None or run.status != "running"
        now = time.monotonic()
        since = now - self.path_at
        if self.tasks and (
            ended
            or (self.path_moves and since >= CRITICAL_EVERY_S * max(1.0, len(self.tasks) / 500))
            or (since >= CRITICAL_IDLE_S and self.light.live)
        ):
            self.path_at = now
            self.path_moves = 0
            # Before the run's own event: a browser closes the stream on a run that ended.
            path = list(critical_path(list(self.tasks.values())))
            if path != self.sent_path:
                self.sent_path = path
                out.append(message("critical", path))
        if run is not None:
            run_doc = timed(run.to_dict())
            if run_doc != self.sent_run:
                self.sent_run = run_doc
                newest = max(newest, run.ended_at or run.started_at)
                out.append(message("run", run_doc, newest))
        self.first = False
        self.last_id = max(self.last_id or 0.0, newest)
        self.ended = ended
        return "".join(out)


async def run_events(source: Source, run_id: str, last_id: float | None) -> AsyncIterator[str]:
    """`run`, `tasks` and `critical` events of one run, from now (or from `last_id`) on."""
    conn = await anyio.to_thread.run_sync(connect_ro, source.db_path)
    try:
        watch = _RunWatch(run_id, last_id)
        version = -1
        quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            now_version = await anyio.to_thread.run_sync(_data_version, conn)
            if now_version != version:
                version = now_version
                chunk = await anyio.to_thread.run_sync(watch.look, conn)
                if chunk:
                    quiet_since = time.monotonic()
                    yield chunk
                if watch.ended:
                    return  # its final state is sent; a browser closes on the run event
            if time.monotonic() - quiet_since > HEARTBEAT_S:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await anyio.sleep(POLL_S)
    finally:
        conn.close()


def _runs_since(
    conn: sqlite3.Connection, since: float, watched: set[str], limit: int = 200
) -> list[RunRecord]:
    conn.execute("BEGIN")
    try:
        runs = q.search_runs(conn, limit=limit, before=None)
        fresh = [
            r for r in runs if r.started_at >= since or r.id in watched or r.status == "running"
        ]
        missing = watched - {r.id for r in fresh}
        for run_id in missing:
            run = q.get_run(conn, run_id)
            if run is not None:
                fresh.append(run)
    finally:
        conn.execute("COMMIT")
    return fresh


def _runs_moved(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """What changes when a run starts or its status moves (a run ends only from `running`,
    and a run starts as a new row): read from indexes, no run read into Python. While an
    engine writes its tasks, hundreds of commits a second, the runs are not read again."""
    return tuple(
        conn.execute(
            "SELECT count(*), max(started_at), "
            "(SELECT count(*) FROM runs WHERE status = 'running') FROM runs"
        ).fetchone()
    )


async def runs_events(catalog: Catalog, last_id: float | None) -> AsyncIterator[str]:
    """`run` events: runs started after the stream opened (or after `last_id`), and every
    change of their status, across every history served."""
    conns = [
        (source, await anyio.to_thread.run_sync(connect_ro, source.db_path))
        for source in catalog.sources
    ]
    try:
        since = last_id if last_id is not None else time.time()
        versions: dict[str, int] = {}
        signatures: dict[str, tuple[Any, ...]] = {}
        sent: dict[str, Any] = {}
        watched: dict[str, set[str]] = {s.db_path: set() for s, _ in conns}
        quiet_since = time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            out: list[str] = []
            for source, conn in conns:
                version = await anyio.to_thread.run_sync(_data_version, conn)
                if versions.get(source.db_path) == version:
                    continue
                versions[source.db_path] = version
                moved = await anyio.to_thread.run_sync(_runs_moved, conn)
                if signatures.get(source.db_path) == moved:
                    continue  # tasks were written, no run started or ended
                signatures[source.db_path] = moved
                mine = watched[source.db_path]
                runs = await anyio.to_thread.run_sync(_runs_since, conn, since, set(mine))
                catalog.remember(source, runs)
                for run in sorted(map(as_seen, runs), key=lambda r: r.started_at):
                    doc = timed(run.to_dict())
                    if sent.get(run.id) == doc:
                        continue
                    sent[run.id] = doc
                    if run.status == "running":
                        mine.add(run.id)
                    else:
                        mine.discard(run.id)
                    out.append(message("run", doc, run.started_at))
            if out:
                quiet_since = time.monotonic()
                yield "".join(out)
            elif time.monotonic() - quiet_since > HEARTBEAT_S:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await anyio.sleep(POLL_S)
    finally:
        for _, conn in conns:
            conn.close()
