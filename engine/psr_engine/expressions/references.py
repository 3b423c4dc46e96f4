"""Which names an expression reads: the basis of static checks and of undefined-name messages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psr_engine.expressions import simple
from psr_engine.expressions.environment import SyntaxProblem, parse
from psr_engine.expressions.helpers import GLOBAL_NAMES
from psr_engine.expressions.scan import Expr, error, split


@dataclass(frozen=True, slots=True)
class Reference:
    """A name read by an expression: ``root`` plus the constant keys read below it.

    ``${{ tasks.extract.outputs.rows | int }}`` reads
    ``Reference("tasks", ("extract", "outputs", "rows"))``; ``params['date']`` reads
    ``Reference("params", ("date",))``. The path stops at the first key that is not a constant
    string (``results[0]``, ``params[matrix.key]``) and leaves out the method in ``x.get(...)``.
    """

    root: str
    path: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ".".join((self.root, *self.path))


def references(text: str) -> list[Reference]:
    """Every name the expressions in ``text`` read, in evaluation order, without repeats.
    Helper functions (``fromJSON``...) are not references. Raises ExpressionError on a syntax
    error."""
    found: dict[Reference, None] = {}
    for part in split(text):
        if isinstance(part, Expr):
            try:
                refs = references_of(part.source)
            except SyntaxProblem as exc:
                raise error(text, part.start, f"invalid expression {part.display}: {exc}") from None
            found.update(dict.fromkeys(refs))
    return list(found)


def references_of(source: str) -> tuple[Reference, ...]:
    """The references of one expression's source (between the delimiters). Raises
    SyntaxProblem."""
    return analyze(source)[0]


@lru_cache(maxsize=16384)
def analyze(source: str) -> tuple[tuple[Reference, ...], tuple[str, ...]]:
    """One parse of an expression: the names it reads, and the filters and tests it calls
    that the environment does not have. Validation needs only this, never code generation
    (compiling costs ~10x parsing, and a 10,000-task manifest holds 10,000 expressions).
    Simple expressions are read without Jinja (simple.py), with the same answer."""
    tree = simple.parse(source)
    if tree is not None:
        found = [Reference(root, keys) for root, keys in simple.references(tree)]
        return tuple(dict.fromkeys(r for r in found if r.root not in GLOBAL_NAMES)), ()
    return _analyze_with_jinja(source)


def _analyze_with_jinja(source: str) -> tuple[tuple[Reference, ...], tuple[str, ...]]:
    from jinja2 import nodes

    from psr_engine.expressions.environment import environment

    tree = parse(source)
    out: list[Reference] = []
    _walk(tree, out)
    env = environment()
    every = [tree, *tree.find_all(nodes.Node)]  # find_all leaves out the root itself
    unknown = [
        f"No filter named {n.name!r}"
        for n in every
        if isinstance(n, nodes.Filter) and n.name not in env.filters
    ]
    unknown += [
        f"No test named {n.name!r}"
        for n in every
        if isinstance(n, nodes.Test) and n.name not in env.tests
    ]
    return tuple(dict.fromkeys(out)), tuple(unknown)


def _walk(node: Any, out: list[Reference]) -> None:
    from jinja2 import nodes

    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        _walk_chain(node, out)
        return
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        # x.get('k') reads x; the method name is not data.
        _walk(node.node.node, out)
        for child in node.iter_child_nodes(exclude=("node",)):
            _walk(child, out)
        return
    for child in node.iter_child_nodes():
        _walk(child, out)


def _walk_chain(node: Any, out: list[Reference]) -> None:
    """Follow a.b['c'].d down to its root name, collecting constant keys on the way."""
    from jinja2 import nodes

    keys: list[str] = []  # innermost last, reversed at the end
    pending: list[Any] = []  # dynamic subscripts, which read names of their own
    while True:
        if isinstance(node, nodes.Getattr):
            keys.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                keys.append(node.arg.value)
            else:
                keys.clear()  # what lies beyond a dynamic or numeric key is not a known path
                pending.append(node.arg)
            node = node.node
        else:
            break
    if isinstance(node, nodes.Name):
        if node.name not in GLOBAL_NAMES:
            out.append(Reference(node.name, tuple(reversed(keys))))
    else:
        _walk(node, out)
    for arg in pending:
        _walk(arg, out)
