"""The Jinja2 side: one immutable sandboxed environment, and cached parsing and compilation.

Jinja2 is imported inside these functions, never at module level: importing it costs start-up
time that commands which render nothing (``psr-engine --version``) should not pay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any

from psr_engine.expressions.helpers import FILTERS, GLOBALS, JINJA_GLOBALS


class SyntaxProblem(Exception):
    """An expression that does not parse or compile; ``str()`` is Jinja's message."""


# The largest text or list `*` may build, and the largest number `**` may (in bits): Jinja's
# sandbox bounds range() to 100,000 items but lets `[0] * params.n` or `9 ** params.n` take
# all memory (or minutes of CPU) from one param.
MAX_REPEAT = 1_000_000
MAX_POWER_BITS = 100_000


def _bounded_binop(operator: str, left: Any, right: Any) -> Any:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(times, int)
                and len(seq) * times > MAX_REPEAT
            ):
                raise OverflowError(
                    f"`*` would build {len(seq) * times:,} items (at most {MAX_REPEAT:,})"
                )
        return left * right
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and abs(left).bit_length() * right > MAX_POWER_BITS
    ):
        raise OverflowError(f"`**` would give a number of more than {MAX_POWER_BITS:,} bits")
    return left**right


@cache
def environment() -> Any:
    """The shared ImmutableSandboxedEnvironment with StrictUndefined and our helpers."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class ExpressionEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            return _bounded_binop(operator, left, right)

        def getattr(self, obj: Any, attribute: str) -> Any:
            # On a mapping, `x.name` means the key first: a param called `items` or `keys`
            # must not come back as a dict method.
            if isinstance(obj, Mapping):
                try:
                    return obj[attribute]
                except (KeyError, TypeError):
                    pass
            return super().getattr(obj, attribute)

    env = ExpressionEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        variable_start_string="${{",
        variable_end_string="}}",
    )
    kept = {name: env.globals[name] for name in JINJA_GLOBALS}
    env.globals.clear()
    env.globals.update(kept)
    env.globals.update(GLOBALS)
    env.filters.update(FILTERS)
    return env


def parse(source: str) -> Any:
    """The Jinja AST (a ``jinja2.nodes.Expr``) of one expression. Raises SyntaxProblem."""
    from jinja2.exceptions import TemplateSyntaxError
    from jinja2.parser import Parser

    if not source.strip():
        raise SyntaxProblem("empty expression")
    try:
        # The lexer reads the first token as the parser is made: `${{ ) }}` fails there.
        parser = Parser(environment(), source, state="variable")
        node = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise SyntaxProblem(f"unexpected {token.value!r} after the expression")
    except TemplateSyntaxError as exc:
        message = (exc.message or str(exc)).replace("end of template", "end of expression")
        raise SyntaxProblem(message) from None
    return node


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> Callable[[Mapping[str, Any]], Any]:
    """A function from a context to the expression's value, cached by source text: a plan
    renders the same few expressions for thousands of tasks. Raises SyntaxProblem."""
    from jinja2 import nodes
    from jinja2.exceptions import TemplateSyntaxError

    env = environment()
    # A fresh parse, not parse()'s tree: compilation constant-folds the tree in place.
    node = parse(source)
    body = [nodes.Assign(nodes.Name("result", "store"), node, lineno=1)]
    try:
        template = env.from_string(nodes.Template(body, lineno=1))
    except TemplateSyntaxError as exc:  # unknown filter or test, found at compile time
        raise SyntaxProblem(exc.message or str(exc)) from None
    new_context = template.new_context
    render_root = template.root_render_func

    def run(context: Mapping[str, Any]) -> Any:
        frame = new_context(context)
        for _ in render_root(frame):
            pass
        return frame.vars["result"]

    return run
