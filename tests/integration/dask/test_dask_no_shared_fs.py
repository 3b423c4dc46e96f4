"""A cluster that shares no folder with the engine (the default, sharedFilesystem: false): each
`dask worker` runs in its own folder with its own --local-directory, and every attempt runs in a
fresh folder there, sent its script, inputs and upstream artifacts; artifacts, outputs and logs
come back to where a local run leaves them, and log lines arrive while the task runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_cluster import FAKE_AWS
from localnet import free_port

pytestmark = pytest.mark.integration

SHARD = """\
import json, sys
from pathlib import Path

n = int(sys.argv[1])
config = json.loads(Path("data/config.json").read_text())
Path("parts").mkdir(exist_ok=True)
Path(f"parts/part-{n}.txt").write_text(f"{config['label']}-{n}\\n")
print(f"shard {n} done")
"""

TASKS = """\
    shard:
      matrix: {n: [1, 2, 3]}
      python: scripts/shard.py
      args: ["${{ matrix.n }}"]
      inputs: [data/*.json]
      artifacts: ["parts/*.txt"]
    merge:
      needs: [shard]
      run: |
        cat parts/part-*.txt > merged.txt
        pwd > where.txt
        echo "total=$(wc -l < merged.txt | tr -d ' ')" >> "$PSR_OUTPUT"
      artifacts: [merged.txt, where.txt]
      outputs: [total]
    flaky:
      retries: 1
      run: |
        if [ "$PSR_ATTEMPT" = 1 ]; then exit 3; fi
        echo "second try" > flaky.txt
      artifacts: [flaky.txt]
    slow:
      timeout: 1s
      killGrace: 1s
      continueOnError: true
      run: sleep 30
    report:
      needs: [merge, flaky]
      run: echo "rows ${{ tasks.merge.outputs.total }}" > out/report.txt
      artifacts: [out/report.txt]
"""


def _manifest(executor: str, tasks: str = TASKS) -> str:
    return (
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: no-shared-fs}\n"
        f"spec:\n  executor: {executor}\n  tasks:\n{tasks}"
    )


def _project(folder: Path, executor: str, tasks: str = TASKS) -> Path:
    (folder / "scripts").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "out").mkdir()
    (folder / "scripts" / "shard.py").write_text(SHARD)
    (folder / "data" / "config.json").write_text(json.dumps({"label": "eu"}))
    (folder / "workflow.yaml").write_text(_manifest(executor, tasks))
    return folder


def _apply(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", "-q", "workflow.yaml", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )


def _ended(folder: Path) -> dict[str, dict]:
    events = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    return {e["task"]: e for e in events if e["type"] in ("task.finished", "task.skipped")}


def _files(folder: Path) -> set[str]:
    skip = {"events.jsonl", "where.txt"}
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and ".psr" not in p.parts and p.name not in skip
    }


def test_a_workflow_runs_on_workers_that_share_no_folder_and_its_files_come_back(
    dask_cluster, tmp_path
):
    remote = _project(tmp_path / "remote", f'{{type: dask, address: "{dask_cluster.address}"}}')
    local = _project(tmp_path / "local", "{type: local}")

    done = _apply(remote, "--events-jsonl", "events.jsonl")
    here = _apply(local, "--events-jsonl", "events.jsonl")

    assert done.returncode == here.returncode, done.stdout + done.stderr
    ended = _ended(remote)
    statuses = {task: e["status"] for task, e in ended.items()}
    assert statuses == {task: e["status"] for task, e in _ended(local).items()}
    assert statuses["merge"] == statuses["report"] == "succeeded"
    assert (statuses["slow"], ended["flaky"]["attempt"]) == ("timed_out", 2)
    # The same files, where a local run puts them, with the same contents.
    assert _files(remote) == _files(local)
    for name in ("merged.txt", "out/report.txt", "flaky.txt", "parts/part-2.txt"):
        assert (remote / name).read_text() == (local / name).read_text(), name
    assert (remote / "out" / "report.txt").read_text() == "rows 3\n"
    # merge ran in a fresh folder under a worker's own --local-directory, not the engine's.
    where = (remote / "where.txt").read_text().strip()
    assert any(where.startswith(str(d / "local")) for d in dask_cluster.worker_dirs), where
    # Each task's log came back too, and the fresh folders are gone from the workers.
    shard_log = Path(ended["shard[n=1]"]["logPath"])
    assert shard_log.read_text().strip() == "shard 1 done"
    # (Dask puts each worker's own folder below --local-directory: looked for at any depth.)
    for worker in dask_cluster.worker_dirs:
        assert not list((worker / "local").rglob("psr-attempt-*"))


def test_a_task_reading_a_file_it_did_not_declare_is_told_to_declare_it(dask_cluster, tmp_path):
    tasks = "    read: {run: 'cat data/config.json'}\n"
    remote = _project(tmp_path, f'{{type: dask, address: "{dask_cluster.address}"}}', tasks)

    done = _apply(remote, "--events-jsonl", "events.jsonl")

    assert done.returncode == 1
    read = _ended(remote)["read"]
    assert read["reason"] == "exit code 1"
    assert "declare the files it reads in inputs:" in read["message"]


def test_a_declared_artifact_the_remote_task_did_not_write_is_reported_naming_it(
    dask_cluster, tmp_path
):
    tasks = (
        "    make: {run: 'echo hi > other.txt', artifacts: [result.csv]}\n"
        "    use: {needs: [make], run: 'cat result.csv'}\n"
    )
    remote = _project(tmp_path, f'{{type: dask, address: "{dask_cluster.address}"}}', tasks)

    done = _apply(remote, "--events-jsonl", "events.jsonl")

    assert done.returncode == 1
    ended = _ended(remote)
    assert (ended["make"]["status"], ended["make"]["reason"]) == ("failed", "artifacts")
    assert "task make did not write the artifacts it declares" in ended["make"]["message"]
    assert ended["use"]["status"] == "skipped"


def test_remote_log_lines_reach_logs_follow_before_the_task_ends(dask_cluster, tmp_path):
    tasks = "    talk: {run: 'echo remote-line-1; sleep 4; echo remote-line-2'}\n"
    remote = _project(tmp_path, f'{{type: dask, address: "{dask_cluster.address}"}}', tasks)
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "-q", "workflow.yaml"],
        cwd=remote,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    follow = None
    try:
        deadline = time.monotonic() + 30
        while not list((remote / ".psr").glob("runs/*/talk*.log")):
            assert time.monotonic() < deadline, "the run never started its task"
            time.sleep(0.05)
        follow = subprocess.Popen(
            [sys.executable, "-m", "psr_engine", "logs", "last", "talk", "--follow"],
            cwd=remote,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert follow.stdout is not None
        first = follow.stdout.readline()
        still_running = run.poll() is None
        assert "remote-line-1" in first
        assert still_running  # seen while the task was still sleeping on its worker
        rest = follow.communicate(timeout=60)[0]
        assert "remote-line-2" in rest
        assert run.wait(timeout=60) == 0
    finally:
        run.kill()
        if follow is not None:
            follow.kill()


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a free port of 127.0.0.1 (no cloud is contacted): its endpoint."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_files_over_the_threshold_travel_through_s3_staging(dask_cluster, tmp_path, s3):
    import boto3

    store = boto3.client(
        "s3",
        endpoint_url=s3,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    store.create_bucket(Bucket="stage")
    # Versioned: what the engine deletes after each attempt stays visible as versions.
    store.put_bucket_versioning(Bucket="stage", VersioningConfiguration={"Status": "Enabled"})
    tasks = (
        "    grow:\n"
        "      inputs: [data/big.bin, data/config.json]\n"
        "      run: cat data/big.bin data/big.bin > doubled.bin\n"
        "      artifacts: [doubled.bin]\n"
    )
    executor = (
        f'{{type: dask, address: "{dask_cluster.address}", '
        f'staging: {{url: "s3://stage/runs", threshold: 4Ki, endpoint: "{s3}"}}}}'
    )
    remote = _project(tmp_path, executor, tasks)
    big = os.urandom(6000)
    (remote / "data" / "big.bin").write_bytes(big)

    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", "-q", "workflow.yaml"],
        cwd=remote,
        capture_output=True,
        text=True,
        env={**os.environ, **FAKE_AWS, "NO_COLOR": "1"},
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert (remote / "doubled.bin").read_bytes() == big + big
    versions = store.list_object_versions(Bucket="stage").get("Versions", [])
    staged = sorted(v["Key"].split("/", 2)[2] for v in versions)
    # The two large files went through the store (small config.json did not), and were removed.
    assert staged == ["artifacts/doubled.bin", "inputs/data/big.bin"]
    assert store.list_objects_v2(Bucket="stage").get("KeyCount", 0) == 0


def test_resources_and_a_worker_label_place_tasks_on_the_workers_that_fit(dask_cluster, tmp_path):
    tasks = "".join(
        f"    gpu{i}: {{resources: {{gpu: 1}}, run: 'pwd > where-gpu{i}.txt', "
        f"artifacts: [where-gpu{i}.txt]}}\n"
        for i in range(3)
    )
    tasks += (
        "    pinned: {labels: {dask-workers: w0}, run: 'pwd > where-pinned.txt', "
        "artifacts: [where-pinned.txt]}\n"
        "    greedy: {resources: {gpu: 2}, run: 'echo never'}\n"
    )
    remote = _project(tmp_path, f'{{type: dask, address: "{dask_cluster.address}"}}', tasks)

    done = _apply(remote, "--events-jsonl", "events.jsonl")

    assert done.returncode == 1, done.stdout + done.stderr  # greedy cannot be placed
    w0, w1 = (str(d / "local") for d in dask_cluster.worker_dirs)
    for i in range(3):  # only w1 declares a GPU (and no local capacity held them back)
        assert (remote / f"where-gpu{i}.txt").read_text().startswith(w1)
    assert (remote / "where-pinned.txt").read_text().startswith(w0)
    greedy = _ended(remote)["greedy"]
    assert (greedy["status"], greedy["reason"]) == ("failed", "executor")
    assert "no worker of the Dask cluster has gpu=2" in greedy["message"]


def test_log_events_carry_a_remote_tasks_lines_once_each(dask_cluster, tmp_path):
    tasks = "    talk: {run: 'echo one; sleep 0.3; echo two; printf three'}\n"
    remote = _project(tmp_path, f'{{type: dask, address: "{dask_cluster.address}"}}', tasks)

    done = _apply(remote, "--events-jsonl", "events.jsonl", "--log-events")

    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(x) for x in (remote / "events.jsonl").read_text().splitlines()]
    lines = [e["message"] for e in events if e["type"] == "task.log"]
    assert lines == ["one", "two", "three"]  # live or replayed at the end, never twice
