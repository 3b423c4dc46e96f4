"""compile_plan on broken manifests: every problem reported at once, each at its line."""

from __future__ import annotations

import pytest
from plan_factory import FILE, manifest, plan_of, task, task_line

from psr_engine.errors import CycleError, PlanError
from psr_engine.units import Resources


def problems(m) -> list:
    with pytest.raises(PlanError) as caught:
        plan_of(m)
    return caught.value.diagnostics


def test_unknown_need_names_it_and_suggests_the_closest_task():
    [d] = problems(manifest(task("extract"), task("load", needs=["extrct"])))
    assert d.message == "task 'load' needs unknown task 'extrct'"
    assert d.hint == "did you mean 'extract'?"
    assert (d.file, d.line) == (FILE, task_line(1, "needs"))
    assert d.path == "spec.tasks.load.needs"
    assert str(d).startswith(f"{FILE}:{task_line(1, 'needs')}:5: task 'load' needs unknown")


def test_a_task_needing_itself_is_an_error():
    [d] = problems(manifest(task("a", needs=["a"])))
    assert d.message == "task 'a' needs itself"
    assert d.line == task_line(0, "needs")


def test_two_task_cycle_is_named():
    m = manifest(task("a", needs=["b"]), task("b", needs=["a"]))
    with pytest.raises(CycleError) as caught:
        plan_of(m)
    assert caught.value.cycle == ["a", "b", "a"]
    [d] = caught.value.diagnostics
    assert d.message == "needs form a cycle: a -> b -> a"
    assert d.line == task_line(0, "needs")


def test_three_task_cycle_is_named_from_its_first_task_in_manifest_order():
    m = manifest(
        task("start"),
        task("c", needs=["b", "start"]),
        task("a", needs=["c"]),
        task("b", needs=["a"]),
    )
    with pytest.raises(CycleError) as caught:
        plan_of(m)
    assert caught.value.cycle == ["c", "b", "a", "c"]
    assert "needs form a cycle: c -> b -> a -> c" in str(caught.value)
    assert caught.value.diagnostics[0].line == task_line(1, "needs")


def test_every_cycle_and_every_other_problem_is_reported_at_once():
    m = manifest(
        task("a", needs=["b"]),
        task("b", needs=["a"]),
        task("c", needs=["d"]),
        task("d", needs=["c", "nope"]),
        task("big", resources=Resources(cpu=64)),
        task("x", run="echo ${{ params.missing }}"),
    )
    with pytest.raises(CycleError) as caught:
        plan_of(m)
    messages = [d.message for d in caught.value.diagnostics]
    assert len(messages) == 5, messages
    assert "needs form a cycle: a -> b -> a" in messages
    assert "needs form a cycle: c -> d -> c" in messages
    assert any("unknown task 'nope'" in msg for msg in messages)
    assert any("requests 64 cpu" in msg for msg in messages)
    assert any("unknown param 'missing'" in msg for msg in messages)
    lines = [d.line for d in caught.value.diagnostics]
    assert lines == sorted(lines)


def test_a_request_larger_than_the_whole_capacity_is_an_error_at_resources():
    m = manifest(
        task("ok", resources=Resources(cpu=1, memory=2**30)),
        task("huge", resources=Resources(cpu=1, memory=64 * 2**30)),
        capacity=Resources(cpu=2, memory=4 * 2**30),
    )
    [d] = problems(m)
    assert d.message == (
        "task 'huge' requests 64Gi of memory, more than spec.capacity's 4Gi: it could never start"
    )
    assert d.path == "spec.tasks.huge.resources.memory"
    assert d.line == task_line(1, "resources")


def test_the_callers_capacity_is_checked_when_the_manifest_has_none():
    m = manifest(task("t", resources=Resources(cpu=3)), capacity=None)
    with pytest.raises(PlanError, match="requests 3 cpu, more than the given capacity's 2"):
        plan_of(m, capacity=Resources(cpu=2, memory=2**30))


def test_referencing_a_task_that_is_not_upstream_is_an_error_at_the_field():
    m = manifest(
        task("a"),
        task("b"),
        task("c", needs=["a"], env={"ROWS": "${{ tasks.b.outputs.rows }}"}),
    )
    [d] = problems(m)
    assert "task 'b' is not upstream of this task: add it to needs" in d.message
    assert d.line == task_line(2, "env")
    assert d.path == "spec.tasks.c.env.ROWS"


def test_a_transitive_upstream_task_may_be_referenced():
    m = manifest(
        task("a"),
        task("b", needs=["a"]),
        task("c", needs=["b"], when="tasks.a.outputs.rows | int > 0"),
    )
    assert plan_of(m).task("c").when == "tasks.a.outputs.rows | int > 0"


def test_referencing_an_unknown_task_suggests_one():
    [d] = problems(manifest(task("extract"), task("b", run="echo ${{ tasks.extrct.status }}")))
    assert "unknown task 'extrct'" in d.message and "extract" in d.message
    assert d.line == task_line(1, "run")


def test_matrix_keys_are_only_known_inside_matrix_tasks():
    [d] = problems(manifest(task("a", run="echo ${{ matrix.region }}")))
    assert "has no matrix" in d.message


def test_an_unknown_matrix_key_is_an_error():
    [d] = problems(manifest(task("a", matrix={"region": ["eu"]}, args=("${{ matrix.regoin }}",))))
    assert "unknown matrix key 'regoin'" in d.message and "region" in d.message
    assert d.line == task_line(0, "args")


def test_keys_added_by_include_are_matrix_keys():
    m = manifest(
        task("a", matrix={"r": ["eu"], "include": [{"r": "eu", "tier": "x"}]},
             run="echo ${{ matrix.tier }}"),
    )  # fmt: skip
    assert plan_of(m).tasks[0].matrix == {"r": "eu", "tier": "x"}


def test_an_expression_syntax_error_is_reported_at_its_field():
    [d] = problems(manifest(task("a", with_={"x": "${{ params.a + }}"}), params={"a": 1}))
    assert "invalid expression" in d.message
    assert d.line == task_line(0, "with")


def test_on_exit_tasks_may_read_every_main_task_and_run_status():
    m = manifest(
        task("a"),
        task("b"),
        on_exit=[
            task("n", run="echo ${{ run.status }} ${{ tasks.a.status }} ${{ tasks.b.status }}")
        ],
    )
    assert [t.id for t in plan_of(m).on_exit] == ["n"]


def test_run_status_is_only_for_on_exit_tasks():
    [d] = problems(manifest(task("a", run="echo ${{ run.status }}")))
    assert "run.status is only known once every task has ended" in d.message


def test_on_exit_tasks_may_need_on_exit_tasks_only():
    m = manifest(task("a"), on_exit=[task("n", needs=["a"])])
    [d] = problems(m)
    assert "onExit tasks run after every task of spec.tasks" in d.message
    assert d.path == "spec.onExit.n.needs"
    assert d.line == task_line(1, "needs")


def test_main_tasks_may_not_need_on_exit_tasks():
    [d] = problems(manifest(task("a", needs=["n"]), on_exit=[task("n")]))
    assert "'n': it is an onExit task" in d.message


def test_an_exclude_naming_no_axis_is_an_error():
    [d] = problems(manifest(task("a", matrix={"r": ["eu"], "exclude": [{"region": "eu"}]})))
    assert "'region'" in d.message and "not an axis" in d.message
