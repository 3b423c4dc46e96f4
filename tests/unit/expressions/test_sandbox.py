"""The sandbox: expressions cannot reach Python internals or run code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from psr_engine.expressions import ExpressionError, evaluate, render

ESCAPES = [
    "''.__class__.__mro__",
    "''.__class__.__mro__[1].__subclasses__()",
    "cycler.__init__.__globals__",
    "joiner.__init__.__globals__.os",
    "range.__self__",
    "params.__class__",
    "params._private",
    "fromJSON.__globals__",
    "fromJSON.__code__",
    "dict.__init__",
    "lipsum.__globals__",
    "''.format.__globals__",
    "'{0.__class__}'.format(params)",
    "self.__init__.__globals__",
    "params.x.__class__.__base__.__subclasses__()",
    "(1).__class__",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempt_is_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        render("${{ " + expression + " }}", {"params": {"x": "s"}})


def test_immutable_sandbox_forbids_mutating_values() -> None:
    context = {"params": {"regions": ["eu"]}}
    with pytest.raises(ExpressionError, match="sandbox"):
        evaluate("params.regions.append('x')", context)
    with pytest.raises(ExpressionError, match="sandbox"):
        evaluate("params.update({'a': 1})", context)
    assert context == {"params": {"regions": ["eu"]}}


def test_no_way_to_import_or_open_files(tmp_path: Path) -> None:
    for expression in ("__import__('os')", "open('x', 'w')", "eval('1')", "exec('1')"):
        with pytest.raises(ExpressionError):
            render("${{ " + expression + " }}", {})
    assert list(tmp_path.iterdir()) == []


def test_importing_expressions_does_not_import_jinja2() -> None:
    # A fresh interpreter: this test session has long since imported jinja2.
    code = (
        "import sys, psr_engine.expressions as e\n"
        "assert e.render('plain text', {}) == 'plain text'\n"
        "assert e.contains_expression('${{ x }}')\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
