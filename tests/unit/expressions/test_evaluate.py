"""evaluate() and evaluate_condition(): native values for matrix axes and `when`."""

from __future__ import annotations

from typing import Any

import pytest

from psr_engine.expressions import ExpressionError, evaluate, evaluate_condition


def test_wrapped_and_bare_forms_give_the_native_value(context: dict[str, Any]) -> None:
    assert evaluate("${{ params.regions }}", context) == ["eu", "us"]
    assert evaluate("  ${{ params.regions }}\n", context) == ["eu", "us"]
    assert evaluate("params.regions", context) == ["eu", "us"]
    assert evaluate("${{ params.count + 1 }}", context) == 4
    assert evaluate("params.limits", context) == {"cpu": 2, "name": "x"}
    assert evaluate("${{ params.nothing }}", context) is None


def test_evaluate_returns_plain_str_not_markup(context: dict[str, Any]) -> None:
    value = evaluate("params.regions | tojson", context)
    assert type(value) is str
    assert value == '["eu", "us"]'


def test_evaluate_refuses_text_around_or_several_expressions(context: dict[str, Any]) -> None:
    for text in ("x ${{ params.date }}", "${{ params.date }}${{ params.date }}"):
        with pytest.raises(ExpressionError, match="expected one expression"):
            evaluate(text, context)


def test_evaluate_names_undefined_values(context: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError, match=r"'params\.region' is undefined"):
        evaluate("${{ params.region }}", context)
    with pytest.raises(ExpressionError, match=r"'tasks\.load' is undefined"):
        evaluate("tasks.load.status", context)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("tasks.extract.outputs.rows | int > 0", True),
        ("${{ tasks.extract.outputs.rows | int > 100 }}", False),
        ("${{ tasks.extract.status == 'succeeded' }}", True),
        ("params.dry", False),
        ("true", True),
        ("false", False),
        ("'false'", False),
        ("'FALSE '", False),
        ("'0'", False),
        ("''", False),
        ("tasks.extract.outputs.empty", False),
        ("'no'", True),
        ("0", False),
        ("[]", False),
        ("params.regions", True),
        ("params.nothing", False),
        ("contains(params.regions, 'EU')", True),
    ],
)
def test_conditions(context: dict[str, Any], condition: str, expected: bool) -> None:
    assert evaluate_condition(condition, context) is expected


def test_condition_on_a_missing_output_is_an_error_not_false(context: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError, match=r"did you mean 'tasks\.extract\.outputs\.rows'"):
        evaluate_condition("tasks.extract.outputs.rowz | int > 0", context)
