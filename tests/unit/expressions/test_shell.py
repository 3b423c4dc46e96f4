"""render(shell=True): interpolated values stay single, inert shell words unless `| raw`.

Each command is actually run by bash in a temporary folder: the proof that an injection
attempt is inert is that it created nothing and printed the value back verbatim.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psr_engine.expressions import render

NASTY = [
    "x; touch pwned",
    "; rm -rf ./victim",
    "$(touch pwned)",
    "`touch pwned`",
    "a' ; touch pwned; echo '",
    'a" ; touch pwned; echo "',
    "line1\ntouch pwned",
    "&& touch pwned",
    "| touch pwned",
    "> pwned",
    "${IFS}touch${IFS}pwned",
    "*",
    "",
    "-n",
    "'\"'\"'",
]


def run_bash(command: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, check=True, timeout=10
    )
    return done.stdout.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("value", NASTY)
def test_hostile_param_is_inert_in_a_run_command(value: str, tmp_path: Path) -> None:
    (tmp_path / "victim").mkdir()
    command = render("printf %s ${{ params.x }}", {"params": {"x": value}}, shell=True)
    assert run_bash(command, tmp_path) == value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim"]


def test_each_value_is_one_word(tmp_path: Path) -> None:
    context = {"params": {"a": "two words", "b": "", "c": ["x y", "z"]}}
    command = render(
        "printf '<%s>' ${{ params.a }} ${{ params.b }} ${{ params.c }}", context, shell=True
    )
    assert run_bash(command, tmp_path) == '<two words><><["x y","z"]>'


def test_raw_passes_trusted_shell_text_through(tmp_path: Path) -> None:
    context = {"params": {"cmd": "printf a; printf b", "x": "$(echo hi)"}}
    assert render("${{ params.cmd | raw }}", context, shell=True) == "printf a; printf b"
    assert run_bash(render("${{ params.cmd | raw }}", context, shell=True), tmp_path) == "ab"
    assert run_bash(render("printf %s ${{ params.x|raw }}", context, shell=True), tmp_path) == "hi"


def test_raw_only_counts_when_it_is_the_last_filter() -> None:
    context = {"params": {"x": "a b"}}
    assert render("${{ params.x | raw | upper }}", context, shell=True) == "'A B'"
    assert render("${{ (params.x | raw) ~ '!' }}", context, shell=True) == "'a b!'"


def test_without_shell_nothing_is_quoted() -> None:
    assert render("${{ params.x }}", {"params": {"x": "a; b"}}) == "a; b"
    assert render("${{ params.x | raw }}", {"params": {"x": "a; b"}}) == "a; b"


def test_markup_from_tojson_is_quoted_as_plain_text(tmp_path: Path) -> None:
    context = {"params": {"x": ["it's", "<b>"]}}
    command = render("printf %s ${{ params.x | tojson }}", context, shell=True)
    assert run_bash(command, tmp_path) == '["it\\u0027s", "\\u003cb\\u003e"]'


# Bash arguments cannot hold NUL; surrogates cannot be encoded to bytes.
shell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=shell_text)
def test_any_param_string_comes_back_verbatim_through_bash(value: str, tmp_path: Path) -> None:
    command = render("printf %s ${{ params.x }}", {"params": {"x": value}}, shell=True)
    assert run_bash(command, tmp_path) == value
