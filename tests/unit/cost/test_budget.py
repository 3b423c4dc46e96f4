"""Projection, budgets and the annotate hook, on plans compiled from real manifests and run by
the real engine over the FakeExecutor (scripted durations: no process is needed to price)."""

from __future__ import annotations

from pathlib import Path

import pytest

from psr_engine.cost import (
    BudgetExceeded,
    check_budget_before_run,
    projection,
    projection_text,
)
from psr_engine.errors import GateBlocked

GIB = 2**30

# Own rates make the hand arithmetic easy: one vCPU-hour 0.36, one GiB-hour 0.036.
MANIFEST = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {{name: priced, labels: {{team: data}}}}
spec:
  concurrency: 1
  defaults: {{resources: {{cpu: 1, memory: 1Gi}}}}
  cost: {{provider: static, rates: {{vcpuHour: 0.36, gibHour: 0.036}}, budget: {budget}}}
  tasks:
    a: {{run: step-a, timeout: 1h}}
    b: {{run: step-b, needs: [a], timeout: 30m}}
    c: {{run: step-c, needs: [b]}}
"""


def plan_with(compile_manifest, budget: str = "{limit: 100}"):
    return compile_manifest(MANIFEST.format(budget=budget))


def test_projection_without_history_uses_timeouts_as_an_upper_bound(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest)
    projected = projection(plan, str(tmp_path / "none"))
    by_task = {t.id: t for t in projected.tasks}
    # a: 1 h x (0.36 + 0.036) = 0.396; b: 0.5 h -> 0.198; c: no timeout, no history
    assert by_task["a"].reserved == pytest.approx(0.396)
    assert by_task["b"].reserved == pytest.approx(0.198)
    assert by_task["a"].basis == "timeout"
    assert by_task["c"].basis == "unknown"
    assert projected.total == pytest.approx(0.594)
    assert projected.upper_bound and projected.unknown == ("c",)
    text = projection_text(projected)
    assert "timeout: upper bound" in text and "total 0.5940 USD (upper bound)" in text
    assert "budget 100.0000 USD for this run (warn): within" in text


def test_fail_budget_below_the_projection_blocks_with_exit_3(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest, "{limit: 0.5, action: fail}")
    projected = projection(plan, str(tmp_path))
    with pytest.raises(BudgetExceeded, match="over its budget") as caught:
        check_budget_before_run(plan, projected)
    assert isinstance(caught.value, GateBlocked) and caught.value.exit_code == 3


def test_warn_budget_below_the_projection_only_warns(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest, "{limit: 0.5, action: warn}")
    warnings: list[str] = []
    check_budget_before_run(plan, projection(plan, str(tmp_path)), warn=warnings.append)
    assert len(warnings) == 1 and "0.5940 USD" in warnings[0]


def test_budget_within_the_projection_says_nothing(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest, "{limit: 1, action: fail}")
    warnings: list[str] = []
    check_budget_before_run(plan, projection(plan, str(tmp_path)), warn=warnings.append)
    assert warnings == []


def test_each_finished_task_carries_its_cost(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest)
    result, recorder = run_plan(
        plan,
        {"*step-a*": measured(1800, cpu_s=900, rss=GIB // 2), "*": measured(360)},
        state_dir=str(tmp_path / ".psr"),
    )
    assert result.status == "succeeded"
    costs = {task: e.data["cost"] for task, e in recorder.finished().items()}
    # a: 0.5 h x 0.396 = 0.198 reserved; used 0.25 h x 0.36 + 0.5 h x 0.5 x 0.036 = 0.099
    assert costs["a"]["reserved"] == pytest.approx(0.198)
    assert costs["a"]["used"] == pytest.approx(0.099)
    # b and c: 0.1 h x 0.396 = 0.0396 each
    assert costs["c"]["reserved"] == pytest.approx(0.0396)
    assert costs["c"]["runReserved"] == pytest.approx(0.198 + 2 * 0.0396)
    assert costs["a"]["currency"] == "USD" and costs["a"]["rates"] == "rates"


def test_a_fail_budget_crossed_while_running_cancels_the_rest(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest, "{limit: 0.7, action: fail}")
    warnings: list[str] = []
    # The projection (0.594, c unknown) is within 0.7; a alone then costs 2 h x 0.396 = 0.792.
    projected = projection(plan, str(tmp_path))
    check_budget_before_run(plan, projected)
    result, recorder = run_plan(
        plan,
        {"*step-a*": measured(7200)},
        state_dir=str(tmp_path / ".psr"),
        projected=projected,
        warnings=warnings,
    )
    assert result.status == "failed" and result.reason == "budget"
    assert result.tasks["a"].status == "succeeded"
    assert {result.tasks[t].status for t in ("b", "c")} == {"cancelled"}
    assert {result.tasks[t].reason for t in ("b", "c")} == {"budget"}
    budget = recorder.finished()["a"].data["cost"]["budget"]
    assert budget["exceeded"] and budget["spent"] == pytest.approx(0.792)
    assert "cancelling the remaining tasks" in warnings[0]
    finished = next(e for e in recorder.events if e.type == "run.finished")
    assert finished.reason == "budget"


def test_a_warn_budget_crossed_while_running_reports_and_goes_on(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    plan = plan_with(compile_manifest, "{limit: 0.7, action: warn}")
    warnings: list[str] = []
    result, recorder = run_plan(
        plan, {"*step-a*": measured(7200)}, state_dir=str(tmp_path / ".psr"), warnings=warnings
    )
    assert result.status == "succeeded"
    assert len(warnings) == 1 and "over its budget" in warnings[0]
    assert recorder.finished()["c"].data["cost"]["budget"]["exceeded"]


def test_no_cost_settings_no_hook_no_projection(
    compile_manifest, measured, run_plan, tmp_path: Path
) -> None:
    from psr_engine.cost import annotator

    plan = compile_manifest(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: free}\n"
        "spec: {tasks: {a: {run: x}}}\n"
    )
    assert annotator(plan) is None
    assert projection(plan, str(tmp_path)) is None
    check_budget_before_run(plan, None)
