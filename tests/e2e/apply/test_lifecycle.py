"""onExit, interrupts, capacity, and the heritage `psr-engine run SCRIPT.py`."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time


def test_on_exit_runs_after_a_failure_and_sees_the_run_status(ws):
    ws.manifest(
        """
        bad: {run: "exit 1"}
        """,
        extra="""
        onExit:
          notify: {run: "echo '${{ run.status }}' > status.txt"}
        """,
    )
    result = ws.cli("apply")
    assert result.code == 1
    assert (ws.root / "status.txt").read_text().strip() == "failed"
    finished = [e["task"] for e in result.events if e["type"] == "task.finished"]
    assert finished[-1] == "notify"


def _wait_for(path, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] == "Z"


def test_sigint_cancels_kills_every_process_runs_on_exit_and_exits_130(ws):
    ws.manifest(
        """
        long:
          run: |
            sleep 300 &
            echo $! > child.pid
            echo $$ > shell.pid
            sleep 300
        never: {needs: [long], run: "touch never-ran"}
        """,
        extra="""
        onExit:
          cleanup: {run: "echo '${{ run.status }}' > exit-status.txt"}
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "--events-jsonl", "events.jsonl"],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    _wait_for(ws.root / "child.pid")
    _wait_for(ws.root / "shell.pid")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    for name in ("child.pid", "shell.pid"):
        pid = int((ws.root / name).read_text())
        deadline = time.monotonic() + 5
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(pid), f"{name} survived the interrupt"
    assert not (ws.root / "never-ran").exists()
    assert (ws.root / "exit-status.txt").read_text().strip() == "cancelled"

    import json

    events = [json.loads(x) for x in (ws.root / "events.jsonl").read_text().splitlines()]
    final = {e["task"]: e for e in events if e.get("task") and e["type"] == "task.finished"}
    assert final["long"]["status"] == "cancelled"
    assert [e["status"] for e in events if e["type"] == "run.finished"] == ["cancelled"]


def test_memory_requests_that_cannot_fit_together_never_overlap(ws):
    ws.manifest(
        """
        big:
          matrix: {n: [1, 2, 3]}
          resources: {memory: 600Mi}
          run: |
            echo "start $(date +%s.%N)" >> "span-${{ matrix.n }}.txt"
            sleep 0.3
            echo "end $(date +%s.%N)" >> "span-${{ matrix.n }}.txt"
        small:
          matrix: {n: [1, 2]}
          resources: {memory: 100Mi}
          run: sleep 0.1
        """,
        extra="""
        concurrency: 8
        capacity: {cpu: 8, memory: 1Gi}
        """,
    )
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    spans = []
    for n in (1, 2, 3):
        lines = dict(line.split() for line in (ws.root / f"span-{n}.txt").read_text().splitlines())
        spans.append((float(lines["start"]), float(lines["end"])))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end, "two 600Mi tasks ran at once in 1Gi"


def test_concurrency_and_max_parallel_are_never_exceeded(ws):
    ws.manifest(
        """
        fan:
          matrix: {n: [1, 2, 3, 4, 5, 6]}
          maxParallel: 2
          run: |
            mkdir -p running
            touch running/$PSR_TASK
            ls running | wc -l >> counts.txt
            sleep 0.2
            rm running/$PSR_TASK
        """,
        extra="concurrency: 4",
    )
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    counts = [int(c) for c in (ws.root / "counts.txt").read_text().split()]
    assert len(counts) == 6 and max(counts) <= 2


def test_run_script_heritage_mode_monitors_and_retries(ws):
    ws.write(
        "job.py",
        """
        import os, sys
        n = int(open("n").read()) if os.path.exists("n") else 0
        open("n", "w").write(str(n + 1))
        print("args", sys.argv[1:])
        sys.exit(0 if n >= 1 else 5)
    """,
    )
    result = ws.cli("run", "job.py", "--retries", "2", "--", "--flag", "x")
    assert result.code == 0, result.stdout + result.stderr
    assert (ws.root / "n").read_text() == "2"
    assert result.finished()["job"]["attempt"] == 2
    assert "job" in result.stdout and "succeeded" in result.stdout


def test_dry_run_runs_nothing_and_only_selects_what_a_task_needs(ws):
    ws.manifest("""
        a: {run: "touch a"}
        b: {needs: [a], run: "touch b"}
        c: {run: "touch c"}
    """)
    dry = ws.cli("apply", "--dry-run")
    assert dry.code == 0
    assert "  b [run] (needs a): touch b" in dry.stdout.splitlines()
    assert "nothing executed" in dry.stdout.splitlines()[0]
    assert not any((ws.root / f).exists() for f in "abc")
    only = ws.cli("apply", "--only", "b")
    assert only.code == 0, only.stderr
    assert (ws.root / "a").exists() and (ws.root / "b").exists()
    assert not (ws.root / "c").exists()
    assert ws.cli("apply", "--only", "nope").code == 2


def test_a_manifest_named_from_another_folder_keeps_state_and_cwd_beside_it(ws):
    ws.write(
        "project/workflow.yaml",
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: elsewhere}
        spec:
          tasks:
            here: {run: "pwd > where.txt; echo n=1 >> $PSR_OUTPUT"}
    """,
    )
    result = ws.cli("apply", "project/workflow.yaml")
    assert result.code == 0, result.stdout + result.stderr
    assert (ws.root / "project" / "where.txt").read_text().strip() == str(ws.root / "project")
    assert (ws.root / "project" / ".psr" / "runs.db").exists()
    assert not (ws.root / ".psr").exists()
    assert result.finished()["here"]["outputs"] == {"n": "1"}


def test_a_task_cancelled_by_sigint_records_the_time_and_cpu_it_took(ws):
    ws.manifest(
        """
        spin:
          script: |
            import pathlib, time
            while time.process_time() < 0.5:  # a loaded machine gives CPU slowly
                pass
            pathlib.Path("spun").write_text("yes")
            end = time.monotonic() + 60
            while time.monotonic() < end:
                pass
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "--events-jsonl", "events.jsonl"],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    _wait_for(ws.root / "spun", timeout=60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err

    import json

    events = [json.loads(x) for x in (ws.root / "events.jsonl").read_text().splitlines()]
    spin = next(e for e in events if e["type"] == "task.finished" and e.get("task") == "spin")
    assert spin["status"] == "cancelled"
    assert spin["durationS"] >= 0.5 and spin["attemptDurationS"] >= 0.5
    assert spin["cpuUserS"] + spin["cpuSysS"] >= 0.5  # it spun that much before the interrupt
    assert spin["logPath"].endswith("spin.1.log")
