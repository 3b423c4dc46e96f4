"""Matrix expansion: GitHub Actions' documented examples, ids, and matrix errors."""

from __future__ import annotations

import pytest
from plan_factory import manifest, plan_of, task, task_line

from psr_engine.errors import PlanError
from psr_engine.plan.matrix import MatrixError, expand_matrix, format_value, instance_id


def test_product_follows_axis_order_last_axis_fastest():
    combos = expand_matrix([("os", ["linux", "mac"]), ("py", [3.11, 3.12])])
    assert combos == [
        {"os": "linux", "py": 3.11},
        {"os": "linux", "py": 3.12},
        {"os": "mac", "py": 3.11},
        {"os": "mac", "py": 3.12},
    ]


def test_github_include_example_extends_and_adds_combinations():
    # docs.github.com: "Example: Expanding configurations" (fruit/animal).
    combos = expand_matrix(
        [("fruit", ["apple", "pear"]), ("animal", ["cat", "dog"])],
        include=[
            {"color": "green"},
            {"color": "pink", "animal": "cat"},
            {"fruit": "apple", "shape": "circle"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ],
    )
    assert combos == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_github_include_example_adds_a_key_to_one_combination():
    # docs.github.com: "Example: Adding configurations" (os/node, npm 6 on windows/16).
    combos = expand_matrix(
        [("os", ["windows-latest", "ubuntu-latest"]), ("node", [14, 16])],
        include=[{"os": "windows-latest", "node": 16, "npm": 6}],
    )
    assert {"os": "windows-latest", "node": 16, "npm": 6} in combos
    assert sum("npm" in c for c in combos) == 1
    assert len(combos) == 4


def test_include_never_overwrites_an_original_value_it_adds_a_combination():
    combos = expand_matrix([("os", ["linux"])], include=[{"os": "mac", "arch": "arm"}])
    assert combos == [{"os": "linux"}, {"os": "mac", "arch": "arm"}]


def test_github_exclude_example_partial_match_drops_every_match():
    # docs.github.com: "Excluding matrix configurations": {os: macos, version: 12,
    # environment: production} and {os: windows, version: 16}; 12 combinations -> 8? The
    # second entry is partial and drops both environments of windows/16.
    combos = expand_matrix(
        [
            ("os", ["macos-latest", "windows-latest"]),
            ("version", [12, 14, 16]),
            ("environment", ["staging", "production"]),
        ],
        exclude=[
            {"os": "macos-latest", "version": 12, "environment": "production"},
            {"os": "windows-latest", "version": 16},
        ],
    )
    assert len(combos) == 12 - 1 - 2
    assert {"os": "windows-latest", "version": 16, "environment": "staging"} not in combos
    assert {"os": "macos-latest", "version": 12, "environment": "staging"} in combos


def test_exclude_runs_before_include_so_an_include_can_restore_a_combination():
    combos = expand_matrix([("a", [1, 2])], exclude=[{"a": 1}], include=[{"a": 1, "extra": "x"}])
    assert combos == [{"a": 2}, {"a": 1, "extra": "x"}]


def test_matrix_with_only_include_is_the_include_list():
    assert expand_matrix([], include=[{"a": 1}, {"a": 2, "b": 3}]) == [{"a": 1}, {"a": 2, "b": 3}]


def test_exclude_naming_an_unknown_key_is_an_error():
    with pytest.raises(MatrixError, match=r"'colour'.*not an axis"):
        expand_matrix([("color", ["red"])], exclude=[{"colour": "red"}])


def test_true_does_not_match_one():
    assert expand_matrix([("x", [1, True])], exclude=[{"x": True}]) == [{"x": 1}]


def test_instance_ids_use_manifest_key_order_and_plain_text_values():
    assert instance_id("build", {}) == "build"
    assert instance_id("t", {"region": "eu", "size": "large"}) == "t[region=eu,size=large]"
    assert instance_id("t", {"n": 3, "on": True, "x": None}) == "t[n=3,on=true,x=null]"
    assert instance_id("t", {"o": {"a": [1, "b"]}}) == 't[o={"a":[1,"b"]}]'
    assert format_value("héllo") == "héllo"


def test_keys_added_by_include_come_after_the_axes_in_ids():
    combos = expand_matrix([("b", [1]), ("a", [2])], include=[{"z": 0, "b": 1}])
    assert instance_id("t", combos[0]) == "t[b=1,a=2,z=0]"


def test_planned_instances_carry_their_values_and_shared_settings():
    plan = plan_of(
        manifest(task("t", matrix={"region": ["eu", "us"], "size": ["s"]}, max_parallel=1))
    )
    assert [t.id for t in plan.tasks] == ["t[region=eu,size=s]", "t[region=us,size=s]"]
    assert [t.matrix for t in plan.tasks] == [
        {"region": "eu", "size": "s"},
        {"region": "us", "size": "s"},
    ]
    assert {t.max_parallel for t in plan.tasks} == {1}
    assert plan.groups["t"] == ("t[region=eu,size=s]", "t[region=us,size=s]")


def test_axis_expression_is_evaluated_over_params_and_env():
    m = manifest(
        task("t", matrix={"region": "${{ params.regions }}", "tier": "${{ [env.TIER] }}"}),
        params={"regions": ["eu", "us", "ap"]},
        env={"TIER": "gold"},
    )
    plan = plan_of(m)
    assert [t.matrix["region"] for t in plan.tasks] == ["eu", "us", "ap"]
    assert plan.tasks[0].id == "t[region=eu,tier=gold]"


def test_axis_expression_takes_the_callers_params_not_the_defaults():
    m = manifest(task("t", matrix={"n": "${{ params.ns }}"}), params={"ns": [1]})
    from psr_engine.plan import compile_plan

    plan = compile_plan(m, {"ns": [5, 6]})
    assert [t.id for t in plan.tasks] == ["t[n=5]", "t[n=6]"]


def test_axis_expression_that_is_not_a_list_is_an_error_at_the_axis():
    m = manifest(task("t", matrix={"region": "${{ params.region }}"}), params={"region": "eu"})
    with pytest.raises(PlanError) as caught:
        plan_of(m)
    [d] = caught.value.diagnostics
    assert "matrix axis 'region' must be a list" in d.message
    assert "str" in d.message
    assert d.line == task_line(0, "matrix")  # the axis itself has no position here: its parent's


@pytest.mark.parametrize(
    "axis",
    [
        "${{ params.regions }}",
        "  ${{ params.nested.sizes }} ",
        "${{ params.region }}",  # not a list: Jinja's evaluation explains
        "${{ params.nested.missing }}",
        "${{ workflow.labels.team }}",
        "${{ params.regions | list }}",  # more than a name: Jinja's
        "${{ params['regions'] }}",
        "x ${{ params.regions }}",
    ],
)
def test_an_axis_read_without_jinja_is_the_list_jinja_gives(axis):
    from psr_engine import expressions
    from psr_engine.errors import ExpressionError
    from psr_engine.plan.compile import _list_at

    context = {
        "params": {"regions": ["eu", "us"], "region": "eu", "nested": {"sizes": (1, 2)}},
        "env": {},
        "workflow": {"name": "w", "labels": {"team": "data"}},
    }
    found = _list_at(axis, context)
    try:
        value = expressions.evaluate(axis, context)
    except ExpressionError:
        value = None
    if found is not None:
        assert found == tuple(value)
    else:
        assert axis.strip() not in ("${{ params.regions }}", "${{ params.nested.sizes }}")


def test_axis_expression_with_an_unknown_param_is_an_error():
    m = manifest(task("t", matrix={"r": "${{ params.regoins }}"}), params={"regions": ["eu"]})
    with pytest.raises(PlanError, match=r"unknown param 'regoins'.*regions"):
        plan_of(m)


def test_matrix_that_expands_to_nothing_is_an_error_at_the_task():
    m = manifest(task("a"), task("t", matrix={"x": [1], "exclude": [{"x": 1}]}))
    with pytest.raises(PlanError) as caught:
        plan_of(m)
    [d] = caught.value.diagnostics
    assert "expands to no combination" in d.message
    assert d.line == task_line(1)


def test_values_equal_as_text_give_the_same_id_and_are_an_error():
    with pytest.raises(PlanError, match=r"same instance twice: t\[x=1\]"):
        plan_of(manifest(task("t", matrix={"x": [1, "1"]})))
