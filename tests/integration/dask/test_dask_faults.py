"""Faults on a real Dask cluster (`dask scheduler` + `dask worker` processes), each with a clear
outcome: an unreachable scheduler, a worker killed with SIGKILL during a task, the scheduler
going away mid-run, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_cluster import DaskCluster
from localnet import free_port

pytestmark = pytest.mark.integration


def _manifest(address: str, tasks: str, executor_extra: str = "") -> str:
    return (
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: faults}\nspec:\n"
        f'  executor: {{type: dask, address: "{address}"{executor_extra}}}\n  tasks:\n{tasks}'
    )


def _start_apply(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "-q", "workflow.yaml", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _events(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]


def _wait_for(path: Path, *, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise TimeoutError(f"{path} never appeared")


def _alive(pid: int, *, within: float = 5.0) -> bool:
    """True while pid still runs after `within` seconds (a zombie counts as ended)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A TCP port where something that is not Dask accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("listener", ["nothing", "not-dask"])
def test_an_unreachable_scheduler_exits_2_within_the_connect_timeout(tmp_path, listener, request):
    port = free_port() if listener == "nothing" else request.getfixturevalue("silent_listener")
    address = f"tcp://127.0.0.1:{port}"
    tasks = "    a: {run: 'echo never > ran.txt'}\n"
    (tmp_path / "workflow.yaml").write_text(_manifest(address, tasks, ", connectTimeout: 2s"))

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", "-q", "workflow.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started

    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Dask scheduler at {address}" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert took < 2 + 8  # the connect timeout, plus the CLI's own start on a busy machine
    assert not (tmp_path / "ran.txt").exists()


def test_a_worker_killed_during_a_task_is_worker_lost_and_the_retry_succeeds(
    dask_cluster, tmp_path
):
    # Attempt 1 parks until killed; attempt 2 ends at once. The pids are written where this
    # test reads them (shared filesystem mode: the files are the test's window on the worker).
    tasks = (
        "    park:\n      retries: 1\n"
        "      run: |\n"
        "        echo $$ >> leader-$PSR_ATTEMPT.pid\n"
        "        echo $PPID >> worker-$PSR_ATTEMPT.pid\n"
        '        if [ "$PSR_ATTEMPT" = 1 ]; then sleep 60; fi\n'
        "        echo done-$PSR_ATTEMPT\n"
    )
    (tmp_path / "workflow.yaml").write_text(
        _manifest(dask_cluster.address, tasks, ", sharedFilesystem: true")
    )
    run = _start_apply(tmp_path, "--events-jsonl", "events.jsonl")
    try:
        worker = int(_wait_for(tmp_path / "worker-1.pid"))
        leader = int(_wait_for(tmp_path / "leader-1.pid"))
        killed_at = time.monotonic()
        dask_cluster.kill_worker(worker)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    took = time.monotonic() - killed_at

    events = _events(tmp_path)
    assert run.returncode == 0, out + err + json.dumps(events)
    retrying = [e for e in events if e["type"] == "task.retrying"]
    assert [(e["attempt"], e["reason"]) for e in retrying] == [(1, "worker_lost")]
    finished = next(e for e in events if e["type"] == "task.finished")
    assert (finished["status"], finished["attempt"]) == ("succeeded", 2)
    assert took < 30  # bounded: not the 60 s the first attempt would have slept
    # The first copy did not go on running once its worker died (the worker's watchdog).
    assert not _alive(leader)
    # Dask did not start a copy of attempt 1 elsewhere behind the engine's back.
    assert len((tmp_path / "leader-1.pid").read_text().split()) == 1
    dask_cluster.wait_for_workers(2)  # the nanny restarts the worker for the next tests


def test_the_scheduler_going_away_mid_run_ends_the_run_with_a_clear_error(tmp_path):
    tasks = (
        "    first: {run: 'echo first'}\n"
        "    second:\n      needs: [first]\n      retries: 2\n"
        "      run: 'echo $$ > second.pid; sleep 60'\n"
        "    third: {needs: [second], run: 'echo third'}\n"
    )
    with DaskCluster.start(tmp_path / "cluster", workers=1) as cluster:
        folder = tmp_path / "work"
        folder.mkdir()
        (folder / "workflow.yaml").write_text(
            _manifest(cluster.address, tasks, ", sharedFilesystem: true, connectTimeout: 3s")
        )
        run = _start_apply(folder, "--events-jsonl", "events.jsonl")
        try:
            _wait_for(folder / "second.pid")
            os.killpg(cluster.processes[0].pid, signal.SIGKILL)  # the scheduler, at once
            stopped_at = time.monotonic()
            out, err = run.communicate(timeout=60)
        finally:
            run.kill()
        took = time.monotonic() - stopped_at

    assert run.returncode == 1, out + err
    assert "internal error" not in err
    ended = ("task.finished", "task.skipped")
    finished = {e["task"]: e for e in _events(folder) if e["type"] in ended}
    assert finished["first"]["status"] == "succeeded"
    assert (finished["second"]["status"], finished["second"]["reason"]) == (
        "failed",
        "scheduler_lost",
    )
    assert "Dask scheduler" in finished["second"]["message"]
    assert finished["third"]["status"] in ("cancelled", "skipped")
    assert took < 30


def test_ctrl_c_kills_the_remote_process_group_and_on_exit_runs(dask_cluster, tmp_path):
    tasks = (
        "    park: {run: 'sleep 60 & echo $! > grandchild.pid; echo $$ > leader.pid; wait'}\n"
        "  onExit:\n"
        "    tidy: {run: 'echo tidied > tidy.txt'}\n"
    )
    (tmp_path / "workflow.yaml").write_text(
        _manifest(dask_cluster.address, tasks, ", sharedFilesystem: true")
    )
    run = _start_apply(tmp_path)
    try:
        leader = int(_wait_for(tmp_path / "leader.pid"))
        grandchild = int(_wait_for(tmp_path / "grandchild.pid"))
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()

    assert run.returncode == 130, out + err
    assert not _alive(leader)
    assert not _alive(grandchild)
    assert (tmp_path / "tidy.txt").read_text().strip() == "tidied"
