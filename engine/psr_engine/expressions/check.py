"""Static checks of expressions at validation time, before anything runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from psr_engine.errors import ExpressionError
from psr_engine.expressions.environment import SyntaxProblem
from psr_engine.expressions.helpers import GLOBAL_NAMES
from psr_engine.expressions.references import Reference, analyze
from psr_engine.expressions.scan import Expr, split

ROOTS = ("params", "env", "matrix", "tasks", "run", "workflow", "secrets")
TASK_FIELDS = ("status", "outputs", "exitCode", "attempts", "duration", "results")
RUN_FIELDS = ("id", "status", "startedAt")
WORKFLOW_FIELDS = ("name", "labels")


@dataclass(frozen=True)
class Scope:
    """What an expression in one field of one task may read."""

    params: frozenset[str]
    env: frozenset[str]
    secrets: frozenset[str]
    matrix: frozenset[str]  # matrix keys of the task being checked (empty if none)
    tasks: frozenset[str]  # tasks that may be referenced (upstream of this task)
    all_tasks: frozenset[str]  # every task, to say "not upstream" rather than "unknown"
    run: bool = True  # run.* allowed
    allow_secrets_in_text: bool = True
    # param -> its declared type (string, integer...): comparisons of known types are checked
    param_types: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    # task -> the outputs it declares, for the tasks that declare `outputs:`
    outputs: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)


def check(text: str, scope: Scope) -> list[str]:
    """Problems with the expressions in ``text`` (empty list: none). Each message names the
    expression; the caller adds file and line."""
    try:
        parts = split(text)
    except ExpressionError as exc:
        return [d.message for d in exc.diagnostics]
    messages: dict[str, None] = {}
    for part in parts:
        if isinstance(part, Expr):
            messages.update(dict.fromkeys(_check_expr(part, scope)))
    return list(messages)


def _check_expr(expr: Expr, scope: Scope) -> list[str]:
    try:
        refs, unknown = analyze(expr.source)
    except SyntaxProblem as exc:
        return [f"invalid expression {expr.display}: {exc}"]
    if unknown:
        return [f"invalid expression {expr.display}: {problem}" for problem in unknown]
    problems = [f"{expr.display}: {p}" for ref in refs if (p := _problem(ref, scope))]
    if not problems:
        from psr_engine.expressions.comparisons import conflicts

        problems = [
            f"{expr.display}: {p}"
            for p in conflicts(expr.source, param_types=scope.param_types, output_tasks=scope.tasks)
        ]
    return problems


def _problem(ref: Reference, scope: Scope) -> str | None:
    root, path = ref.root, ref.path
    key = path[0] if path else None
    if root == "params":
        return _unknown_key("param", key, scope.params)
    if root == "env":
        return _unknown_key("env variable", key, scope.env, where="workflow env")
    if root == "secrets":
        if not scope.allow_secrets_in_text:
            return (
                "secrets may not be written into this field; pass the secret to the task "
                "through env and read it from there"
            )
        return _unknown_key("secret", key, scope.secrets)
    if root == "matrix":
        if key is not None and not scope.matrix:
            return f"'matrix.{key}' is used but this task has no matrix"
        return _unknown_key("matrix key", key, scope.matrix)
    if root == "tasks":
        return _task_problem(path, scope)
    if root == "run":
        if not scope.run:
            return "run.* is not available here"
        return _unknown_key("run field", key, frozenset(RUN_FIELDS))
    if root == "workflow":
        return _unknown_key("workflow field", key, frozenset(WORKFLOW_FIELDS))
    return f"unknown name '{root}'" + _did_you_mean(root, (*ROOTS, *GLOBAL_NAMES))


def _task_problem(path: tuple[str, ...], scope: Scope) -> str | None:
    if not path:
        return None
    task = path[0]
    if task not in scope.all_tasks:
        return f"unknown task '{task}'" + _did_you_mean(task, scope.all_tasks)
    if task not in scope.tasks:
        return f"task '{task}' is not upstream of this task: add it to needs"
    if len(path) > 1 and path[1] not in TASK_FIELDS:
        return (
            f"tasks.{task} has no field '{path[1]}'"
            + _did_you_mean(path[1], TASK_FIELDS)
            + f"; fields are {', '.join(TASK_FIELDS)}"
        )
    declared = scope.outputs.get(task)
    if len(path) > 2 and path[1] == "outputs" and declared is not None and path[2] not in declared:
        listed = ", ".join(sorted(declared)) or "none"
        return (
            f"task '{task}' declares no output '{path[2]}'"
            + _did_you_mean(path[2], declared)
            + f"; its outputs: {listed} (add it to the task's outputs: if it writes it)"
        )
    return None


def _unknown_key(
    kind: str, key: str | None, known: frozenset[str], *, where: str = ""
) -> str | None:
    if key is None or key in known:
        return None
    message = f"unknown {kind} '{key}'"
    if where:
        message += f" (not in the {where})"
    hint = _did_you_mean(key, known)
    if not hint and known:
        hint = f"; known: {', '.join(sorted(known)[:10])}" + (", ..." if len(known) > 10 else "")
    return message + hint


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    import difflib  # only for a name that is wrong

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
