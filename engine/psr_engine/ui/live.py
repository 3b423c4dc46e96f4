"""Server-Sent Events from runs.db: what changed since the page last heard.

Each stream holds one read-only connection and asks SQLite, a few times a second, whether
anything committed since (`PRAGMA data_version`, a counter read from shared memory: no query,
no lock); only then does it read the rows again and send what differs. The engine is never
asked or slowed for it.

Event ids are times (the newest change sent); a reconnecting browser sends the last one as
`Last-Event-ID` and gets the tasks that changed at or after it, with the run itself.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from psr_engine.store import queries as q
from psr_engine.store.model import AttemptRecord, RunRecord, TaskRecord
from psr_engine.ui.catalog import Catalog, Source, connect_ro
from psr_engine.ui.views import critical_path

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


def _snapshot(
    conn: sqlite3.Connection, run_id: str
) -> tuple[RunRecord | None, list[TaskRecord], dict[str, list[AttemptRecord]]]:
    conn.execute("BEGIN")
    try:
        run = q.get_run(conn, run_id)
        tasks = q.tasks_of(conn, run_id)
        attempts: dict[str, list[AttemptRecord]] = {}
        for attempt in q.attempts_of(conn, run_id):
            attempts.setdefault(attempt.task_id, []).append(attempt)
    finally:
        conn.execute("COMMIT")
    return run, tasks, attempts


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


async def run_events(source: Source, run_id: str, last_id: float | None) -> AsyncIterator[str]:
    """`run` and `task` events of one run, from now (or from `last_id`) on."""
    conn = await anyio.to_thread.run_sync(connect_ro, source.db_path)
    try:
        sent_tasks: dict[str, Any] = {}
        sent_run: Any = None
        sent_path: list[str] = []
        version = -1
        quiet_since = time.monotonic()
        first = True
        yield "retry: 1000\n\n"
        while True:
            now_version = await anyio.to_thread.run_sync(_data_version, conn)
            if now_version != version:
                version = now_version
                run, tasks, attempts = await anyio.to_thread.run_sync(_snapshot, conn, run_id)
                out: list[str] = []
                newest = last_id or 0.0
                for task in tasks:
                    doc = task.to_dict()
                    doc["attempts"] = [a.to_dict() for a in attempts.get(task.id, [])]
                    at = _changed_at(task, attempts.get(task.id, []))
                    if sent_tasks.get(task.id) == doc:
                        continue
                    sent_tasks[task.id] = doc
                    if first and last_id is not None and at < last_id:
                        continue  # the browser had it before it reconnected
                    newest = max(newest, at)
                    out.append(message("task", doc, newest))
                # Before the run's own event: a browser closes the stream on a run that ended.
                path = list(critical_path(tasks))
                if path != sent_path:
                    sent_path = path
                    out.append(message("critical", path))
                if run is not None:
                    run_doc = run.to_dict()
                    if run_doc != sent_run:
                        sent_run = run_doc
                        newest = max(newest, run.ended_at or run.started_at)
                        out.append(message("run", run_doc, newest))
                first = False
                last_id = max(last_id or 0.0, newest)
                if out:
                    quiet_since = time.monotonic()
                    yield "".join(out)
                if run is None or run.status != "running":
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
                mine = watched[source.db_path]
                runs = await anyio.to_thread.run_sync(_runs_since, conn, since, set(mine))
                catalog.remember(source, runs)
                for run in sorted(runs, key=lambda r: r.started_at):
                    doc = run.to_dict()
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
