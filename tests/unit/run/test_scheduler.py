"""The scheduler in process, on the FakeExecutor: order, triggers, retries, timeouts,
cancellation, capacity, concurrency, maxParallel and onExit, in milliseconds and with no
process started. The end-to-end tests (tests/e2e/apply) run the same rules through the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from core_factory import Recorder, planned

from psr_engine.executors.base import ProcessResult, ProcessSpec
from psr_engine.executors.fake import FakeExecutor
from psr_engine.run.engine import WorkflowEngine
from psr_engine.units import Resources, RetryPolicy

pytestmark = pytest.mark.anyio


def engine_for(fake: FakeExecutor, recorder: Recorder, tmp_path: Path, **options) -> WorkflowEngine:
    return WorkflowEngine(
        executor=fake, sinks=[recorder], state_dir=str(tmp_path / ".psr"), **options
    )


class Busy:
    """An async FakeExecutor script: each attempt takes 10 ms; `peak` is the most that ran at
    once."""

    def __init__(self) -> None:
        self.running = self.peak = 0

    async def __call__(self, spec: ProcessSpec) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await anyio.sleep(0.01)
        self.running -= 1
        return 0


def result(code: int = 0, *, timed_out: bool = False, duration: float = 0.0) -> ProcessResult:
    return ProcessResult(code, None, timed_out, 0.0, duration, 0.0, 0.0, 0, 1)


async def test_tasks_start_after_their_needs_in_plan_order(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("extract"),
        planned("transform", needs=("extract",)),
        planned("audit"),
        planned("load", needs=("transform", "audit")),
    )
    outcome = await engine_for(FakeExecutor(), recorder, tmp_path).run(plan)
    assert outcome.status == "succeeded"
    order = recorder.started_order()
    assert order.index("extract") < order.index("transform") < order.index("load")
    assert order.index("audit") < order.index("load")
    assert [e.task for e in recorder.of("task.finished")][-1] == "load"


async def test_a_failure_skips_what_needs_it_and_fails_the_run(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("a", run="fail-here"),
        planned("b", needs=("a",)),
        planned("c", needs=("b",)),
        planned("cleanup", needs=("a",), trigger="all_done"),
        planned("alert", needs=("a",), trigger="one_failed"),
    )
    outcome = await engine_for(FakeExecutor({"*fail-here": 2}), recorder, tmp_path).run(plan)
    statuses = {k: (r.status, r.reason) for k, r in outcome.tasks.items()}
    assert statuses["a"] == ("failed", "exit code 2")
    assert statuses["b"] == ("skipped", "upstream_failed")
    assert statuses["c"] == ("skipped", "upstream_failed")  # the skip carries the failure on
    assert statuses["cleanup"][0] == "succeeded"
    assert statuses["alert"][0] == "succeeded"
    assert outcome.status == "failed" and outcome.exit_code == 1


async def test_continue_on_error_counts_as_success_downstream(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("flaky", run="boom", continue_on_error=True), planned("next", needs=("flaky",))
    )
    outcome = await engine_for(FakeExecutor({"*boom": 1}), recorder, tmp_path).run(plan)
    assert outcome.tasks["flaky"].status == "failed"
    assert outcome.tasks["next"].status == "succeeded"
    assert outcome.status == "succeeded"


async def test_a_failed_attempt_is_retried_up_to_the_limit(plan_of, recorder, tmp_path):
    calls: list[int] = []

    def twice_then_ok(spec: ProcessSpec) -> int:
        calls.append(int(spec.env["PSR_ATTEMPT"]))
        return 1 if len(calls) < 3 else 0

    retries = RetryPolicy(limit=3, delay=0.0)
    plan = plan_of(planned("t", run="flaky", retries=retries))
    outcome = await engine_for(FakeExecutor({"*": twice_then_ok}), recorder, tmp_path).run(plan)
    assert calls == [1, 2, 3]
    assert outcome.tasks["t"].status == "succeeded" and outcome.tasks["t"].attempts == 3
    assert [e.attempt for e in recorder.of("task.retrying")] == [1, 2]


async def test_retries_stop_at_the_limit_and_only_for_the_listed_exit_codes(
    plan_of, recorder, tmp_path
):
    plan = plan_of(
        planned("limited", run="always-3", retries=RetryPolicy(limit=2, delay=0.0)),
        planned("other-code", run="always-4", retries=RetryPolicy(limit=2, delay=0.0, on=(3,))),
    )
    fake = FakeExecutor({"*always-3*": 3, "*always-4*": 4})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert outcome.tasks["limited"].attempts == 3
    assert outcome.tasks["other-code"].attempts == 1  # 4 is not in retries.on


async def test_a_timed_out_attempt_is_retried_only_with_on_timeout(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("a", run="slow-a", retries=RetryPolicy(limit=1, delay=0.0)),
        planned("b", run="slow-b", retries=RetryPolicy(limit=1, delay=0.0, on_timeout=True)),
    )
    fake = FakeExecutor({"*slow*": lambda spec: result(124, timed_out=True)})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert (outcome.tasks["a"].status, outcome.tasks["a"].reason) == ("timed_out", "timeout")
    assert outcome.tasks["a"].attempts == 1
    assert outcome.tasks["b"].attempts == 2


async def test_attempt_durations_are_summed_on_the_task_and_kept_apart_per_attempt(
    plan_of, recorder, tmp_path
):
    codes = iter([1, 0])
    fake = FakeExecutor({"*": lambda spec: result(next(codes), duration=0.25)})
    plan = plan_of(planned("t", retries=RetryPolicy(limit=1, delay=0.0)))
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert outcome.tasks["t"].duration == pytest.approx(0.5)
    [retrying] = recorder.of("task.retrying")
    [finished] = recorder.of("task.finished")
    assert retrying.attempt_duration_s == pytest.approx(0.25)
    assert finished.duration_s == pytest.approx(0.5)
    assert finished.attempt_duration_s == pytest.approx(0.25)


async def test_concurrency_bounds_how_many_run_at_once(plan_of, recorder, tmp_path):
    busy = Busy()

    plan = plan_of(*(planned(f"t{i}") for i in range(6)), concurrency=2)
    await engine_for(FakeExecutor({"*": busy}), recorder, tmp_path).run(plan)
    assert busy.peak == 2


async def test_max_parallel_bounds_the_instances_of_one_matrix_task(plan_of, recorder, tmp_path):
    running: dict[str, int] = {"m": 0, "other": 0}
    peak: dict[str, int] = {"m": 0, "other": 0}

    async def busy(spec: ProcessSpec) -> int:
        name = spec.env["PSR_TASK_NAME"]
        running[name] += 1
        peak[name] = max(peak[name], running[name])
        await anyio.sleep(0.01)
        running[name] -= 1
        return 0

    instances = [planned(f"m[i={i}]", task="m", matrix={"i": i}, max_parallel=2) for i in range(5)]
    plan = plan_of(*instances, planned("other"), concurrency=8)
    outcome = await engine_for(FakeExecutor({"*": busy}), recorder, tmp_path).run(plan)
    assert outcome.status == "succeeded"
    assert peak["m"] == 2
    assert recorder.of("task.started")[0].data == {"matrix": {"i": 0}}


async def test_cpu_capacity_holds_back_what_does_not_fit(plan_of, recorder, tmp_path):
    busy = Busy()

    heavy = Resources(cpu=2)
    plan = plan_of(
        *(planned(f"t{i}", resources=heavy) for i in range(4)),
        capacity=Resources(cpu=4, memory=2**30),
    )
    await engine_for(FakeExecutor({"*": busy}), recorder, tmp_path).run(plan)
    assert busy.peak == 2  # 2 + 2 cpu fill the capacity of 4


async def test_a_false_condition_skips_the_task_and_what_needs_it(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("a", when="${{ 1 == 2 }}"),
        planned("b", needs=("a",)),
        planned("c", needs=("a",), trigger="none_failed"),
    )
    outcome = await engine_for(FakeExecutor(), recorder, tmp_path).run(plan)
    assert (outcome.tasks["a"].status, outcome.tasks["a"].reason) == ("skipped", "condition")
    assert (outcome.tasks["b"].status, outcome.tasks["b"].reason) == ("skipped", "upstream_skipped")
    assert outcome.tasks["c"].status == "succeeded"
    assert outcome.status == "succeeded"


async def test_outputs_flow_to_the_tasks_that_need_them(plan_of, recorder, tmp_path):
    def writes_rows(spec: ProcessSpec) -> int:
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write("rows=42\n")
        return 0

    plan = plan_of(
        planned("extract", run="extract"),
        planned("load", run="load ${{ tasks.extract.outputs.rows }}", needs=("extract",)),
    )
    fake = FakeExecutor({"*extract": writes_rows})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert outcome.tasks["extract"].outputs == {"rows": "42"}
    assert fake.command_lines()[-1].endswith("load '42'")
    assert not os.path.exists(fake.calls[0].env["PSR_OUTPUT"])  # read, then removed


async def test_outputs_are_not_looked_for_when_the_executor_removed_the_file_empty(
    plan_of, recorder, tmp_path
):
    """private_files_gone: the executor saw $PSR_OUTPUT empty and removed it, so the scheduler
    does not open it again (fails before: the file written here was read and removed)."""

    def says_gone(spec: ProcessSpec) -> ProcessResult:
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write("rows=42\n")
        return ProcessResult(0, None, False, 0.0, 0.0, 0.0, 0.0, 0, 1, private_files_gone=True)

    plan = plan_of(planned("extract", run="extract"))
    fake = FakeExecutor({"*extract": says_gone})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert outcome.tasks["extract"].outputs == {}
    assert os.path.exists(fake.calls[0].env["PSR_OUTPUT"])  # never looked at


async def test_stop_cancels_running_attempts_and_still_runs_on_exit(plan_of, recorder, tmp_path):
    started = anyio.Event()

    async def hangs(spec: ProcessSpec) -> int:
        started.set()
        await anyio.sleep(60)
        return 0

    plan = plan_of(
        planned("long", run="hang"),
        planned("after", needs=("long",)),
        on_exit=(planned("cleanup", run="cleanup"),),
    )
    fake = FakeExecutor({"*hang": hangs})
    engine = engine_for(fake, recorder, tmp_path)

    async def stop_when_started() -> None:
        await started.wait()
        engine.stop("budget")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_when_started)
            outcome = await engine.run(plan)
    assert (outcome.tasks["long"].status, outcome.tasks["long"].reason) == ("cancelled", "budget")
    assert (outcome.tasks["after"].status, outcome.tasks["after"].reason) == ("cancelled", "budget")
    assert outcome.tasks["cleanup"].status == "succeeded"
    assert (outcome.status, outcome.reason) == ("failed", "budget")
    [finished] = recorder.of("run.finished")
    assert finished.reason == "budget"


async def test_on_exit_runs_after_a_failure_and_sees_the_run_status(plan_of, recorder, tmp_path):
    plan = plan_of(
        planned("a", run="bad"),
        on_exit=(planned("report", run="report ${{ run.status }}"),),
    )
    fake = FakeExecutor({"*bad": 1})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan)
    assert outcome.tasks["report"].status == "succeeded"
    assert outcome.tasks["report"].on_exit
    assert fake.command_lines()[-1].endswith("report 'failed'")
    assert outcome.status == "failed"  # onExit's success does not change the run's status


async def test_a_reused_result_is_recorded_without_running(plan_of, recorder, tmp_path):
    from psr_engine.run.results import TaskResult

    plan = plan_of(
        planned("a", run="first"),
        planned("b", run="second ${{ tasks.a.outputs.n }}", needs=("a",)),
    )
    earlier = TaskResult(id="a", task="a", status="succeeded", attempts=1, outputs={"n": "7"})
    fake = FakeExecutor()
    outcome = await engine_for(fake, recorder, tmp_path).run(plan, reuse={"a": earlier})
    assert fake.command_lines() == ["bash -eo pipefail -c second '7'"]
    assert (outcome.tasks["a"].status, outcome.tasks["a"].reason) == ("succeeded", "reused")


async def test_the_workflow_env_is_rendered_once_with_params_and_secrets(
    plan_of, recorder, tmp_path
):
    async def resolve(requests):
        return {"TOKEN": "s3cr3t"}

    from psr_engine.plan.model import SecretRequest

    env = {"AUTH": "Bearer ${{ secrets.TOKEN }}", "WHO": "${{ params.who }}"}
    plan = plan_of(
        planned("a", env={**env, "OWN": "${{ env.WHO }}!"}, secrets=("TOKEN",)),
        env=env,
        params={"who": "world"},
        secrets=(SecretRequest("TOKEN", "env", {"name": "T"}),),
    )
    fake = FakeExecutor()
    engine = engine_for(fake, recorder, tmp_path, secrets_resolver=resolve)
    outcome = await engine.run(plan)
    assert outcome.status == "succeeded"
    [spec] = fake.calls
    assert spec.env["AUTH"] == "Bearer s3cr3t"
    assert spec.env["WHO"] == "world"
    assert spec.env["OWN"] == "world!"


async def test_stream_events_yields_the_run_as_it_happens(plan_of, recorder, tmp_path):
    plan = plan_of(planned("a"), planned("b", needs=("a",)))
    engine = engine_for(FakeExecutor(), recorder, tmp_path)
    seen = [(e.type, e.task) async for e in engine.stream_events(plan)]
    assert seen[0] == ("run.started", None)
    assert ("task.finished", "b") in seen
    assert seen[-1] == ("run.finished", None)


def test_resolve_dependencies_gives_levels_and_refuses_a_cycle():
    from psr_engine.errors import CycleError

    engine = WorkflowEngine(executor=FakeExecutor())
    tasks = [planned("c", needs=("a", "b")), planned("a"), planned("b", needs=("a",))]
    assert engine.resolve_dependencies(tasks).levels == (("a",), ("b",), ("c",))
    with pytest.raises(CycleError):
        engine.resolve_dependencies([planned("x", needs=("y",)), planned("y", needs=("x",))])


async def test_execute_parallel_runs_the_given_tasks_only(recorder, tmp_path):
    fake = FakeExecutor({"*bad": 1})
    engine = engine_for(fake, recorder, tmp_path)
    results = await engine.execute_parallel(
        [planned("one"), planned("two", run="bad", needs=("one", "elsewhere"))]
    )
    assert [(r.id, r.status) for r in results] == [("one", "succeeded"), ("two", "failed")]


def gate(name: str):
    from psr_engine.plan.model import PlannedGate

    return PlannedGate(name=name, type="secrets")


class Gates:
    """A gate runner (what the facade lends the engine) that passes or blocks by name."""

    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked
        self.ran: list[str] = []

    async def __call__(self, planned_gate):
        from psr_engine.run.gating import GateOutcome

        self.ran.append(planned_gate.name)
        status = "blocked" if planned_gate.name in self.blocked else "passed"
        return GateOutcome(planned_gate.name, status, counts={"high": 1}, message=status)


async def test_a_blocking_spec_gate_ends_the_run_before_any_task(plan_of, recorder, tmp_path):
    plan = plan_of(planned("a"), gates=(gate("secrets"), gate("code")))
    gates = Gates({"code"})
    fake = FakeExecutor()
    outcome = await engine_for(fake, recorder, tmp_path, gate_runner=gates).run(plan)
    assert sorted(gates.ran) == ["code", "secrets"]
    assert (outcome.status, outcome.reason, outcome.exit_code) == (
        "blocked",
        "blocked by gate code",
        3,
    )
    assert fake.calls == [] and outcome.tasks == {}
    [finished] = recorder.of("run.finished")
    assert [g["gate"] for g in finished.data["gates"]] == ["secrets", "code"]


async def test_a_gate_task_blocks_only_its_branch(plan_of, recorder, tmp_path):
    from dataclasses import replace

    check = replace(planned("check", needs=("build",)), kind="gate", gate=gate("check"))
    plan = plan_of(planned("build"), check, planned("publish", needs=("check",)), planned("docs"))
    outcome = await engine_for(
        FakeExecutor(), recorder, tmp_path, gate_runner=Gates({"check"})
    ).run(plan)
    assert (outcome.tasks["check"].status, outcome.tasks["check"].reason) == (
        "failed",
        "gate blocked",
    )
    assert outcome.tasks["publish"].reason == "upstream_failed"
    assert outcome.tasks["docs"].status == "succeeded"
    assert outcome.status == "failed"


async def test_a_sub_workflow_runs_its_plan_under_the_parent_task(plan_of, recorder, tmp_path):
    from dataclasses import replace

    from core_factory import plan_with

    child = plan_with(str(tmp_path / "child.yaml"), planned("inner", run="inner ${{ params.n }}"))
    loaded: list[tuple[str, dict]] = []

    def loader(path: str, params):
        loaded.append((path, dict(params)))
        return replace(child, params=dict(params))

    step = replace(
        planned("etl"), kind="workflow", command="child.yaml", with_={"n": "${{ 6 * 7 }}"}
    )
    fake = FakeExecutor()
    engine = engine_for(fake, recorder, tmp_path, plan_loader=loader)
    outcome = await engine.run(plan_of(step))
    assert loaded == [("child.yaml", {"n": 42})]
    assert outcome.tasks["etl"].status == "succeeded"
    assert fake.command_lines() == ["bash -eo pipefail -c inner '42'"]
    assert "etl/inner" in [e.task for e in recorder.of("task.finished")]


async def test_a_command_that_cannot_render_fails_with_reason_expression(
    plan_of, recorder, tmp_path
):
    plan = plan_of(planned("a", run="echo ${{ tasks.nope.outputs.x.y }}"))
    outcome = await engine_for(FakeExecutor(), recorder, tmp_path).run(plan)
    assert (outcome.tasks["a"].status, outcome.tasks["a"].reason) == ("failed", "expression")


async def test_a_matrix_task_is_seen_whole_by_what_needs_it(plan_of, recorder, tmp_path):
    def writes(spec: ProcessSpec) -> int:
        region = spec.env["PSR_TASK"].split("=")[1].rstrip("]")
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write(f"rows_{region}=1\n")
        return 1 if region == "us" else 0

    instances = [
        planned(f"m[r={r}]", task="m", run=f"m {r}", matrix={"r": r}, continue_on_error=True)
        for r in ("eu", "us")
    ]
    report = planned(
        "report",
        run="report ${{ tasks.m.status }} ${{ tasks.m.outputs.rows_eu }} "
        "${{ tasks.m.results | length }}",
        needs=("m[r=eu]", "m[r=us]"),
    )
    fake = FakeExecutor({"*m *": writes})
    outcome = await engine_for(fake, recorder, tmp_path).run(plan_of(*instances, report))
    assert outcome.tasks["report"].status == "succeeded"
    assert fake.command_lines()[-1].endswith("report 'failed' '1' '2'")


async def test_an_unchanged_cached_task_is_not_run_again(plan_of, recorder, tmp_path):
    (tmp_path / "in.txt").write_text("data")

    def build(spec: ProcessSpec) -> int:
        (tmp_path / "out.txt").write_text("built")
        with open(spec.env["PSR_OUTPUT"], "a") as out:
            out.write("size=4\n")
        return 0

    task = planned(
        "build",
        run="build",
        workdir=str(tmp_path),
        cache={"inputs": ("in.txt",), "outputs": ("out.txt",)},
    )
    fake = FakeExecutor({"*build": build})
    first = await engine_for(fake, recorder, tmp_path).run(plan_of(task))
    second = await engine_for(fake, recorder, tmp_path).run(plan_of(task))
    assert len(fake.calls) == 1
    assert (second.tasks["build"].status, second.tasks["build"].reason) == ("succeeded", "cached")
    assert second.tasks["build"].outputs == first.tasks["build"].outputs == {"size": "4"}
    (tmp_path / "in.txt").write_text("changed")
    await engine_for(fake, recorder, tmp_path).run(plan_of(task))
    assert len(fake.calls) == 2


async def test_an_executors_peak_memory_is_kept_however_large_the_engine_grew(
    plan_of, recorder, tmp_path
):
    """The engine's own peak floors only what the local executor measures (a child inherits
    its parent's high-water mark at exec); a fake or remote executor's figure is its own. It
    was floored in the scheduler, so a 1 MiB figure vanished whenever the engine's (here, the
    test process's) peak was larger, which made a cost test fail in the full suite."""

    def small(spec: ProcessSpec) -> ProcessResult:
        return ProcessResult(0, None, False, 0.0, 1.0, 0.1, 0.0, 2**20, 1)

    plan = plan_of(planned("a"))
    outcome = await engine_for(FakeExecutor({"*": small}), recorder, tmp_path).run(plan)
    assert outcome.status == "succeeded"
    assert recorder.finished()["a"].max_rss_bytes == 2**20
