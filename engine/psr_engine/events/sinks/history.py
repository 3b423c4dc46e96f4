"""The history sink: records every run, task, attempt and gate result in runs.db.

Off the scheduler's hot path: `emit` only appends the event to a queue. A writer thread takes
what has queued up (waiting at most a short window for more) and writes it in one
transaction, so a burst of task endings costs one commit. It is woken once per batch, by the
batch's first event, not by each: a wake-up per event cost the event loop a thread switch and
a turn for the GIL twice per task. `run.started` and `run.finished` are committed at once, and
`aclose` returns only after everything is on disk.

A batch's rows are written through store/batch.py's WriteBatch: a task that started and
ended within the batch (retries included) is written once per row, as its statements one by
one would have left it, and statements of one shape go out in one `executemany`. That halved
the statements of a run of quick tasks (four a task to two), the writer thread's main cost
against the event loop. A batch's events are still committed together or not at all.

Commit, then announce: it is the bus's DurableSink, so the other sinks (the console first)
hear of an event it records only after the commit that holds it; the engine starts no task
before `run.started` is on disk. A kill -9 can lose a task's ending, never one that was
announced; the batch that held it is lost whole, so the history shows the task as the last
committed batch left it (running, which the next command closes as crashed, or pending), never
half-written: readers never see the states a batch passes through.

An engine that stops without `run.finished` closes its run as crashed (`_close_unfinished`).
The planned ids are masked like the events' (`use_mask`). A write that fails turns the sink
off: the bus hears `notify(written, failed=True)`, announces nothing more it would have
recorded, and the run stops (see EventBus.durable_failed).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import anyio

from psr_engine.events.model import Event
from psr_engine.store import GateRecord, RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w
from psr_engine.store.batch import WriteBatch
from psr_engine.store.owner import ci_job_url, current_owner
from psr_engine.store.paths import STATE_DIR_NAME, db_path, state_dir_of_run

_STOP = object()
_BATCH_WINDOW_S = 0.05  # how long a batch waits for more events before committing
_BATCH_MAX = 5000
_RECORDED = frozenset(
    {
        "run.started",
        "run.finished",
        "task.started",
        "task.retrying",
        "task.finished",
        "task.skipped",
        "gate.started",
        "gate.finished",
    }
)
_COMMIT_AT_ONCE = frozenset({"run.started", "run.finished"})


class HistorySink:
    """Writes the run history. `path`: the database file (default: `runs.db` in the state
    folder, which is found from the run's log folder when not given). `tasks`: the planned
    instances with their digests (run/resume.py makes them), recorded as `pending` when the
    run starts so that resume can compare definitions."""

    name = "history"

    def __init__(
        self,
        path: str | None = None,
        *,
        state_dir: str | None = None,
        tasks: Sequence[TaskDigest] = (),
        manifest_digest: str | None = None,
        resumed_from: str | None = None,
        batch_window_s: float = _BATCH_WINDOW_S,
        **_: Any,
    ) -> None:
        self.path = path or (db_path(state_dir) if state_dir else None)
        self._tasks = tuple(tasks)
        self._task_names = {t.id: t.task for t in self._tasks}
        self._manifest_digest = manifest_digest
        self._resumed_from = resumed_from
        self._window = batch_window_s
        # Appended to by the event loop, taken from by the writer (deque: both thread-safe).
        self._pending: deque[Any] = deque()
        self._begun = threading.Event()  # something is pending: a batch has begun
        self._hurry = threading.Event()  # commit what is pending now, without the window
        self._signalled = False  # _begun was set for what is pending (no second set needed)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._store: RunStore | None = None
        self._run_id: str | None = None
        self._run_finished = False
        self._written = 0  # recorded events committed so far
        self._notify: Callable[[int, bool], None] | None = None

    # -- the Sink protocol -----------------------------------------------------------------

    def use_mask(self, *, mask: Callable[[str], str]) -> None:
        """The planned ids come from the plan, not from (masked) events: a matrix value equal
        to a secret is part of one. Mask them as the events' ids are masked."""
        self._tasks = tuple(
            replace(t, id=mask(t.id), needs=tuple(mask(n) for n in t.needs)) for t in self._tasks
        )
        self._task_names = {t.id: t.task for t in self._tasks}

    def records(self, event_type: str) -> bool:
        return event_type in _RECORDED

    def on_durable(self, *, notify: Callable[[int, bool], None]) -> None:
        """The bus holds back what it announces until we say it is committed."""
        self._notify = notify

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._write_loop, name="psr-history", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        if self._error is not None:
            raise self._error  # the bus turns this sink off and says why
        if event.type in _RECORDED:
            self._post(event, urgent=event.type in _COMMIT_AT_ONCE)

    async def aclose(self) -> None:
        if self._thread is None:
            return
        self._post(_STOP, urgent=True)
        await anyio.to_thread.run_sync(self._thread.join)
        self._thread = None
        if self._error is not None:
            raise self._error

    # -- the writer thread -----------------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                stop = batch and batch[-1] is _STOP
                events = [e for e in batch if e is not _STOP]
                if events:
                    self._write(events)
                    self._written += len(events)
                    if self._notify is not None:
                        self._notify(self._written, False)
                if stop:
                    self._close_unfinished()
                    return
        except BaseException as error:
            self._error = error
            if self._notify is not None:
                self._notify(self._written, True)
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _post(self, item: Any, *, urgent: bool) -> None:
        """Queue an event (or _STOP); wake the writer only for a batch's first one, or to
        commit at once."""
        self._pending.append(item)
        if urgent:
            self._hurry.set()
            self._begun.set()
        elif not self._signalled:
            self._signalled = True
            self._begun.set()

    def _next_batch(self) -> list[Any]:
        """What has queued up once a batch began and its window passed (or something must be
        committed at once): at most _BATCH_MAX events, up to _STOP."""
        self._begun.wait()
        self._hurry.wait(self._window)
        # Cleared before taking: whatever is posted from here on wakes the next batch (it may
        # be taken now already; the next batch is then empty, which is harmless).
        self._begun.clear()
        self._hurry.clear()
        self._signalled = False
        batch: list[Any] = []
        pending = self._pending
        while pending and len(batch) < _BATCH_MAX:
            item = pending.popleft()
            batch.append(item)
            if item is _STOP:
                break
        if pending and batch[-1] is not _STOP:  # more than a batch queued: on with the rest
            self._signalled = True
            self._hurry.set()
            self._begun.set()
        return batch

    def _open(self, event: Event) -> RunStore:
        if self._store is None:
            path = self.path
            if path is None:
                run_dir = (event.data or {}).get("runDir")
                path = db_path(state_dir_of_run(run_dir) if run_dir else STATE_DIR_NAME)
                self.path = path
            self._store = RunStore.open_file(path)
        return self._store

    def _write(self, events: list[Event]) -> None:
        store = self._open(events[0])

        def body(conn: Any) -> None:
            batch = WriteBatch(conn)  # afresh on each try: db.write retries a busy transaction
            for event in events:
                self._apply(batch, event)
            batch.flush()

        store.write(body)
        if any(e.type == "run.finished" and e.run_id == self._run_id for e in events):
            self._run_finished = True

    def _close_unfinished(self) -> None:
        """The engine stopped (an error of its own) without `run.finished`: say so."""
        if self._run_id is None or self._run_finished or self._store is None:
            return
        from psr_engine.store.crash import mark_crashed

        run_id = self._run_id
        self._store.write(lambda conn: mark_crashed(conn, run_id, os.getpid()))

    # -- event -> rows ---------------------------------------------------------------------

    def _apply(self, batch: WriteBatch, event: Event) -> None:
        kind = event.type
        if kind == "run.started":
            self._run_started(batch, event)
        elif kind == "run.finished":
            counts = (event.data or {}).get("counts") or {}
            batch.at_once(
                w.finish_run,
                event.run_id,
                status=event.status or "failed",
                reason=event.reason,
                ended_at=event.ts,
                counts=counts,
            )
        elif kind == "task.started" and event.task:
            batch.task_started(
                *w.task_started_rows(
                    event.run_id,
                    event.task,
                    task_name=self._name_of(event.task),
                    attempt=event.attempt or 1,
                    ts=event.ts,
                    log_path=event.log_path,
                    matrix=(event.data or {}).get("matrix"),
                )
            )
        elif kind == "task.retrying" and event.task:
            batch.attempt_ended(
                *w.attempt_ended_rows(
                    event.run_id,
                    event.task,
                    attempt=event.attempt or 1,
                    status="timed_out" if event.reason == "timeout" else "failed",
                    reason=event.reason,
                    exit_code=event.exit_code,
                    ts=event.ts,
                    duration=event.attempt_duration_s,
                    log_path=event.log_path,
                    task_status="retrying",
                )
            )
        elif kind in ("task.finished", "task.skipped") and event.task:
            self._task_ended(batch, event)
        elif kind in ("gate.started", "gate.finished"):
            self._gate(batch, event)

    def _run_started(self, batch: WriteBatch, event: Event) -> None:
        data = event.data or {}
        owner = current_owner()
        self._run_id = event.run_id
        record = RunRecord(
            id=event.run_id,
            workflow=event.workflow,
            status="running",
            started_at=event.ts,
            manifest_path=_absolute(data.get("manifest")),
            manifest_digest=self._manifest_digest or data.get("manifestDigest"),
            params=data.get("params") or {},
            labels=data.get("labels") or {},
            host=owner.host,
            user=owner.user,
            pid=owner.pid,
            pid_started=owner.started,
            ci_url=ci_job_url(),
            run_dir=data.get("runDir"),
            resumed_from=self._resumed_from or data.get("resumedFrom"),
            trace_id=data.get("traceId"),
        )
        batch.at_once(w.begin_run, record, self._tasks)

    def _task_ended(self, batch: WriteBatch, event: Event) -> None:
        task_id = event.task or ""
        attempts = event.attempt or 0
        data = event.data or {}
        if event.type == "task.finished" and attempts:
            batch.attempt_ended(
                *w.attempt_ended_rows(
                    event.run_id,
                    task_id,
                    attempt=attempts,
                    status=event.status or "failed",
                    reason=event.reason,
                    exit_code=event.exit_code,
                    ts=event.ts,
                    duration=event.attempt_duration_s,
                    log_path=event.log_path,
                )
            )
        batch.task_finished(
            w.task_finished_row(
                event.run_id,
                task_id,
                task_name=self._name_of(task_id),
                status=event.status or "failed",
                reason=event.reason,
                attempts=attempts,
                exit_code=event.exit_code,
                ts=event.ts,
                duration=event.duration_s or 0.0,
                cpu_user=event.cpu_user_s or 0.0,
                cpu_sys=event.cpu_sys_s or 0.0,
                max_rss=event.max_rss_bytes or 0,
                outputs=event.outputs,
                matrix=data.get("matrix"),
                log_path=event.log_path,
                message=event.message,
                cost=data.get("cost"),
            )
        )

    def _gate(self, batch: WriteBatch, event: Event) -> None:
        data = event.data or {}
        name = event.task or data.get("gate") or data.get("name") or "gate"
        finished = event.type == "gate.finished"
        findings = data.get("findings") or []
        batch.record_gate(
            GateRecord(
                run_id=event.run_id,
                gate=str(name),
                status=event.status or ("finished" if finished else "running"),
                counts=dict(data.get("counts") or {}),
                findings=list(findings) if isinstance(findings, list | tuple) else [],
                started_at=None if finished else event.ts,
                ended_at=event.ts if finished else None,
                message=event.message,
            ),
        )

    def _name_of(self, task_id: str) -> str:
        name = self._task_names.get(task_id)
        if name is None:
            # An instance id is the task's name, then its matrix values in brackets.
            name = task_id.split("[", 1)[0]
        return name


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(path) if path else None
