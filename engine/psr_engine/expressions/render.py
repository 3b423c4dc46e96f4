"""Evaluating expressions against a run's values: render, evaluate, evaluate_condition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from psr_engine.errors import ExpressionError
from psr_engine.expressions import shell_quote
from psr_engine.expressions.environment import SyntaxProblem, compile_expression
from psr_engine.expressions.references import references_of
from psr_engine.expressions.scan import OPEN, Expr, error, is_whole_expression, split
from psr_engine.expressions.values import Trusted, to_text, truthy


def render(text: str, context: Mapping[str, Any], *, shell: bool = False) -> str:
    """Replace every ``${{ expr }}`` in ``text`` by its value as text (see ``values.to_text``).

    With ``shell=True`` the text is a command for bash (or another POSIX shell): see
    ``render_command``. Text without ``${{`` is returned unchanged. Raises ExpressionError.
    """
    if OPEN not in text:
        return text
    if shell:
        return render_command(text, context)
    out: list[str] = []
    for part in split(text):
        if isinstance(part, Expr):
            out.append(to_text(_evaluate(part, context, text)))
        else:
            out.append(part)
    return "".join(out)


def render_command(text: str, context: Mapping[str, Any], *, shell: str | None = None) -> str:
    """A ``run:`` command for ``shell`` (None: bash) with each value quoted for the place it
    takes, so that the shell reads back exactly the value, whatever it holds (see
    ``shell_quote``). ``| raw`` values are spliced as written, and the command is scanned
    again with them in, so the other values are quoted for the places the raw text gives them.
    Raises ExpressionError for a value placed where no quoting is safe, or one that would end
    a here-document early.
    """
    if OPEN not in text:
        return text
    posix = shell is None or shell_quote.is_posix_shell(shell)
    parts = split(text)
    values = [_evaluate(p, context, text) for p in parts if isinstance(p, Expr)]
    raw = None
    for value in values:
        if isinstance(value, Trusted):
            raw = tuple(str.__str__(v) if isinstance(v, Trusted) else None for v in values)
            break
    # Scanned once per command text (cached); per attempt, what is left is evaluating and
    # quoting, as cheap as the shlex.quote it replaced.
    found = shell_quote.layout(text, raw, posix)
    out: list[str] = []
    pieces: list[str | None] = []
    k = 0
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        place, value = found.places[k], values[k]
        k += 1
        if place is None:
            piece = str.__str__(value)
        elif place.context == "refused":
            _refuse(text, part, place.reason, shell=shell, posix=posix)
        else:
            piece = shell_quote.quote(place.context, to_text(value))
        out.append(piece)
        pieces.append(piece)
    if found.heredocs:
        _check_heredocs(text, found, pieces, shell=shell, posix=posix)
    return "".join(out)


def _refuse(text: str, expr: Expr, reason: str, *, shell: str | None, posix: bool) -> NoReturn:
    problem = shell_quote.refusal(expr, reason, shell=shell, posix=posix)
    raise error(text, expr.start, problem.message, hint=problem.hint)


def _check_heredocs(
    text: str,
    found: shell_quote.Layout,
    pieces: list[str | None],
    *,
    shell: str | None,
    posix: bool,
) -> None:
    fault = shell_quote.heredoc_problem(found, pieces, shell=shell)
    if fault is None:
        return
    index, why = fault
    expr = [p for p in split(text) if isinstance(p, Expr)][index]
    problem = shell_quote.refusal(expr, "", shell=shell, posix=posix)
    raise error(text, expr.start, f"the value of {expr.display} {why}", hint=problem.hint)


def evaluate(text: str, context: Mapping[str, Any]) -> Any:
    """The native value of one expression: ``text`` is exactly one ``${{ expr }}`` (blanks
    around it allowed) or a bare expression. Raises ExpressionError."""
    return _evaluate(single_expression(text), context, text)


def evaluate_condition(text: str, context: Mapping[str, Any]) -> bool:
    """A ``when`` condition: evaluate, then truthiness, where the strings "false", "0" and ""
    are false. Raises ExpressionError."""
    return truthy(evaluate(text, context))


def single_expression(text: str) -> Expr:
    """The one expression ``text`` holds, wrapped or bare. Raises ExpressionError."""
    if OPEN not in text:
        return Expr(text, 0)
    if not is_whole_expression(text):
        raise error(
            text,
            0,
            f"expected one expression, got {text!r}",
            hint="write a single ${{ ... }} (or a bare expression) with nothing around it",
        )
    return next(p for p in split(text) if isinstance(p, Expr))


def _evaluate(expr: Expr, context: Mapping[str, Any], text: str) -> Any:
    from jinja2.exceptions import SecurityError, UndefinedError

    offset = expr.start
    try:
        run = compile_expression(expr.source)
    except SyntaxProblem as exc:
        raise error(text, offset, f"invalid expression {expr.display}: {exc}") from None
    try:
        value = run(context)
        _fail_if_undefined(value)
    except SecurityError as exc:
        raise error(text, offset, f"{expr.display} was refused by the sandbox: {exc}") from None
    except UndefinedError as exc:
        problem = _undefined_name(expr.source, context) or str(exc)
        raise error(
            text,
            offset,
            f"{expr.display}: {problem}",
            hint="use `| default(...)` for a value that may be missing",
        ) from None
    except ExpressionError:
        raise
    except Exception as exc:  # any failure inside user code is the expression's fault
        raise error(
            text, offset, f"cannot evaluate {expr.display}: {type(exc).__name__}: {exc}"
        ) from None
    if isinstance(value, Trusted) or not isinstance(value, str):
        return value
    return to_text(value)  # Markup from Jinja filters becomes plain str


def _fail_if_undefined(value: Any) -> None:
    """StrictUndefined raises when used, not when stored: a bare ``params.missing`` result, or
    one inside a list or dict, must fail here rather than surface later."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    elif isinstance(value, list | tuple):
        for item in value:
            _fail_if_undefined(item)
    elif isinstance(value, dict):
        for item in value.values():
            _fail_if_undefined(item)


def _undefined_name(source: str, context: Mapping[str, Any]) -> str | None:
    """Which name the expression read that the context lacks, said the way the user wrote it."""
    try:
        refs = references_of(source)
    except SyntaxProblem:
        return None
    for ref in refs:
        if ref.root not in context:
            return f"'{ref.root}' is undefined" + _suggest(ref.root, context)
        value = context[ref.root]
        walked = ref.root
        for key in ref.path:
            if not isinstance(value, Mapping):
                break
            if key not in value:
                return f"'{walked}.{key}' is undefined" + _suggest(key, value, walked)
            value = value[key]
            walked = f"{walked}.{key}"
    return None


def _suggest(name: str, known: Mapping[str, Any], owner: str = "") -> str:
    names = [str(k) for k in known]
    import difflib  # only for a name that is wrong

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{f'{owner}.' if owner else ''}{close[0]}'?)"
    if not owner:
        return ""
    if not names:
        return f" ({owner} is empty)"
    shown = ", ".join(sorted(names)[:10]) + (", ..." if len(names) > 10 else "")
    return f" ({owner} has: {shown})"
