"""Crash consistency: a run whose engine died is closed as `crashed` by the next opener."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from psr_engine.store import RunStore
from psr_engine.store.owner import owner_alive, process_start


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_owner_died_becomes_crashed_on_the_next_open(add_run, state_dir: Path) -> None:
    host = socket.gethostname()
    with RunStore.open(str(state_dir)) as store:
        add_run(
            store,
            "dead",
            status="running",
            host=host,
            pid=_dead_pid(),
            tasks=[("a", "succeeded"), ("b", "running"), ("c", "retrying"), ("d", "pending")],
        )
    with RunStore.open(str(state_dir)) as store:
        run = store.run("dead")
        assert run.status == "crashed"
        assert "ended without finishing" in (run.reason or "")
        assert run.ended_at is not None
        tasks = {t.id: t.status for t in store.tasks("dead")}
        attempts = {a.task_id: a.status for a in store.attempts("dead")}
    assert tasks == {"a": "succeeded", "b": "crashed", "c": "crashed", "d": "pending"}
    assert attempts["b"] == "crashed"
    assert attempts["a"] == "succeeded"


def test_a_reused_pid_is_not_mistaken_for_the_owner(add_run, store: RunStore) -> None:
    # Our own pid, but with another start time: the process that owned the run is gone.
    me = os.getpid()
    add_run(
        store,
        "reused",
        status="running",
        host=socket.gethostname(),
        pid=me,
        pid_started=(process_start(me) or 0) + 1,
    )
    assert store.reap_crashed() == ["reused"]


def test_a_living_owner_keeps_its_run_running(add_run, store: RunStore) -> None:
    me = os.getpid()
    add_run(
        store,
        "alive",
        status="running",
        host=socket.gethostname(),
        pid=me,
        pid_started=process_start(me),
    )
    assert store.reap_crashed() == []
    assert store.run("alive").status == "running"


def test_a_run_owned_on_another_host_is_left_alone(add_run, store: RunStore) -> None:
    add_run(store, "remote", status="running", host="another-host", pid=_dead_pid())
    assert store.reap_crashed() == []


def test_a_zombie_owner_counts_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = None
    # Not waited for: it lingers as a zombie until we reap it below.
    import time

    for _ in range(200):
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19])
        if fields[0] == "Z":
            break
        time.sleep(0.01)
    try:
        assert not owner_alive(child.pid, started)
    finally:
        child.wait()
