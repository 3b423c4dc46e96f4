"""The GitHub-style helpers, as globals and (where Jinja has no filter of that name) filters."""

from __future__ import annotations

from typing import Any

import pytest

from psr_engine.expressions import ExpressionError, evaluate, render

CTX: dict[str, Any] = {
    "params": {"json": '{"a": [1, 2], "b": null}', "regions": ["eu", "us"], "name": "Daily-ETL"}
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("fromJSON(params.json)", {"a": [1, 2], "b": None}),
        ("fromJSON(params.json).a[1]", 2),
        ("params.json | fromJSON", {"a": [1, 2], "b": None}),
        ("fromJSON('true')", True),
        ("toJSON(params.regions)", '["eu","us"]'),
        ("params.regions | toJSON", '["eu","us"]'),
        ("toJSON({'k': true})", '{"k":true}'),
        ("contains(params.regions, 'eu')", True),
        ("contains(params.regions, 'EU')", True),
        ("contains(params.regions, 'asia')", False),
        ("contains(params.name, 'etl')", True),
        ("contains(params.name, 'xyz')", False),
        ("params.name | contains('daily')", True),
        ("contains(none, 'x')", False),
        ("startsWith(params.name, 'daily')", True),
        ("startsWith(params.name, 'etl')", False),
        ("params.name | startsWith('DAILY')", True),
        ("endsWith(params.name, 'etl')", True),
        ("params.name | endsWith('daily')", False),
        ("format('{0}-{1}', 'a', 2)", "a-2"),
        ("format('{{{0}}} {1} {0}', 'x', true)", "{x} true x"),
        ("join(params.regions)", "eu,us"),
        ("join(params.regions, ' | ')", "eu | us"),
        ("join('single')", "single"),
    ],
)
def test_helper(expression: str, expected: Any) -> None:
    assert evaluate(expression, CTX) == expected


def test_helpers_render_as_text() -> None:
    assert render("${{ format('{0}/{1}', params.name, 1) }}", CTX) == "Daily-ETL/1"


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("fromJSON('{nope')", "fromJSON: not valid JSON"),
        ("format('{0} {1}', 'a')", "only 1 argument"),
        ("format('{', 'a')", "unmatched '{'"),
        ("format('{0.__class__}', 'a')", "unmatched"),
    ],
)
def test_helper_misuse_is_an_expression_error(expression: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, CTX)
    assert fragment in str(caught.value)
