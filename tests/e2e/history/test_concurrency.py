"""100 `psr-engine apply` processes started at once on one state folder: every run and every
task is recorded, and no "database is locked" reaches anyone."""

from __future__ import annotations

import os
import subprocess

import pytest

from psr_engine.store import RunStore

RUNS = 100
TASKS = """
a: {run: "echo a"}
b: {needs: [a], run: "echo b"}
c: {run: "echo c"}
"""


@pytest.mark.slow
def test_a_hundred_concurrent_applies_are_all_recorded(project) -> None:
    project.manifest("crowd", TASKS)
    # One apply first fills the compiled-plan cache (what every CI re-run enjoys), so the 100
    # measure the history, not 100 YAML parsers at once; the database is then removed, so
    # its creation and first migration race too.
    assert project.psr("apply").code == 0
    for name in os.listdir(project.state):
        if name.startswith("runs.db"):
            os.unlink(project.state / name)

    procs = [
        project.popen("apply", "-q", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(RUNS)
    ]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in procs]

    failures = [(code, err[-500:]) for code, _, err in outcomes if code != 0]
    assert failures == []
    assert not [err for _, _, err in outcomes if "locked" in err or "warning" in err]
    with RunStore.open(str(project.state)) as store:
        runs = store.runs(limit=None)
        counts = store.task_counts([r.id for r in runs])
    assert len(runs) == RUNS
    assert {r.status for r in runs} == {"succeeded"}
    assert all(counts[r.id] == {"succeeded": 3} for r in runs)
