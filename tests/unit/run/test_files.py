"""Declared files (`inputs`, `artifacts`): the bounded glob every file rule uses, what an
attempt needs on a worker without the engine's folders, and a success that did not deliver
what the task declares, caught at once and the same on every executor."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from core_factory import Recorder, plan_with, planned

from psr_engine.executors.base import ProcessSpec
from psr_engine.executors.fake import FakeExecutor
from psr_engine.globs import matching_files
from psr_engine.run.engine import WorkflowEngine
from psr_engine.run.files import attempt_files


def _tree(root: Path, *paths: str) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(path)


def _names(root: Path, pattern: str) -> list[str]:
    return [os.path.relpath(p, root) for p in matching_files(str(root), pattern)]


def test_globs_match_regular_files_like_a_shell_and_spare_hidden_ones(tmp_path):
    _tree(tmp_path, "a.txt", "d/b.txt", "d/e/c.txt", ".hidden.txt", ".git/x.txt", "d/e/f.csv")
    assert _names(tmp_path, "*.txt") == ["a.txt"]
    assert _names(tmp_path, "**/*.txt") == ["a.txt", "d/b.txt", "d/e/c.txt"]
    assert _names(tmp_path, "d/*") == ["d/b.txt"]
    assert _names(tmp_path, "d/**") == ["d/b.txt", "d/e/c.txt", "d/e/f.csv"]
    assert _names(tmp_path, "d/[ab].txt") == ["d/b.txt"]
    assert _names(tmp_path, ".hidden.txt") == [".hidden.txt"]


def test_a_symlink_loop_and_a_fifo_do_not_hang_or_match(tmp_path):
    _tree(tmp_path, "d/a.txt")
    os.symlink(tmp_path, tmp_path / "d" / "loop")  # an ancestor: following it never ends
    os.mkfifo(tmp_path / "pipe.txt")  # opening it to read would block forever
    assert _names(tmp_path, "**/*.txt") == ["d/a.txt"]
    assert _names(tmp_path, "*.txt") == []


def test_an_attempt_gets_its_script_inputs_and_upstream_artifacts(tmp_path):
    _tree(tmp_path, "run.py", "data/in.csv", "data/other.bin", "parts/p1.json", "parts/p2.json")
    make = planned("make", workdir=str(tmp_path), artifacts=("parts/*.json",))
    task = planned(
        "use",
        workdir=str(tmp_path),
        inputs=("data/*.csv",),
        artifacts=("out/*.txt",),
        needs=("make",),
    )
    task = replace(task, kind="python", command=str(tmp_path / "run.py"))
    files = attempt_files(task, [make])
    assert files.root == str(tmp_path)
    assert files.send == ("run.py", "data/in.csv", "parts/p1.json", "parts/p2.json")
    assert files.collect == ("out/*.txt",)


def test_a_file_outside_the_task_folder_cannot_be_shipped(tmp_path):
    _tree(tmp_path, "outside.txt", "task/x")
    task = planned("t", workdir=str(tmp_path / "task"), inputs=("../outside.txt",))
    with pytest.raises(ValueError, match="outside the task's folder"):
        attempt_files(task, [])


@pytest.mark.anyio
async def test_a_declared_artifact_not_written_fails_the_task_naming_it(tmp_path):
    recorder = Recorder()
    task = planned("make", workdir=str(tmp_path), artifacts=("report.txt",))
    later = planned("later", needs=("make",))
    engine = WorkflowEngine(
        executor=FakeExecutor({"*": 0}), sinks=[recorder], state_dir=str(tmp_path / ".psr")
    )
    outcome = await engine.run(plan_with(str(tmp_path / "w.yaml"), task, later))
    made = outcome.tasks["make"]
    assert (made.status, made.reason) == ("failed", "artifacts")
    finished = [e for e in recorder.events if e.type == "task.finished" and e.task == "make"]
    assert "task make did not write the artifacts it declares: no file matches report.txt" in (
        finished[0].message or ""
    )
    assert outcome.tasks["later"].status == "skipped"


@pytest.mark.anyio
async def test_a_declared_output_not_written_fails_the_task_naming_it(tmp_path):
    def writes_one(spec: ProcessSpec) -> int:
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write("rows=3\n")
        return 0

    task = planned("count", workdir=str(tmp_path), outputs=("rows", "bytes"))
    engine = WorkflowEngine(
        executor=FakeExecutor({"*": writes_one}), sinks=[], state_dir=str(tmp_path / ".psr")
    )
    outcome = await engine.run(plan_with(str(tmp_path / "w.yaml"), task))
    counted = outcome.tasks["count"]
    assert (counted.status, counted.reason) == ("failed", "outputs")


@pytest.mark.anyio
async def test_written_artifacts_and_outputs_succeed(tmp_path):
    def writes(spec: ProcessSpec) -> int:
        (tmp_path / "report.txt").write_text("ok")
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write("rows=3\n")
        return 0

    task = planned("make", workdir=str(tmp_path), artifacts=("*.txt",), outputs=("rows",))
    engine = WorkflowEngine(
        executor=FakeExecutor({"*": writes}), sinks=[], state_dir=str(tmp_path / ".psr")
    )
    outcome = await engine.run(plan_with(str(tmp_path / "w.yaml"), task))
    assert outcome.tasks["make"].status == "succeeded"
