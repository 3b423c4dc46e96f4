"""What `apply --dry-run` prints: each task in the order it could start, its whole command
with every `${{ }}` rendered that can be known before the run (params, matrix, the workflow's
env and names), quoted as the run will quote it; what only the run knows (task outputs,
run.*, secrets) is left as written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psr_engine.errors import ExpressionError
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.printable import printable

# What an expression may read that is known before the run.
_KNOWN = frozenset({"params", "matrix", "env", "workflow"})
_INDENT = "      "


def describe_dry_run(plan: Plan) -> str:
    lines = [f"dry run of {plan.workflow}: {len(plan.tasks)} tasks, nothing executed"]
    base = _base_context(plan)
    for level_number, level in enumerate(plan.levels or (tuple(t.id for t in plan.tasks),)):
        lines.append(f"level {level_number}:")
        for task_id in level:
            task = plan.task(task_id)
            needs = f" (needs {', '.join(task.needs)})" if task.needs else ""
            lines.extend(_task_lines(f"  {task_id} [{task.kind}]{needs}", task, base))
    for task in plan.on_exit:
        lines.extend(_task_lines(f"on exit: {task.id} [{task.kind}]", task, base))
    return "\n".join(lines) + "\n"


def _task_lines(head: str, task: PlannedTask, base: Mapping[str, Any]) -> list[str]:
    context = {**base, "matrix": dict(task.matrix)}
    if task.kind == "run":
        what = _rendered(task.command, context, shell=task.shell or "")
    elif task.kind in ("python", "workflow"):
        what = " ".join((task.command, *(_rendered(a, context) for a in task.args))).strip()
    else:  # script source, a gate's name
        what = task.command
    if task.when:
        head += f" when {_rendered(task.when, context)}"
    text = what.strip("\n")
    # Each line printable (printable.py): values and names can hold control characters.
    if "\n" not in text:
        return [printable(f"{head}: {text}")]
    return [
        printable(f"{head}:"),
        *(printable(f"{_INDENT}{line}".rstrip()) for line in text.split("\n")),
    ]


def _base_context(plan: Plan) -> dict[str, Any]:
    workflow = {"name": plan.workflow, "labels": dict(plan.labels)}
    head = {"params": plan.params, "workflow": workflow, "env": {}}
    env = {}
    for name, value in plan.env.items():
        env[name] = _rendered(value, head)
    return {**head, "env": env}


def _rendered(text: str, context: Mapping[str, Any], *, shell: str | None = None) -> str:
    """`text` with each expression reading only what is known rendered (for a `run:` command,
    `shell` set: quoted for its place), the others as written."""
    from psr_engine import expressions
    from psr_engine.expressions.references import references_of
    from psr_engine.expressions.scan import Expr, split

    if "${{" not in text:
        return text
    try:
        parts = split(text)
    except ExpressionError:
        return text
    # Expressions only the run can evaluate become plain words no quoting touches, put back
    # as written once the rest is rendered.
    pending: dict[str, str] = {}
    kept: list[str] = []
    for part in parts:
        if isinstance(part, Expr):
            try:
                known = all(r.root in _KNOWN for r in references_of(part.source))
            except Exception:  # a syntax problem: validate reports it
                known = False
            if not known:
                token = f"PSRDRYRUN{len(pending)}X"
                pending[token] = "${{" + part.source + "}}"
                kept.append(token)
                continue
            kept.append("${{" + part.source + "}}")
        else:
            kept.append(part)
    try:
        if shell is None:
            out = expressions.render("".join(kept), context)
        else:
            out = expressions.render_command("".join(kept), context, shell=shell or None)
    except ExpressionError:
        return text
    for token, original in pending.items():
        out = out.replace(token, original)
    return out
