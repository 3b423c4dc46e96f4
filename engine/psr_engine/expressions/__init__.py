"""Expressions: ``${{ ... }}`` in manifest text and ``when`` conditions.

The language is Jinja2 expressions in its immutable sandbox with StrictUndefined, plus GitHub
Actions' helpers (fromJSON, toJSON, contains, startsWith, endsWith, format, join). Names in scope:
params, env, matrix, tasks, run, workflow, secrets. ``render`` interpolates into text (shell-quoting
for ``run:`` commands), ``evaluate`` gives a native value, ``evaluate_condition`` decides ``when``,
``references`` and ``check`` inspect expressions statically at validation time.

Nothing here imports Jinja2 until an expression is actually parsed or evaluated.
"""

from __future__ import annotations

from psr_engine.errors import ExpressionError
from psr_engine.expressions.check import Scope, check
from psr_engine.expressions.references import Reference, references
from psr_engine.expressions.render import evaluate, evaluate_condition, render
from psr_engine.expressions.scan import contains_expression, is_whole_expression

__all__ = [
    "ExpressionError",
    "Reference",
    "Scope",
    "check",
    "contains_expression",
    "evaluate",
    "evaluate_condition",
    "is_whole_expression",
    "references",
    "render",
]
