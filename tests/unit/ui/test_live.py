"""A run's event stream (ui/live.py): the tasks that changed in one look go out as one
`tasks` event, each with only the fields that changed since the stream last sent it; the
critical path is not worked out again while no task started or ended."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from psr_engine.store import RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w
from psr_engine.ui import live
from psr_engine.ui.catalog import connect_ro


def _events(chunk: str) -> list[tuple[str, object]]:
    out = []
    for block in chunk.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


@pytest.fixture
def history(tmp_path: Path):
    tasks = [
        TaskDigest(f"t{i}", f"t{i}", "d", needs=("t0",) if i else (), level=min(i, 1))
        for i in range(3)
    ]
    run = RunRecord(
        id="r1", workflow="wf", status="running", started_at=time.time(), host="elsewhere"
    )
    store = RunStore.open(str(tmp_path / ".psr"))
    store.write(lambda conn: w.begin_run(conn, run, tasks))
    conn = connect_ro(str(tmp_path / ".psr" / "runs.db"))
    yield store, conn
    conn.close()
    store.close()


def _start(store: RunStore, task: str) -> None:
    store.write(
        lambda conn: w.task_started(
            conn,
            "r1",
            task,
            task_name=task,
            attempt=1,
            ts=time.time(),
            log_path=None,
            matrix=None,
        )
    )


def test_the_first_look_sends_every_task_that_moved_whole_in_one_event(history) -> None:
    store, conn = history
    assert [k for k, _ in _events(live._RunWatch("r1", None).look(conn))] == ["critical", "run"]
    _start(store, "t0")
    _start(store, "t2")
    events = _events(live._RunWatch("r1", None).look(conn))
    assert [kind for kind, _ in events] == ["tasks", "critical", "run"]
    batch = events[0][1]
    # t1 is still pending, as the page shows it: sent when it moves
    assert [t["task"] for t in batch] == ["t0", "t2"]
    assert all({"status", "needs", "level", "attempts"} <= t.keys() for t in batch)


def test_later_looks_send_only_the_fields_that_changed(history) -> None:
    store, conn = history
    watch = live._RunWatch("r1", None)
    watch.look(conn)
    _start(store, "t0")
    _start(store, "t1")
    tasks = [data for kind, data in _events(watch.look(conn)) if kind == "tasks"]
    assert len(tasks) == 1  # one event for the two tasks
    changes = {t["task"]: t for t in tasks[0]}
    assert set(changes) == {"t0", "t1"}
    assert changes["t0"]["status"] == "running" and changes["t0"]["attempts"][0]["attempt"] == 1
    assert "needs" in changes["t0"]  # its first time: whole
    store.write(
        lambda conn: w.task_finished(
            conn,
            "r1",
            "t0",
            task_name="t0",
            status="succeeded",
            reason=None,
            attempts=1,
            exit_code=0,
            ts=time.time(),
            duration=0.5,
            cpu_user=0.1,
            cpu_sys=0.0,
            max_rss=0,
            outputs={},
            matrix={},
            log_path=None,
            message=None,
        )
    )
    [[change]] = [data for kind, data in _events(watch.look(conn)) if kind == "tasks"]
    assert change["task"] == "t0" and change["status"] == "succeeded"
    assert change["durationS"] == 0.5
    assert "needs" not in change and "level" not in change  # unchanged: not sent again
    assert watch.look(conn) == ""  # nothing moved, nothing sent


def test_the_critical_path_waits_for_a_task_to_start_or_end(
    history, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, conn = history
    watch = live._RunWatch("r1", None)
    watch.look(conn)
    worked: list[int] = []
    real = live.critical_path
    monkeypatch.setattr(live, "critical_path", lambda tasks: worked.append(1) or real(tasks))
    monkeypatch.setattr(live, "CRITICAL_EVERY_S", 0.0)
    _start(store, "t0")
    watch.look(conn)
    assert len(worked) == 1
    store.write(lambda conn: conn.execute('UPDATE runs SET labels = \'{"k": "v"}\''))
    watch.look(conn)  # the run moved, no task did
    assert len(worked) == 1


def _finish(store: RunStore, task: str, status: str = "succeeded") -> None:
    store.write(
        lambda conn: w.task_finished(
            conn,
            "r1",
            task,
            task_name=task,
            status=status,
            reason=None,
            attempts=0 if status == "skipped" else 1,
            exit_code=None if status == "skipped" else 0,
            ts=time.time(),
            duration=0.0,
            cpu_user=0.0,
            cpu_sys=0.0,
            max_rss=0,
            outputs={},
            matrix={},
            log_path=None,
            message=None,
        )
    )


def test_a_look_reads_only_the_tasks_that_began_an_attempt_or_were_running(
    history, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, conn = history
    watch = live._RunWatch("r1", None)
    watch.look(conn)
    full_reads: list[int] = []
    real = live._Light._full
    monkeypatch.setattr(
        live._Light, "_full", lambda self, c, r: full_reads.append(1) or real(self, c, r)
    )
    _start(store, "t0")
    [[started]] = [data for kind, data in _events(watch.look(conn)) if kind == "tasks"]
    assert started["task"] == "t0" and started["status"] == "running"
    _finish(store, "t0")
    [[ended]] = [data for kind, data in _events(watch.look(conn)) if kind == "tasks"]
    assert ended["task"] == "t0" and ended["status"] == "succeeded"
    assert full_reads == []  # neither look read every task
    # A pending task that moves without an attempt (skipped) changes the counts: that look
    # reads every task, and sends it.
    _finish(store, "t1", "skipped")
    [[skipped]] = [data for kind, data in _events(watch.look(conn)) if kind == "tasks"]
    assert skipped["task"] == "t1" and skipped["status"] == "skipped"
    assert full_reads == [1]


def test_the_runs_stream_reads_the_runs_again_only_when_one_starts_or_ends(
    history, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import anyio

    from psr_engine.ui.catalog import Catalog, Source

    store, _ = history
    db = str(tmp_path / ".psr" / "runs.db")
    catalog = Catalog([Source(db_path=db, state_dir=str(tmp_path / ".psr"))])
    reads: list[int] = []
    real = live._runs_since
    monkeypatch.setattr(live, "_runs_since", lambda *a: reads.append(1) or real(*a))
    monkeypatch.setattr(live, "POLL_S", 0.01)

    def engine() -> None:  # tasks written, many commits; then the run ends
        for task in ("t0", "t1", "t2"):
            _start(store, task)
            time.sleep(0.05)
        store.write(
            lambda conn: w.finish_run(
                conn, "r1", status="succeeded", reason=None, ended_at=time.time()
            )
        )

    async def main() -> list[tuple[str, object]]:
        stream = live.runs_events(catalog, last_id=0.0)
        await stream.__anext__()  # retry:
        seen = _events(await stream.__anext__())  # the run, running
        writer = threading.Thread(target=engine)
        writer.start()
        seen += _events(await stream.__anext__())  # the run, ended
        writer.join()
        await stream.aclose()
        return seen

    seen = anyio.run(main)
    assert [run["status"] for _, run in seen] == ["running", "succeeded"]  # type: ignore[index]
    assert reads == [1, 1]  # the tasks' commits did not read the runs
