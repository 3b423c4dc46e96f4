"""Workflows run on a real Dask cluster (the session's LocalCluster): through the CLI with
`spec.executor: {type: dask, address: ...}`, and the executor driven directly for what the CLI
cannot show (cancellation, a filter that cannot be shipped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from psr_engine.errors import ExecutionError
from psr_engine.executors import ProcessSpec, get_executor
from psr_engine.executors.dask import DaskExecutor
from psr_engine.secrets.masker import Masker

ROOT = Path(__file__).resolve().parents[3]
SECRET = "dask-S3cret-value-42"


def _workflow(address: str, tasks: str, extra: str = "") -> str:
    """On the cluster, with its workers seeing this test's folders (sharedFilesystem): the
    files tasks write are how these tests look at what ran where."""
    return (
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: on-dask}\nspec:\n"
        f'  executor: {{type: dask, address: "{address}", sharedFilesystem: true}}\n'
        f"{extra}  tasks:\n{tasks}"
    )


def apply(folder: Path, manifest: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`psr-engine apply` as a user runs it, in `folder`."""
    return subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", "-q", manifest, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )


def _finished(folder: Path) -> dict[str, dict]:
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    return {e["task"]: e for e in events if e["type"] == "task.finished"}


def _alive(pid: int, *, within: float = 5.0) -> bool:
    """True while pid still runs (a zombie left to init counts as ended); polls up to `within`:
    SIGKILL is delivered asynchronously."""
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


def test_a_workflow_runs_its_tasks_on_the_workers_and_passes_outputs(dask_cluster, tmp_path):
    tasks = "".join(
        f"    t{i}: {{run: 'echo $PPID > parent-{i}.txt; echo n={i}{i} >> $PSR_OUTPUT'}}\n"
        for i in range(4)
    )
    tasks += (
        "    sum:\n      needs: [t0, t1, t2, t3]\n"
        "      run: echo ${{ tasks.t1.outputs.n }}-${{ tasks.t3.outputs.n }} > sum.txt\n"
        "    broken: {needs: [sum], run: 'exit 3'}\n"
    )
    (tmp_path / "workflow.yaml").write_text(_workflow(dask_cluster.address, tasks))

    done = apply(tmp_path, "workflow.yaml", "--events-jsonl", "events.jsonl")

    assert done.returncode == 1, done.stderr  # `broken` fails the run
    parents = {int((tmp_path / f"parent-{i}.txt").read_text()) for i in range(4)}
    # Each task's parent is a Dask worker process, not the engine (nor this test).
    assert parents <= set(dask_cluster.worker_pids().values())
    assert os.getpid() not in parents
    assert (tmp_path / "sum.txt").read_text().strip() == "11-33"
    finished = _finished(tmp_path)
    assert finished["sum"]["status"] == "succeeded"
    assert (finished["broken"]["status"], finished["broken"]["exitCode"]) == ("failed", 3)


def test_a_timeout_on_a_worker_kills_the_tasks_grandchildren(dask_cluster, tmp_path):
    tasks = (
        "    slow:\n      timeout: 1s\n      killGrace: 1s\n"
        "      run: 'sleep 60 & echo $! > grandchild.pid; wait'\n"
    )
    (tmp_path / "workflow.yaml").write_text(_workflow(dask_cluster.address, tasks))

    done = apply(tmp_path, "workflow.yaml", "--events-jsonl", "events.jsonl")

    assert done.returncode == 1, done.stderr
    assert _finished(tmp_path)["slow"]["status"] == "timed_out"
    assert not _alive(int((tmp_path / "grandchild.pid").read_text()))


def test_secrets_are_masked_on_the_worker_before_any_byte_is_written(dask_cluster, tmp_path):
    extra = "  secrets:\n    TOKEN: {provider: env, name: PSR_DASK_TEST_TOKEN}\n"
    tasks = "    leak: {secrets: [TOKEN], run: 'echo token=$TOKEN'}\n"
    (tmp_path / "workflow.yaml").write_text(_workflow(dask_cluster.address, tasks, extra))
    os.environ["PSR_DASK_TEST_TOKEN"] = SECRET  # the CLI inherits it
    try:
        done = apply(tmp_path, "workflow.yaml", "--events-jsonl", "events.jsonl", "--log-events")
    finally:
        del os.environ["PSR_DASK_TEST_TOKEN"]

    assert done.returncode == 0, done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "workflow.yaml"]
    logs = [p for p in written if p.suffix == ".log"]
    assert logs and all(b"token=***" in p.read_bytes() for p in logs)
    assert not any(SECRET.encode() in p.read_bytes() for p in written)
    assert SECRET not in done.stdout + done.stderr
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert any(e["type"] == "task.log" and "token=***" in e["message"] for e in lines)


def test_the_example_manifest_runs_on_the_cluster(dask_cluster, tmp_path):
    text = (ROOT / "manifests" / "examples" / "dask.yaml").read_text()
    assert 'address: "tcp://127.0.0.1:8786"' in text
    example = tmp_path / "dask.yaml"
    example.write_text(text.replace("tcp://127.0.0.1:8786", dask_cluster.address))

    done = apply(tmp_path, "dask.yaml", "--events-jsonl", "events.jsonl")

    assert done.returncode == 0, done.stdout + done.stderr
    assert {e["status"] for e in _finished(tmp_path).values()} == {"succeeded"}


@pytest.mark.anyio
async def test_cancelling_a_run_stops_the_process_group_on_the_worker(dask_cluster, tmp_path):
    executor = get_executor("dask", address=dask_cluster.address, sharedFilesystem=True)
    spec = ProcessSpec(
        argv=("bash", "-c", "sleep 60 & echo $! > grandchild.pid; echo $$ > leader.pid; wait"),
        env=dict(os.environ),
        cwd=str(tmp_path),
        log_path=str(tmp_path / "attempt.log"),
        kill_grace=1.0,
    )
    try:
        with anyio.move_on_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(executor.run, spec)
                while not (tmp_path / "leader.pid").exists():
                    await anyio.sleep(0.05)
                group.cancel_scope.cancel()
    finally:
        await executor.aclose()

    # run() returns from a cancellation only once the worker has stopped the group.
    assert not _alive(int((tmp_path / "leader.pid").read_text()))
    assert not _alive(int((tmp_path / "grandchild.pid").read_text()))


class _LockedFilter:
    """An output filter holding a lock: it cannot be pickled, so it cannot reach a worker."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, line: bytes) -> bytes:
        return line


@pytest.mark.anyio
async def test_an_output_filter_that_cannot_be_shipped_is_refused(dask_cluster, tmp_path):
    executor = DaskExecutor(dask_cluster.address)
    spec = ProcessSpec(argv=("true",), env={}, cwd=str(tmp_path), log_path=str(tmp_path / "a.log"))
    try:
        with pytest.raises(ExecutionError, match="needs the local executor"):
            await executor.run(replace(spec, output_filter=_LockedFilter()))
        masked = await executor.run(replace(spec, output_filter=Masker([SECRET])))
    finally:
        await executor.aclose()
    assert masked.exit_code == 0 and masked.pid != 0
