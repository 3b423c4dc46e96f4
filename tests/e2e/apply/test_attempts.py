"""Retries, exit-code filters, backoff and timeouts that kill whole process trees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def _attempt_events(result, task):
    return [e for e in result.events if e.get("task") == task and e["type"] == "task.started"]


def test_retries_only_the_listed_exit_codes_and_counts_attempts(ws):
    ws.manifest("""
        flaky:
          run: |
            n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n
            [ "$n" -ge 2 ] || exit 75
          retries: {limit: 5, delay: 10ms, on: [75]}
        wrong_code:
          run: exit 3
          retries: {limit: 5, delay: 10ms, on: [75]}
        any_code:
          run: exit 3
          retries: {limit: 2, delay: 10ms, backoff: linear}
    """)
    result = ws.cli("apply")
    assert result.code == 1
    events = result.finished()
    assert (events["flaky"]["status"], events["flaky"]["attempt"]) == ("succeeded", 3)
    assert (events["wrong_code"]["status"], events["wrong_code"]["attempt"]) == ("failed", 1)
    assert (events["any_code"]["status"], events["any_code"]["attempt"]) == ("failed", 3)
    assert len(_attempt_events(result, "any_code")) == 3
    retrying = [e for e in result.events if e["type"] == "task.retrying"]
    assert {e["task"] for e in retrying} == {"flaky", "any_code"}


def test_every_attempt_keeps_its_own_log(ws):
    ws.manifest("""
        twice:
          run: echo "attempt $PSR_ATTEMPT"; exit 1
          retries: {limit: 1, delay: 10ms}
    """)
    ws.cli("apply")
    logs = sorted((ws.root / ".psr" / "runs").glob("*/twice.*.log"))
    assert [p.read_text().strip() for p in logs] == ["attempt 1", "attempt 2"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent will reap it).
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_a_timeout_kills_the_whole_process_tree_including_grandchildren(ws):
    ws.manifest("""
        slow:
          run: |
            sleep 300 &
            echo $! > grandchild.pid
            sleep 300
          timeout: 1s
          killGrace: 1s
    """)
    result = ws.cli("apply")
    assert result.code == 1
    assert result.finished()["slow"]["status"] == "timed_out"
    pid = int((ws.root / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_timeouts_are_retried_only_with_on_timeout(ws):
    ws.manifest("""
        retried: {run: "sleep 10", timeout: 200ms, retries: {limit: 1, delay: 10ms, onTimeout: true}}
        not_retried: {run: "sleep 10", timeout: 200ms, retries: {limit: 3, delay: 10ms}}
    """)
    result = ws.cli("apply")
    events = result.finished()
    assert (events["retried"]["status"], events["retried"]["attempt"]) == ("timed_out", 2)
    assert (events["not_retried"]["status"], events["not_retried"]["attempt"]) == ("timed_out", 1)


BURN_256_MB = """
    import time
    end = time.process_time() + 0.2
    data = bytearray(256 * 1024 * 1024)
    data[::4096] = b"x" * len(data[::4096])
    while time.process_time() < end:
        pass
"""


def test_a_task_s_peak_is_measured_when_the_engine_was_started_by_a_larger_process(ws):
    """Linux hands a process its parent's peak RSS at exec: an engine started by a 400 MB
    process (a test runner, a CI agent) must not take that for its own and hide a 256 MB
    task's peak (it reported none)."""
    ws.manifest("""
        burn: {python: burn.py}
    """)
    ws.write("burn.py", BURN_256_MB)
    ws.write(
        "parent.py",
        """
        import subprocess, sys
        grown = bytearray(400 * 1024 * 1024)
        grown[::4096] = b"x" * len(grown[::4096])
        del grown
        sys.exit(subprocess.run(sys.argv[1:]).returncode)
        """,
    )
    events = ws.root / "events.jsonl"
    engine = [sys.executable, "-m", "psr_engine", "apply", "-q", "--events-jsonl", str(events)]
    done = subprocess.run(
        [sys.executable, "parent.py", *engine], cwd=ws.root, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    finished = [json.loads(line) for line in events.read_text().splitlines()]
    (burn,) = [e for e in finished if e["type"] == "task.finished"]
    assert 256 * 1024 * 1024 <= burn["maxRssBytes"] < 400 * 1024 * 1024


def test_attempt_events_carry_kernel_metrics(ws):
    ws.manifest("""
        burn: {python: burn.py}
    """)
    ws.write("burn.py", BURN_256_MB)
    result = ws.cli("apply")
    event = result.finished()["burn"]
    assert event["cpuUserS"] + event["cpuSysS"] >= 0.15
    assert event["maxRssBytes"] >= 256 * 1024 * 1024
    assert event["durationS"] > 0 and event["exitCode"] == 0
