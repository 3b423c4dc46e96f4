"""The history sink records runs, tasks and attempts from a real engine run."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from psr_engine import api
from psr_engine.errors import StateNotWritable
from psr_engine.events.model import Event
from psr_engine.events.sinks.history import HistorySink
from psr_engine.run.engine import WorkflowEngine
from psr_engine.run.resume import history_sink
from psr_engine.store import RunStore

FLOW = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: recorded, labels: {team: data}}
spec:
  tasks:
    flaky:
      retries: {limit: 2, delay: 0}
      run: |
        echo attempt-$PSR_ATTEMPT
        echo x >> tries
        [ "$(wc -l < tries)" -ge 2 ]
    produce:
      run: echo "token=$TOKEN" >> $PSR_OUTPUT; echo "rows=5" >> $PSR_OUTPUT
    broken:
      run: echo boom; exit 3
    after:
      needs: [broken]
      run: echo never
    fan:
      matrix: {n: [1, 2]}
      run: echo ${{ matrix.n }}
"""


def _run(manifest: Path, state_dir: Path, **engine_options):
    plan = api.make_plan(str(manifest))
    sink = history_sink(plan, state_dir=str(state_dir))
    engine = WorkflowEngine(sinks=[sink], state_dir=str(state_dir), **engine_options)
    return engine.run_sync(plan)


def test_a_run_is_recorded_with_its_tasks_attempts_and_outputs(
    write_manifest: Callable[[str], Path], state_dir: Path
) -> None:
    result = _run(write_manifest(FLOW), state_dir)
    with RunStore.open(str(state_dir)) as store:
        run = store.run(result.run_id)
        tasks = {t.id: t for t in store.tasks(run.id)}
        flaky_attempts = store.attempts(run.id, "flaky")

    assert run.status == "failed"
    assert run.workflow == "recorded"
    assert run.labels == {"team": "data"}
    assert run.pid == os.getpid()
    assert run.counts == {"succeeded": 4, "failed": 1, "skipped": 1}
    assert run.ended_at is not None and run.ended_at >= run.started_at
    assert run.run_dir == str(state_dir / "runs" / run.id)

    assert [t.id for t in tasks.values()] == [
        "flaky",
        "produce",
        "broken",
        "after",
        "fan[n=1]",
        "fan[n=2]",
    ]
    assert (tasks["flaky"].status, tasks["flaky"].attempts) == ("succeeded", 2)
    assert [(a.attempt, a.status, a.exit_code) for a in flaky_attempts] == [
        (1, "failed", 1),
        (2, "succeeded", 0),
    ]
    logs = [Path(a.log_path or "").read_text() for a in flaky_attempts]
    assert logs == ["attempt-1\n", "attempt-2\n"]
    assert tasks["flaky"].log_path == flaky_attempts[-1].log_path
    assert (tasks["broken"].status, tasks["broken"].exit_code) == ("failed", 3)
    assert (tasks["after"].status, tasks["after"].reason) == ("skipped", "upstream_failed")
    assert tasks["produce"].outputs["rows"] == "5"
    assert tasks["fan[n=2]"].task == "fan"
    assert tasks["fan[n=2]"].matrix == {"n": 2}
    assert all(t.digest for t in tasks.values())


def test_secrets_in_outputs_are_recorded_masked(
    write_manifest: Callable[[str], Path], state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_TOKEN", "s3cr3t-value-42")
    flow = FLOW.replace(
        "  tasks:\n", "  secrets:\n    TOKEN: {provider: env, name: MY_TOKEN}\n  tasks:\n", 1
    ).replace('"token=$TOKEN"', "token=${{ secrets.TOKEN }}")
    result = _run(write_manifest(flow), state_dir)
    with RunStore.open(str(state_dir)) as store:
        produce = {t.id: t for t in store.tasks(result.run_id)}["produce"]
    assert produce.outputs["token"]
    assert "s3cr3t-value-42" not in produce.outputs["token"]
    assert b"s3cr3t-value-42" not in (state_dir / "runs.db").read_bytes()


@pytest.mark.anyio
async def test_an_engine_that_stops_without_run_finished_leaves_a_crashed_run(
    state_dir: Path,
) -> None:
    sink = HistorySink(state_dir=str(state_dir))
    await sink.start()
    sink.emit(Event("run.started", "r1", "flow", data={"runDir": str(state_dir / "runs/r1")}))
    sink.emit(Event("task.started", "r1", "flow", task="a", attempt=1, status="running"))
    await sink.aclose()
    with RunStore.open(str(state_dir)) as store:
        assert store.run("r1").status == "crashed"
        assert [(t.id, t.status) for t in store.tasks("r1")] == [("a", "crashed")]


@pytest.mark.anyio
async def test_gate_results_are_recorded(state_dir: Path) -> None:
    sink = HistorySink(state_dir=str(state_dir))
    await sink.start()
    sink.emit(Event("run.started", "r1", "flow", data={"runDir": str(state_dir / "runs/r1")}))
    sink.emit(Event("gate.started", "r1", "flow", task="code", status="running"))
    findings = [{"rule": "B602", "severity": "high"}]
    sink.emit(
        Event(
            "gate.finished",
            "r1",
            "flow",
            task="code",
            status="blocked",
            data={"counts": {"high": 1, "low": 0}, "findings": findings},
        )
    )
    sink.emit(Event("run.finished", "r1", "flow", status="blocked"))
    await sink.aclose()
    with RunStore.open(str(state_dir)) as store:
        assert store.run("r1").status == "blocked"
        (gate,) = store.gates("r1")
    assert (gate.gate, gate.status, gate.counts) == ("code", "blocked", {"high": 1, "low": 0})
    assert gate.findings == findings
    assert gate.started_at is not None and gate.ended_at is not None


def test_a_history_that_cannot_be_written_stops_the_run_before_any_task(
    write_manifest: Callable[[str], Path], tmp_path: Path
) -> None:
    """Commit, then announce (issue 13 items 9 and Low): a run whose history cannot be
    written does not run on unrecorded. It used to succeed with a warning; a resume would
    then have run everything again."""
    plan = api.make_plan(
        str(
            write_manifest("""
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: fine}
        spec:
          tasks:
            a: {run: "true"}
    """)
        )
    )
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the database's folder should be")
    sink = HistorySink(str(blocked / "runs.db"))
    ran = tmp_path / "ran"
    engine = WorkflowEngine(sinks=[sink], state_dir=str(tmp_path / "state"))
    with pytest.raises(StateNotWritable, match="run history could not be written"):
        engine.run_sync(
            replace(plan, tasks=tuple(replace(t, command=f"touch {ran}") for t in plan.tasks))
        )
    assert not ran.exists()


def test_many_tasks_are_all_recorded(
    write_manifest: Callable[[str], Path], state_dir: Path
) -> None:
    from psr_engine.executors.fake import FakeExecutor

    tasks = "\n".join(f"    t{i}: {{run: 'true'}}" for i in range(300))
    manifest = write_manifest(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: wide}\n"
        f"spec:\n  tasks:\n{tasks}\n"
    )
    result = _run(manifest, state_dir, executor=FakeExecutor(), concurrency=8)
    with RunStore.open(str(state_dir)) as store:
        counts = store.task_counts([result.run_id])[result.run_id]
        assert store.run(result.run_id).status == "succeeded"
    assert counts == {"succeeded": 300}


