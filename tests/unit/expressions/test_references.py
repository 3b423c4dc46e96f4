"""references(): the names expressions read, for validation and lineage."""

from __future__ import annotations

import pytest

from psr_engine.expressions import ExpressionError, Reference, references


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "${{ tasks.extract.outputs.rows | int }}",
            [Reference("tasks", ("extract", "outputs", "rows"))],
        ),
        ("${{ params['date'] }}", [Reference("params", ("date",))]),
        ('${{ params["a"].b }}', [Reference("params", ("a", "b"))]),
        ("${{ tasks['x-y'].status }}", [Reference("tasks", ("x-y", "status"))]),
        (
            "${{ params[matrix.region] }}",
            [Reference("params", ()), Reference("matrix", ("region",))],
        ),
        ("${{ tasks.t.results[0].outputs.x }}", [Reference("tasks", ("t", "results"))]),
        ("${{ params.name.upper() }}", [Reference("params", ("name",))]),
        (
            "${{ tasks.a.outputs.get('rows', params.fallback) }}",
            [Reference("tasks", ("a", "outputs")), Reference("params", ("fallback",))],
        ),
        (
            "${{ fromJSON(tasks.a.outputs.json).x | default(env.X) }}",
            [Reference("tasks", ("a", "outputs", "json")), Reference("env", ("X",))],
        ),
        (
            "a ${{ params.x }} b ${{ params.x ~ secrets.TOKEN }} c",
            [Reference("params", ("x",)), Reference("secrets", ("TOKEN",))],
        ),
        (
            "${{ run.id if workflow.name else matrix }}",
            [
                Reference("workflow", ("name",)),  # evaluation order: the test first
                Reference("run", ("id",)),
                Reference("matrix", ()),
            ],
        ),
        (
            "${{ [params.a, {'k': params.b}] | length > 0 }}",
            [
                Reference("params", ("a",)),
                Reference("params", ("b",)),
            ],
        ),
        ("${{ format('{0}', 'x') ~ join(range(3)) }}", []),
        ("no expressions here {{ x }}", []),
    ],
)
def test_references(text: str, expected: list[Reference]) -> None:
    assert references(text) == expected


def test_reference_prints_as_a_dotted_name() -> None:
    assert str(Reference("tasks", ("a", "outputs"))) == "tasks.a.outputs"


def test_bare_names_are_references() -> None:
    assert references("${{ nope }}") == [Reference("nope")]


# `${{ ) }}` fails on its first token, which Jinja reads while its parser is being made (it
# was an internal error, exit 70, before that was caught too).
@pytest.mark.parametrize(
    "text", ["${{ params.x + }}", "${{ a b }}", "x ${{ params.x", "${{ ) }}", "${{ 'x }}"]
)
def test_syntax_error_raises_with_the_expression(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        references(text)
    assert "${{" in str(caught.value)
