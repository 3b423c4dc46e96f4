"""`logs --follow` prints a task's lines while it still runs, and ends when it ends."""

from __future__ import annotations

import subprocess
import threading
from queue import Empty, Queue

from psr_engine.store import RunStore

TASKS = """
talker:
  run: |
    echo first line
    i=0
    while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
    echo second line
    exit 1
"""


def _reader(stream, lines: Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _next_line(lines: Queue, timeout: float = 60) -> str | None:
    try:
        return lines.get(timeout=timeout)
    except Empty:
        raise AssertionError("logs --follow printed nothing more") from None


def test_follow_shows_lines_while_the_task_runs_and_ends_with_it(project) -> None:
    project.manifest("chatty", TASKS)
    engine = project.popen("apply")
    try:
        project.wait_for(
            lambda: (
                (project.state / "runs.db").exists()
                and RunStore.open(str(project.state), reap=False).runs(limit=1)
            ),
            what="the run to be recorded",
        )
        follow = project.popen(
            "logs", "last", "talker", "--follow", stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        lines: Queue = Queue()
        threading.Thread(target=_reader, args=(follow.stdout, lines), daemon=True).start()

        assert _next_line(lines) == "first line"
        # The task is still waiting for `go`: what we saw came while it was running.
        assert engine.poll() is None
        assert follow.poll() is None
        (project.root / "go").touch()
        assert _next_line(lines) == "second line"
        assert _next_line(lines) is None  # follow ended by itself when the task ended
        assert follow.wait(timeout=60) == 0
    finally:
        (project.root / "go").touch()
        engine.wait(timeout=120)
    assert engine.returncode == 1


def test_follow_of_an_ended_run_prints_the_log_and_returns(project) -> None:
    project.manifest("chatty", TASKS)
    (project.root / "go").touch()
    assert project.psr("apply").code == 1
    followed = project.psr("logs", "last", "--follow")
    assert followed.code == 0
    assert followed.stdout.splitlines() == ["talker | first line", "talker | second line"]
