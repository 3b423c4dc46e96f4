"""compile_plan on valid manifests: order, fan-in, levels, critical path, env, secrets,
capacity, determinism and the JSON round trip."""

from __future__ import annotations

import json

from plan_factory import CAPACITY, ids, manifest, plan_of, task, task_line

from psr_engine.manifest.model import GateSpec
from psr_engine.plan import Plan, compile_plan
from psr_engine.plan.machine import machine_capacity, machine_concurrency
from psr_engine.units import Resources, RetryPolicy


def test_order_is_topological_with_ties_in_manifest_order():
    m = manifest(
        task("report", needs=["load", "check"]),
        task("load", needs=["extract"]),
        task("check"),
        task("extract"),
    )
    assert ids(plan_of(m)) == ["check", "extract", "load", "report"]


def test_a_need_on_a_matrix_task_means_all_its_instances():
    m = manifest(
        task("prep"),
        task("t", needs=["prep"], matrix={"r": ["eu", "us"]}),
        task("merge", needs=["t", "prep"]),
    )
    plan = plan_of(m)
    assert plan.task("merge").needs == ("t[r=eu]", "t[r=us]", "prep")
    assert plan.task("t[r=us]").needs == ("prep",)


def test_levels_are_longest_distance_from_a_root():
    m = manifest(
        task("a"),
        task("b", needs=["a"]),
        task("c", needs=["b"]),
        task("d", needs=["a", "c"]),
        task("e"),
    )
    plan = plan_of(m)
    assert {t.id: t.level for t in plan.tasks} == {"a": 0, "e": 0, "b": 1, "c": 2, "d": 3}
    assert plan.levels == (("a", "e"), ("b",), ("c",), ("d",))


def test_critical_path_weighs_tasks_by_timeout_or_one():
    m = manifest(
        task("a"),
        task("slow", needs=["a"], timeout=600.0),
        task("x", needs=["a"]),
        task("y", needs=["x"]),
        task("z", needs=["y"]),
        task("end", needs=["slow", "z"]),
    )
    assert plan_of(m).critical_path == ("a", "slow", "end")


def test_critical_path_counts_untimed_tasks_as_one_each():
    m = manifest(task("a"), task("x", needs=["a"]), task("y", needs=["x"]), task("b"))
    assert plan_of(m).critical_path == ("a", "x", "y")


def test_critical_path_through_a_matrix_names_its_first_instance():
    m = manifest(task("t", matrix={"n": [1, 2]}), task("u", needs=["t"]))
    assert plan_of(m).critical_path == ("t[n=1]", "u")


def test_env_is_workflow_env_merged_with_the_tasks_and_the_task_wins():
    m = manifest(
        task("a", env={"LEVEL": "debug", "ONLY": "a"}),
        env={"LEVEL": "info", "REGION": "eu"},
    )
    assert plan_of(m).task("a").env == {"LEVEL": "debug", "REGION": "eu", "ONLY": "a"}


def test_a_task_receives_only_the_secrets_it_references_or_lists():
    m = manifest(
        task("uses", run="curl -H ${{ secrets.API_TOKEN }} x"),
        task("lists", secrets=("DB",)),
        task("env", env={"P": "${{ secrets.DB }}"}, args=()),
        task("none"),
        task("when", when="secrets.FLAG == 'on'"),
        secrets=["API_TOKEN", "DB", "UNUSED", "FLAG"],
    )
    plan = plan_of(m)
    assert plan.task("uses").secrets == ("API_TOKEN",)
    assert plan.task("lists").secrets == ("DB",)
    assert plan.task("env").secrets == ("DB",)
    assert plan.task("none").secrets == ()
    assert plan.task("when").secrets == ("FLAG",)
    assert [s.name for s in plan.secrets] == ["API_TOKEN", "DB", "FLAG"]


def test_a_secret_in_workflow_env_goes_to_tasks_that_inherit_that_variable():
    m = manifest(
        task("inherits"),
        task("overrides", env={"TOKEN": "plain"}),
        env={"TOKEN": "${{ secrets.T }}"},
        secrets=["T"],
    )
    plan = plan_of(m)
    assert plan.task("inherits").secrets == ("T",)
    assert plan.task("overrides").secrets == ()


def test_commands_and_env_stay_expression_text():
    m = manifest(task("a", run="echo ${{ params.day }}"), params={"day": "mon"})
    plan = plan_of(m)
    assert plan.task("a").command == "echo ${{ params.day }}"
    assert plan.params == {"day": "mon"}


def test_on_exit_tasks_are_planned_apart_from_the_main_dag():
    m = manifest(
        task("a"),
        task("b", needs=["a"]),
        on_exit=[task("notify", run="echo ${{ run.status }} ${{ tasks.b.status }}"),
                 task("cleanup", needs=["notify"])],
    )  # fmt: skip
    plan = plan_of(m)
    assert ids(plan) == ["a", "b"]
    assert [t.id for t in plan.on_exit] == ["notify", "cleanup"]
    assert plan.task("cleanup").needs == ("notify",)
    assert all(t.on_exit for t in plan.on_exit)
    assert plan.task("cleanup").level == 1
    assert "notify" in plan.groups and all(len(level) for level in plan.levels)
    assert "notify" not in {i for level in plan.levels for i in level}