def test_events_after_close_are_not_lost_before_aclose_returns(state_dir: Path) -> None:
    async def main() -> None:
        sink = HistorySink(state_dir=str(state_dir), batch_window_s=5.0)
        await sink.start()
        sink.emit(Event("run.started", "r1", "flow", data={"runDir": str(state_dir / "r")}))
        for i in range(50):
            sink.emit(Event("task.finished", "r1", "flow", task=f"t{i}", status="succeeded"))
        sink.emit(Event("run.finished", "r1", "flow", status="succeeded"))
        await sink.aclose()

    anyio.run(main)
    with RunStore.open(str(state_dir)) as store:
        assert len(store.tasks("r1")) == 50
        assert store.run("r1").status == "succeeded"


def test_the_plans_graph_is_recorded_per_task_needs_and_level(
    write_manifest: Callable[[str], Path], state_dir: Path
) -> None:
    """The dashboard draws a run's DAG from the history alone: each instance's needs and
    its level as the plan laid them out."""
    result = _run(write_manifest(FLOW), state_dir)
    with RunStore.open(str(state_dir)) as store:
        tasks = {t.id: t for t in store.tasks(result.run_id)}

    assert tasks["after"].needs == ("broken",)
    assert (tasks["broken"].level, tasks["after"].level) == (0, 1)
    assert tasks["fan[n=1]"].needs == ()
    assert tasks["after"].to_dict()["needs"] == ["broken"]


class _CheckCommitted:
    """A sink that, as each ending is announced to it, reads runs.db from a connection of its
    own: what it was told must already be there (commit, then announce)."""

    name = "probe"

    def __init__(self, db: Path) -> None:
        self.db = db
        self.seen: list[tuple[str, str | None, str | None]] = []

    async def start(self) -> None:
        return None

    def emit(self, event: Event) -> None:
        import sqlite3

        if event.type not in ("run.started", "task.finished", "run.finished"):
            return
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            if event.type == "task.finished":
                row = conn.execute(
                    "SELECT status FROM tasks WHERE run_id = ? AND task_id = ?",
                    (event.run_id, event.task),
                ).fetchone()
            else:
                row = conn.execute("SELECT status FROM runs WHERE id = ?", (event.run_id,))
                row = row.fetchone()
        finally:
            conn.close()
        self.seen.append((event.type, event.status, row[0] if row else None))

    async def aclose(self) -> None:
        return None


def test_every_ending_is_committed_before_any_other_sink_hears_of_it(
    write_manifest: Callable[[str], Path], state_dir: Path
) -> None:
    """Issue 13 item 9. Failed before: runs.db did not even exist when run.started was
    announced (the probe failed and was turned off: 0 of 23 endings seen), and a success
    could be printed while the history still said `running`."""
    manifest = write_manifest(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: durable}\nspec:\n"
        "  tasks:\n"
        + "".join(f"    t{i}: {{run: 'true'}}\n" for i in range(20))
        + "    bad: {run: 'exit 4'}\n"
    )
    plan = api.make_plan(str(manifest))
    probe = _CheckCommitted(state_dir / "runs.db")
    engine = WorkflowEngine(
        sinks=[history_sink(plan, state_dir=str(state_dir)), probe], state_dir=str(state_dir)
    )
    engine.run_sync(plan)
    assert len(probe.seen) == 23
    assert [s for s in probe.seen if s[2] != s[1]] == []
