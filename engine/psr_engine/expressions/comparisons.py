"""Comparisons whose two sides are known, before anything runs, to hold different types.

`params.count == "3"` with an integer param is never true, and `tasks.a.outputs.rows > 0` (an
output is always text) fails when the task runs. What a side holds is known for a constant,
a typed param, a task output, and a conversion filter (`| int`); anything else is unknown and
never reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psr_engine.expressions import simple
from psr_engine.expressions.references import Reference

# What each kind of operand is, in the words a message uses.
Kind = str  # "number" | "text" | "boolean"
_PARAM_KINDS = {"integer": "number", "number": "number", "string": "text", "boolean": "boolean"}
_FILTER_KINDS = {
    "int": "number",
    "float": "number",
    "length": "number",
    "count": "number",
    "string": "text",
    "lower": "text",
    "upper": "text",
    "trim": "text",
    "tojson": "text",
    "toJSON": "text",
}
_OPS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "lteq": "<=", "gteq": ">="}


@dataclass(frozen=True, slots=True)
class Operand:
    """One side of a comparison: its source text, and what is known of its type."""

    text: str
    const: Kind | None = None  # a literal's kind, or a conversion filter's result
    reference: Reference | None = None  # a bare name whose type the scope may know


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    op: str  # ==, !=, <, ...
    right: Operand


@lru_cache(maxsize=4096)
def comparisons(source: str) -> tuple[Comparison, ...]:
    """The comparisons in one expression's source. Raises SyntaxProblem."""
    tree = simple.parse(source)
    if tree is not None:
        return _simple_comparisons(tree)
    return _comparisons_with_jinja(source)


def _comparisons_with_jinja(source: str) -> tuple[Comparison, ...]:
    from jinja2 import nodes

    from psr_engine.expressions.environment import parse

    tree = parse(source)
    found: list[Comparison] = []
    for node in [tree, *tree.find_all(nodes.Compare)]:
        if not isinstance(node, nodes.Compare):
            continue
        left = _operand(node.expr, source)
        for operand in node.ops:
            right = _operand(operand.expr, source)
            if operand.op in _OPS:
                found.append(Comparison(left, _OPS[operand.op], right))
            left = right
    return tuple(found)


def _simple_comparisons(tree: simple.Node) -> tuple[Comparison, ...]:
    """What the Jinja tree of a simple expression gives below (`_operand`, `_text`)."""
    if tree[0] != "compare":
        return ()
    _, left, op, right = tree
    return (Comparison(_simple_operand(left), _OPS[op], _simple_operand(right)),)


def _constant(text: str, value: Any) -> Operand:
    """A constant operand, whichever reader found it (simple.py's or Jinja's), by its kind."""
    if isinstance(value, bool):  # before int: a bool is one
        return Operand(text, const="boolean")
    if isinstance(value, int | float):
        return Operand(text, const="number")
    if isinstance(value, str):
        return Operand(text, const="text")
    return Operand(text)


def _simple_operand(node: simple.Node) -> Operand:
    text = _simple_text(node)
    if node[0] == "const":
        return _constant(text, node[1])
    if node[0] == "filter":
        return Operand(text, const=_FILTER_KINDS.get(node[2]))
    return Operand(text, reference=Reference(node[1], node[2]))


def _simple_text(node: simple.Node) -> str:
    if node[0] == "const":
        value = node[1]
        return repr(value) if isinstance(value, str) else str(value).lower()
    if node[0] == "filter":
        return f"{_simple_text(node[1])} | {node[2]}"
    return str(Reference(node[1], node[2]))


def conflicts(
    source: str,
    *,
    param_types: Mapping[str, str],
    output_tasks: frozenset[str] = frozenset(),
) -> list[str]:
    """A message per comparison whose sides are known to differ in type. `output_tasks`: the
    tasks whose outputs may be read (every output is text)."""
    messages = []
    for comparison in comparisons(source):
        left = _kind(comparison.left, param_types, output_tasks)
        right = _kind(comparison.right, param_types, output_tasks)
        if left is None or right is None or left == right:
            continue
        if {left, right} == {"number", "boolean"}:
            continue  # Python compares them (True == 1): odd but not wrong
        if comparison.op == "==":
            outcome = "they are never equal"
        elif comparison.op == "!=":
            outcome = "they always differ"
        else:
            outcome = f"`{comparison.op}` between them fails when the task runs"
        messages.append(
            f"compares {_described(comparison.left, left)} with "
            f"{_described(comparison.right, right)}: {outcome}; convert one side "
            "(`| int`, `| float`, `| string`) or compare with a value of the same type"
        )
    return messages


def _kind(operand: Operand, param_types: Mapping[str, str], outputs: frozenset[str]) -> Kind | None:
    if operand.const is not None:
        return operand.const
    ref = operand.reference
    if ref is None:
        return None
    if ref.root == "params" and len(ref.path) == 1:
        return _PARAM_KINDS.get(param_types.get(ref.path[0], ""))
    if ref.root == "tasks" and len(ref.path) == 3 and ref.path[1] == "outputs":
        return "text" if ref.path[0] in outputs else None
    return None


def _described(operand: Operand, kind: Kind) -> str:
    what = {"number": "a number", "text": "text", "boolean": "true/false"}[kind]
    ref = operand.reference
    if ref is not None and ref.root == "tasks":
        what = "an output: always text"
    return f"`{operand.text}` ({what})"


def _operand(node: Any, source: str) -> Operand:
    from jinja2 import nodes

    text = _text(node, source)
    if isinstance(node, nodes.Const):
        return _constant(text, node.value)
    if isinstance(node, nodes.Neg | nodes.Pos) and isinstance(node.node, nodes.Const):
        inner = _operand(node.node, source)
        return Operand(text, const=inner.const)
    if isinstance(node, nodes.Filter):
        return Operand(text, const=_FILTER_KINDS.get(node.name))
    reference = _reference(node)
    return Operand(text, reference=reference)


def _reference(node: Any) -> Reference | None:
    """`params.n`, `tasks.a.outputs['rows']`: a name followed by constant keys only."""
    from jinja2 import nodes

    keys: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            keys.append(node.attr)
            node = node.node
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            keys.append(node.arg.value)
            node = node.node
        else:
            break
    if isinstance(node, nodes.Name):
        return Reference(node.name, tuple(reversed(keys)))
    return None


def _text(node: Any, source: str) -> str:
    """A readable rendering of the operand (Jinja keeps no column offsets)."""
    from jinja2 import nodes

    if isinstance(node, nodes.Const):
        return repr(node.value) if isinstance(node.value, str) else str(node.value).lower()
    reference = _reference(node)
    if reference is not None:
        return str(reference)
    if isinstance(node, nodes.Filter) and node.node is not None:
        return f"{_text(node.node, source)} | {node.name}"
    return "the value"
