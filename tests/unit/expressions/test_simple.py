"""Simple expressions are read without Jinja (expressions/simple.py), and read exactly as Jinja
reads them: the names they read, the comparisons they make, the filter they end in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psr_engine.expressions import simple
from psr_engine.expressions.comparisons import _comparisons_with_jinja, comparisons
from psr_engine.expressions.environment import SyntaxProblem, environment, parse
from psr_engine.expressions.references import _analyze_with_jinja, analyze
from psr_engine.expressions.shell_quote import _is_raw, _is_raw_with_jinja

ROOT = Path(__file__).resolve().parents[3]

SIMPLE = [
    "params.date",
    " params.regions ",
    "\n  matrix.region\t",
    "tasks.extract.outputs.rows | int > 0",
    "params.regions | join(',')",
    "params.regions|join(', ')",
    'tasks.a.outputs.rows | default("0") | int >= 10',
    "tasks.load.status == 'succeeded'",
    "'succeeded' != tasks.load.status",
    "params.count < 3",
    "params.ratio <= 0.5",
    "params.flag == true",
    "params.flag == False",
    "params.nothing == none",
    "params.x == None",
    "params.name | upper | raw",
    "params.name | raw",
    "'text' | upper",
    "42",
    "0",
    '"it\'s"',
    "''",
    "true",
    "range",
    "fromJSON.x",
    "params . date",
    "params.a_b.C9 | replace('a', 'b') | trim",
    "params.n | round(2) | string == '3'",
    "params.items | length > 0",
    "params.x | default()",
]

NOT_SIMPLE = [
    "",
    "'it''s'",  # Jinja joins adjacent strings
    "   ",
    "params['date']",
    "params.x.get('k')",
    "params.x + 1",
    "-1 < params.x",
    "params.x > 1e5",
    "params.x > 1_000",
    "params.x > 0x1F",
    "params.x > 007",
    "params.x > 1.",
    "params.x > 1.5e3",
    "a < b < c",
    "a and b",
    "not a",
    "a if b else c",
    "a is defined",
    "a in b",
    "a.true",
    "a.not",
    "x | not",
    "x | bogus",
    "x | map(attribute='y')",
    "x | join(sep=',')",
    "x | join(',',)",
    "x | join(params.sep)",
    "'a\\nb'",
    "'é'",
    "params.é",
    "x ~ y",
    "[1, 2]",
    "{'a': 1}",
    "x | int(",
    "x |",
    "x ==",
    "== x",
    "x = 1",
    "x ! y",
    "'unterminated",
    "1abc",
    "a.1",
]


def _agree(source: str) -> None:
    """The simple reading equals Jinja's, in everything the checks read."""
    assert simple.parse(source) is not None, source
    try:
        parse(source)
    except SyntaxProblem as error:  # pragma: no cover - a failure of the test's premise
        pytest.fail(f"{source!r} is simple but Jinja refuses it: {error}")
    assert analyze(source) == _analyze_with_jinja(source), source
    assert comparisons(source) == _comparisons_with_jinja(source), source
    assert _is_raw(source) == _is_raw_with_jinja(source), source


def test_every_filter_it_accepts_is_one_the_environment_has():
    assert set(environment().filters) >= simple.FILTERS


@pytest.mark.parametrize("source", SIMPLE)
def test_a_simple_expression_reads_as_jinja_reads_it(source):
    _agree(source)


@pytest.mark.parametrize("source", NOT_SIMPLE)
def test_anything_else_goes_to_jinja(source):
    assert simple.parse(source) is None


def _repository_expressions() -> list[str]:
    found: set[str] = set()
    for folder in ("manifests", "docs", "tests/data", "ci-templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".yaml", ".yml", ".md", ".json") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                found.update(re.findall(r"\$\{\{(.*?)\}\}", text))
    return sorted(found)


def test_the_expressions_of_the_repository_read_the_same_either_way():
    sources = _repository_expressions()
    read = [s for s in sources if simple.parse(s) is not None]
    for source in read:
        _agree(source)
    # Most expressions people write are simple: that is what keeps Jinja out of `validate`.
    assert len(read) >= 80 and len(read) > 0.7 * len(sources)


_WORDS = st.sampled_from(
    [
        "params",
        "tasks",
        "x",
        "outputs",
        "true",
        "False",
        "None",
        "not",
        "and",
        "in",
        "if",
        "is",
        "range",
        "int",
        "join",
        "raw",
        "upper",
        "default",
        "bogus",
        "0",
        "1",
        "12",
        "0.5",
        "1e5",
        "007",
        "1_0",
        "1.",
        "'a'",
        '"b c"',
        "''",
        "'a\\n'",
        "'é'",
        ".",
        "|",
        "(",
        ")",
        ",",
        "==",
        "!=",
        "<",
        ">",
        "<=",
        ">=",
        "=",
        "!",
        "+",
        "-",
        "~",
        "[",
        "]",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_WORDS, st.sampled_from(["", " ", "\n", "\t"])), min_size=1, max_size=9))
def test_whatever_it_reads_it_reads_as_jinja_does(pieces):
    source = "".join(word + space for word, space in pieces)
    if simple.parse(source) is not None:
        _agree(source)
