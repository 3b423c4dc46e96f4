"""check(): the static messages validation shows for each kind of mistake."""

from __future__ import annotations

import pytest

from psr_engine.expressions import Scope, check

SCOPE = Scope(
    params=frozenset({"date", "regions"}),
    env=frozenset({"LOG_LEVEL"}),
    secrets=frozenset({"DB_PASSWORD"}),
    matrix=frozenset({"region", "size"}),
    tasks=frozenset({"extract"}),
    all_tasks=frozenset({"extract", "transform", "report"}),
)


def test_valid_text_has_no_messages() -> None:
    text = (
        "${{ params.date }} ${{ env.LOG_LEVEL }} ${{ secrets.DB_PASSWORD }} ${{ matrix.size }}"
        " ${{ tasks.extract.outputs.rows | int }} ${{ tasks.extract.exitCode }}"
        " ${{ run.id }} ${{ workflow.labels.team }} ${{ params }} ${{ tasks }}"
        " ${{ contains(params.regions, 'eu') }} plain"
    )
    assert check(text, SCOPE) == []
    assert check("no expressions", SCOPE) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${{ params.x + }}", "invalid expression ${{ params.x + }}: unexpected"),
        ("${{ params | nope }}", "invalid expression ${{ params | nope }}: No filter named 'nope'"),
        ("echo ${{ params.date", "unterminated expression"),
        ("${{ parms.date }}", "${{ parms.date }}: unknown name 'parms' (did you mean 'params'?)"),
        ("${{ zzz }}", "${{ zzz }}: unknown name 'zzz'"),
        ("${{ fromJson(params.date) }}", "unknown name 'fromJson' (did you mean 'fromJSON'?)"),
        ("${{ params.dates }}", "${{ params.dates }}: unknown param 'dates' (did you mean 'date'"),
        ("${{ params.qqq }}", "unknown param 'qqq'; known: date, regions"),
        ("${{ env.LOG_LEVL }}", "unknown env variable 'LOG_LEVL' (not in the workflow env)"),
        ("${{ secrets.DB_PASSWD }}", "unknown secret 'DB_PASSWD' (did you mean 'DB_PASSWORD'?)"),
        ("${{ matrix.regoin }}", "unknown matrix key 'regoin' (did you mean 'region'?)"),
        ("${{ tasks.extrat.status }}", "unknown task 'extrat' (did you mean 'extract'?)"),
        (
            "${{ tasks.transform.status }}",
            "task 'transform' is not upstream of this task: add it to needs",
        ),
        (
            "${{ tasks.extract.output.rows }}",
            "tasks.extract has no field 'output' (did you mean 'outputs'?)",
        ),
        ("${{ run.started }}", "unknown run field 'started'"),
        ("${{ workflow.title }}", "unknown workflow field 'title'"),
    ],
)
def test_each_mistake_has_its_message(text: str, message: str) -> None:
    messages = check(text, SCOPE)
    assert len(messages) == 1, messages
    assert message in messages[0]


def test_matrix_without_a_matrix() -> None:
    scope = Scope(
        params=frozenset(),
        env=frozenset(),
        secrets=frozenset(),
        matrix=frozenset(),
        tasks=frozenset(),
        all_tasks=frozenset(),
    )
    assert check("${{ matrix.region }}", scope) == [
        "${{ matrix.region }}: 'matrix.region' is used but this task has no matrix"
    ]


def test_secrets_can_be_forbidden_in_a_field() -> None:
    scope = Scope(
        params=SCOPE.params,
        env=SCOPE.env,
        secrets=SCOPE.secrets,
        matrix=SCOPE.matrix,
        tasks=SCOPE.tasks,
        all_tasks=SCOPE.all_tasks,
        allow_secrets_in_text=False,
    )
    [message] = check("curl -u ${{ secrets.DB_PASSWORD }}", scope)
    assert "secrets may not be written into this field" in message
    assert check("${{ params.date }}", scope) == []


def test_run_can_be_forbidden() -> None:
    scope = Scope(
        params=frozenset(),
        env=frozenset(),
        secrets=frozenset(),
        matrix=frozenset(),
        tasks=frozenset(),
        all_tasks=frozenset(),
        run=False,
    )
    assert check("${{ run.id }}", scope) == ["${{ run.id }}: run.* is not available here"]


def test_every_problem_in_a_text_is_reported_once() -> None:
    messages = check("${{ params.a }} ${{ params.a }} ${{ tasks.nope.status }}", SCOPE)
    assert len(messages) == 2
    assert messages[0].startswith("${{ params.a }}: unknown param 'a'")
    assert messages[1].startswith("${{ tasks.nope.status }}: unknown task 'nope'")
