"""render(): how each value type becomes text, and what happens to text without expressions."""

from __future__ import annotations

from typing import Any

import pytest

from psr_engine.expressions import ExpressionError, contains_expression, render


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${{ params.date }}", "2026-11-25"),
        ("${{ params.dry }}", "false"),
        ("${{ not params.dry }}", "true"),
        ("${{ params.nothing }}", ""),
        ("${{ params.count }}", "3"),
        ("${{ params.ratio }}", "0.5"),
        ("${{ params.regions }}", '["eu","us"]'),
        ("${{ params.limits }}", '{"cpu":2,"name":"x"}'),
        ("${{ ['é', 1] }}", '["é",1]'),
        ("${{ params.count * 2 }}", "6"),
    ],
)
def test_each_value_type_renders_the_github_way(
    context: dict[str, Any], text: str, expected: str
) -> None:
    assert render(text, context) == expected


def test_literal_text_around_expressions_is_kept(context: dict[str, Any]) -> None:
    text = "load {{ not ours }} {% raw %} ${{ params.date }}-${{matrix.region}} done"
    assert render(text, context) == "load {{ not ours }} {% raw %} 2026-11-25-eu done"


def test_text_without_expressions_is_returned_unchanged() -> None:
    text = "echo {{ x }} $HOME ${PATH} {% if %}"
    assert render(text, {}) is text
    assert render(text, {}, shell=True) is text
    assert not contains_expression(text)
    assert contains_expression("a ${{ b }}")


def test_closing_braces_inside_strings_and_brackets_do_not_end_the_expression(
    context: dict[str, Any],
) -> None:
    assert render("${{ '}}' }}", context) == "}}"
    assert render("${{ {'a': {'b': 1}} }}", context) == '{"a":{"b":1}}'


def test_a_rendered_value_is_not_rendered_again() -> None:
    context = {"params": {"x": "${{ secrets.DB_PASSWORD }}"}, "secrets": {"DB_PASSWORD": "s"}}
    assert render("${{ params.x }}", context) == "${{ secrets.DB_PASSWORD }}"


def test_key_lookup_wins_over_dict_methods(context: dict[str, Any]) -> None:
    assert render("${{ params.items }}", context) == "an items param"


def test_subscripts_and_jinja_filters(context: dict[str, Any]) -> None:
    assert render("${{ params['date'] }}", context) == "2026-11-25"
    assert render("${{ tasks.extract.outputs.rows | int + 1 }}", context) == "43"
    assert render("${{ params.missing | default('d') }}", context) == "d"
    assert render("${{ params.regions | tojson }}", context) == '["eu", "us"]'
    assert render("${{ params.regions | join('+') }}", context) == "eu+us"
    assert render("${{ '%s-%s' | format('a', 'b') }}", context) == "a-b"
    assert render("${{ params.regions | length }}", context) == "2"


def test_undefined_name_is_an_error_naming_it(context: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as caught:
        render("echo ${{ params.dat }}", context)
    message = str(caught.value)
    assert "${{ params.dat }}" in message
    assert "'params.dat' is undefined" in message
    assert "did you mean 'params.date'" in message
    assert caught.value.diagnostics[0].column == 6  # 1-based offset of "${{" in the text


def test_undefined_root_and_nested_names_are_named(context: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError, match=r"'nope' is undefined"):
        render("${{ nope }}", context)
    with pytest.raises(ExpressionError, match=r"'tasks\.extract\.outputs\.row' is undefined"):
        render("${{ tasks.extract.outputs.row | int }}", context)
    with pytest.raises(ExpressionError, match=r"'tasks\.transform\.outputs\.x' is undefined"):
        render("${{ tasks.transform.outputs.x }}", context)


def test_undefined_is_never_a_silent_empty_string(context: dict[str, Any]) -> None:
    for text in ("${{ params.missing }}", "${{ [params.missing] }}", "${{ params.missing ~ '' }}"):
        with pytest.raises(ExpressionError):
            render(text, context)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("${{ params.date + }}", "invalid expression ${{ params.date + }}"),
        ("${{ params.date ) }}", "invalid expression"),
        ("${{ }}", "empty expression"),
        ("${{ params | nosuchfilter }}", "No filter named 'nosuchfilter'"),
        ("echo ${{ params.date", "unterminated expression"),
        ("${{ 1 / 0 }}", "ZeroDivisionError"),
    ],
)
def test_bad_expressions_raise_expression_error(
    context: dict[str, Any], text: str, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(text, context)
    assert fragment in str(caught.value)


def test_expression_error_is_the_one_from_errors() -> None:
    from psr_engine import errors

    assert ExpressionError is errors.ExpressionError


def test_a_literal_opening_delimiter_is_written_as_a_string(context: dict[str, Any]) -> None:
    assert render("echo ${{ '${{' }} x }}", context) == "echo ${{ x }}"


def test_expressions_may_span_lines(context: dict[str, Any]) -> None:
    assert render("a ${{ params.date\n  ~ '!' }}\nb", context) == "a 2026-11-25!\nb"


def test_is_defined_lets_an_expression_probe_for_a_missing_value(
    context: dict[str, Any],
) -> None:
    assert render("${{ tasks.extract.outputs.nope is defined }}", context) == "false"
    assert render("${{ tasks.extract.outputs.rows is defined }}", context) == "true"


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("${{ params.regions }}", True),
        ("  ${{ params.regions }}\n", True),
        ("${{ '}}' }}", True),
        ("${{ a }}-${{ b }}", False),
        ("x ${{ a }}", False),
        ("plain", False),
    ],
)
def test_whole_expressions_are_told_from_text_with_expressions(text, whole):
    from psr_engine.expressions import is_whole_expression

    assert is_whole_expression(text) is whole
