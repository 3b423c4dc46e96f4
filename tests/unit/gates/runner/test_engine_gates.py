"""Gates inside a run, with the real runner lent to WorkflowEngine as the facade will lend it."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

from psr_engine import api
from psr_engine.gates.runner import run_gate
from psr_engine.run.engine import WorkflowEngine
from psr_engine.run.gating import GateOutcome


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.events = []

    async def start(self) -> None:
        pass

    def emit(self, event) -> None:
        self.events.append(event)

    async def aclose(self) -> None:
        pass


def run_manifest(project: Path, body: str):
    path = project / "workflow.yaml"
    path.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: gated}\nspec:\n"
        + textwrap.indent(textwrap.dedent(body).strip(), "  ")
        + "\n"
    )
    plan = api.make_plan(str(path))

    async def gate_runner(gate):
        report = await run_gate(gate, base_dir=str(project))
        return GateOutcome(**dataclasses.asdict(report))

    recorder = Recorder()
    engine = WorkflowEngine(
        sinks=[recorder], state_dir=str(project / ".psr"), gate_runner=gate_runner
    )
    return engine.run_sync(plan), recorder.events


def test_a_blocking_spec_gate_starts_no_task(project: Path) -> None:
    result, events = run_manifest(
        project,
        """
        gates:
          - {name: secrets, type: secrets, paths: [config], failOn: low}
        tasks:
          build: {run: touch built}
        """,
    )
    assert result.status == "blocked"
    assert result.reason == "blocked by gate secrets"
    assert not (project / "built").exists()
    assert not [e for e in events if e.type == "task.started"]
    (finished,) = [e for e in events if e.type == "gate.finished"]
    assert finished.status == "blocked"
    assert "config/settings.env:1" in finished.message


def test_a_report_only_gate_lets_the_run_proceed(project: Path) -> None:
    result, events = run_manifest(
        project,
        """
        gates:
          - {name: secrets, type: secrets, paths: [config], failOn: never}
        tasks:
          build: {run: touch built}
        """,
    )
    assert result.status == "succeeded"
    assert (project / "built").exists()
    (finished,) = [e for e in events if e.type == "gate.finished"]
    assert finished.status == "passed" and finished.data["counts"]["critical"] == 1


def test_a_gate_that_cannot_scan_blocks_the_run(project: Path) -> None:
    result, _ = run_manifest(
        project,
        """
        gates:
          - {name: deps, type: dependencies, requirements: [requirements.txt]}
        tasks:
          build: {run: touch built}
        """,
    )
    assert result.status == "blocked"
    assert not (project / "built").exists()


def test_a_blocking_gate_task_fails_its_branch_only(project: Path) -> None:
    result, events = run_manifest(
        project,
        """
        tasks:
          scan:
            gate: {type: secrets, paths: [config], failOn: low}
          deploy: {needs: [scan], run: touch deployed}
          docs: {run: touch docs}
        """,
    )
    assert result.status == "failed"
    assert result.tasks["scan"].status == "failed"
    assert result.tasks["scan"].reason == "gate blocked"
    assert result.tasks["deploy"].status == "skipped"
    assert result.tasks["deploy"].reason == "upstream_failed"
    assert result.tasks["docs"].status == "succeeded"
    assert not (project / "deployed").exists()
    (gate_finished,) = [e for e in events if e.type == "gate.finished" and e.task == "scan"]
    assert gate_finished.status == "blocked"
    (task_finished,) = [e for e in events if e.type == "task.finished" and e.task == "scan"]
    assert "config/settings.env:1" in (task_finished.message or "")


def test_a_passing_gate_task_lets_its_dependents_run(project: Path) -> None:
    result, _ = run_manifest(
        project,
        """
        tasks:
          scan:
            gate: {type: dependencies, osvDb: osv, failOn: critical}
          deploy: {needs: [scan], run: touch deployed}
        """,
    )
    assert result.status == "succeeded", result.tasks["scan"]
    assert (project / "deployed").exists()
