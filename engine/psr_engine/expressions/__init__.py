"""Expressions: ``${{ ... }}`` in manifest text and ``when`` conditions.

The language is Jinja2 expressions in its immutable sandbox with StrictUndefined, plus GitHub
Actions' helpers (fromJSON, toJSON, contains, startsWith, endsWith, format, join). Names in scope:
params, env, matrix, tasks, run, workflow, secrets. ``render`` interpolates into text
(``render_command`` quotes each value for its place in a ``run:`` command, ``check_command``
finds the places where no quoting is safe), ``evaluate`` gives a native value,
``evaluate_condition`` decides ``when``, ``references`` and ``check`` inspect expressions
statically at validation time.

Nothing here imports Jinja2 until an expression is actually parsed or evaluated.
"""

from __future__ import annotations

from psr_engine.errors import ExpressionError
from psr_engine.expressions.check import Scope, check
from psr_engine.expressions.references import Reference, references
from psr_engine.expressions.render import evaluate, evaluate_condition, render, render_command
from psr_engine.expressions.scan import contains_expression, is_whole_expression
from psr_engine.expressions.shell_quote import Problem as ShellProblem
from psr_engine.expressions.shell_quote import check_command, is_posix_shell

__all__ = [
    "ExpressionError",
    "Reference",
    "Scope",
    "ShellProblem",
    "check",
    "check_command",
    "contains_expression",
    "evaluate",
    "evaluate_condition",
    "is_posix_shell",
    "is_whole_expression",
    "references",
    "render",
    "render_command",
]
