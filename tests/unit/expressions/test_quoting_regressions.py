"""Regressions of issue 13's shell injection, through the API the old code had too
(``render(..., shell=True)``, what ``run:`` commands get): each test failed on base-5ed0cca,
where every value was shlex-quoted whatever surrounded it, so that inside "…", '…' or a
here-document its quotes meant nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from psr_engine.errors import ExpressionError
from psr_engine.expressions import render

V = "${{ params.v }}"


def _run(command: str, cwd: Path, shell: str = "bash") -> str:
    done = subprocess.run([shell, "-c", command], cwd=cwd, capture_output=True, timeout=10)
    return done.stdout.decode()


def _made(cwd: Path) -> list[str]:
    return sorted(p.name for p in cwd.iterdir())


def test_regression_a_value_inside_double_quotes_is_data(tmp_path: Path) -> None:
    value = '$(touch pwned)`touch pwned2`"; touch pwned3; "'
    command = render(f'printf %s "x={V}"', {"params": {"v": value}}, shell=True)
    assert _run(command, tmp_path) == "x=" + value
    assert _made(tmp_path) == []


def test_regression_a_value_inside_single_quotes_is_data(tmp_path: Path) -> None:
    value = "a' ; touch pwned ; '"
    command = render(f"printf %s 'x={V}'", {"params": {"v": value}}, shell=True)
    assert _run(command, tmp_path) == "x=" + value
    assert _made(tmp_path) == []


def test_regression_a_value_in_an_unquoted_heredoc_is_data(tmp_path: Path) -> None:
    value = "$(touch pwned) `touch pwned2` \\$HOME"
    command = render(f"cat <<EOF\n{V}\nEOF", {"params": {"v": value}}, shell=True)
    assert _run(command, tmp_path) == value + "\n"
    assert _made(tmp_path) == []


def test_regression_a_value_cannot_end_a_quoted_heredoc_early(tmp_path: Path) -> None:
    with pytest.raises(ExpressionError, match="ending it early"):
        render(f"cat <<'EOF'\n{V}\nEOF", {"params": {"v": "x\nEOF\ntouch pwned"}}, shell=True)


def test_regression_a_value_inside_command_substitution_is_refused() -> None:
    with pytest.raises(ExpressionError, match=r"inside `\$\(…\)`"):
        render(f"echo $(echo {V})", {"params": {"v": "x; touch pwned"}}, shell=True)


def test_regression_quoted_placements_carry_no_quote_characters_into_the_data(
    tmp_path: Path,
) -> None:
    command = render(f'printf %s "loaded for {V}"', {"params": {"v": "2026 11 24"}}, shell=True)
    assert _run(command, tmp_path) == "loaded for 2026 11 24"