def test_each_task_carries_its_manifest_line():
    plan = plan_of(manifest(task("a"), task("b")))
    assert [t.line for t in plan.tasks] == [task_line(0), task_line(1)]


def test_capacity_and_concurrency_come_from_the_manifest_first():
    m = manifest(task("a"), capacity=Resources(2, 2**30), concurrency=3)
    plan = plan_of(m, capacity=Resources(8, 2**33), concurrency=9)
    assert plan.capacity == Resources(2, 2**30)
    assert plan.concurrency == 3


def test_capacity_and_concurrency_then_come_from_the_caller():
    m = manifest(task("a"), capacity=None, concurrency=None)
    plan = plan_of(m, capacity=Resources(8, 2**33), concurrency=9)
    assert plan.capacity == Resources(8, 2**33)
    assert plan.concurrency == 9


def test_capacity_and_concurrency_default_to_this_machine():
    plan = plan_of(manifest(task("a"), capacity=None, concurrency=None))
    assert plan.capacity == machine_capacity()
    assert plan.capacity.cpu >= 1 and plan.capacity.memory > 2**20
    assert plan.concurrency == machine_concurrency()


def test_gates_are_planned_in_manifest_order():
    gate = GateSpec(name="code", type="code", fail_on="medium", paths=("/wf/src",))
    plan = plan_of(manifest(task("a"), gates=[gate]))
    assert [(g.name, g.type, g.fail_on, g.paths) for g in plan.gates] == [
        ("code", "code", "medium", ("/wf/src",))
    ]


def test_same_input_gives_the_same_plan():
    def build() -> str:
        m = manifest(
            task("x", matrix={"a": [1, 2], "b": ["p", "q"]}),
            task("y", needs=["x"]),
            task("z"),
        )
        return plan_of(m).to_json()

    assert build() == build()


def test_json_of_a_small_plan_is_pinned():
    m = manifest(
        task("a", timeout=60.0, retries=RetryPolicy(limit=2), resources=Resources(1, 2**20)),
        task("b", needs=["a"], matrix={"n": [1, 2]}),
        name="pinned",
    )
    data = json.loads(compile_plan(m, {}).to_json())
    assert data["tasks"][0] == {
        "id": "a", "task": "a", "kind": "run", "command": "echo hi", "args": [],
        "shell": None, "interpreter": None, "with_": {}, "gate": None, "matrix": {},
        "needs": [], "when": None, "trigger": "all_success", "env": {}, "secrets": [],
        "workdir": "/wf", "timeout": 60.0, "kill_grace": 10.0,
        "retries": {"limit": 2, "backoff": "fixed", "delay": 1.0, "maxDelay": None,
                    "jitter": False, "on": [], "onTimeout": False},
        "resources": {"cpu": 1.0, "memory": 1048576}, "max_parallel": None,
        "continue_on_error": False, "outputs": [], "inputs": [], "artifacts": [],
        "cache": None, "labels": {},
        "level": 0, "on_exit": False, "line": 10,
    }  # fmt: skip
    rest = {k: v for k, v in data.items() if k != "tasks"}
    assert rest == {
        "workflow": "pinned", "manifest_path": "/wf/workflow.yaml", "manifest_digest": "0" * 64,
        "params": {}, "levels": [["a"], ["b[n=1]", "b[n=2]"]],
        "critical_path": ["a", "b[n=1]"], "groups": {"a": ["a"], "b": ["b[n=1]", "b[n=2]"]},
        "on_exit": [], "description": "", "labels": {}, "env": {}, "secrets": [], "withheld": [],
        "concurrency": 2, "capacity": {"cpu": 4.0, "memory": 8 * 2**30}, "gates": [],
        "sinks": [], "tracing": None, "cost": None, "executor": {"type": "local"},
        "provenance": True,
        "limits": {"matrix_instances": 10_000, "instances": 100_000, "workflow_depth": 16},
        "format": 2,
    }  # fmt: skip
    assert [t["id"] for t in data["tasks"]] == ["a", "b[n=1]", "b[n=2]"]
    assert data["tasks"][1]["needs"] == ["a"] and data["tasks"][1]["matrix"] == {"n": 1}


def test_plan_round_trips_through_json():
    m = manifest(
        task("a", retries=RetryPolicy(limit=1, on=(3,)), with_={"k": ("v", {"n": 1})}),
        task("b", needs=["a"], matrix={"n": [1, {"x": (1, 2)}]}),
        on_exit=[task("z")],
        gates=[GateSpec(name="g", type="secrets", tools=("x",))],
        secrets=["S"],
        env={"E": "${{ secrets.S }}"},
    )
    plan = plan_of(m)
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.capacity == CAPACITY
