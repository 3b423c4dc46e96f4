"""SIGKILL of `psr-engine apply` mid-run: the history says crashed, and resume completes it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from psr_engine.store import RunStore

TASKS = """
extract:
  run: echo x >> counts/extract; echo rows=9 >> $PSR_OUTPUT
slow:
  needs: [extract]
  run: |
    echo x >> counts/slow
    echo $$ > slow.pid
    if [ -e block ]; then exec sleep 120; fi
    echo done ${{ tasks.extract.outputs.rows }}
after:
  needs: [slow]
  run: echo x >> counts/after
"""


def _task_status(state: Path, task: str) -> str | None:
    if not (state / "runs.db").exists():
        return None
    with RunStore.open(str(state), reap=False) as store:
        runs = store.runs(limit=1)
        if not runs:
            return None
        tasks = {t.id: t.status for t in store.tasks(runs[0].id)}
    return tasks.get(task)


def test_sigkill_mid_run_is_recorded_as_crashed_and_resume_completes_it(
    project,
) -> None:
    project.manifest("crashy", TASKS)
    (project.root / "block").touch()
    engine = project.popen("apply")
    try:
        project.wait_for(
            lambda: (
                _task_status(project.state, "slow") == "running"
                and (project.root / "slow.pid").exists()
            ),
            what="the slow task to be running",
        )
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.wait()
    task_pid = int((project.root / "slow.pid").read_text())
    os.killpg(task_pid, signal.SIGKILL)  # the task's own process group outlives the engine

    runs = project.psr("runs")
    assert runs.code == 0, runs.stderr
    assert "crashed" in runs.stdout
    status = project.psr("status", "last", "--output", "json")
    assert status.code == 0, status.stderr
    document = status.json()
    crashed_id = document["run"]["runId"]
    assert document["run"]["status"] == "crashed"
    tasks = document["tasks"]
    assert tasks["extract"]["status"] == "succeeded"
    assert tasks["extract"]["outputs"] == {"rows": "9"}
    assert tasks["slow"]["status"] == "crashed"
    assert tasks["after"]["status"] == "pending"

    (project.root / "block").unlink()
    resumed = project.psr("apply", "--resume", "last")
    assert resumed.code == 0, resumed.stderr

    assert project.counts() == {"after": 1, "extract": 1, "slow": 2}
    final = project.psr("status", "last", "-o", "json").json()
    assert final["run"]["status"] == "succeeded"
    assert final["run"]["resumedFrom"] == crashed_id
    assert final["tasks"]["extract"]["reason"] == "reused"
    assert (project.state / "runs" / final["run"]["runId"] / "slow.1.log").read_text() == (
        "done 9\n"
    )
