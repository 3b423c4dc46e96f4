"""Expressions simple enough to read without Jinja: a name and its keys, filters with constant
arguments, and at most one comparison (``params.regions | join(',')``,
``tasks.extract.outputs.rows | int > 0``).

Importing Jinja and building its environment costs more than the rest of validating a small
manifest, and nearly every expression in a manifest has this shape. For these, `parse` gives
the tree Jinja's parser would give, in a small form of its own, and the static checks read it
(references, comparisons, the last filter). Anything else, and anything in doubt (a filter not
listed below, a keyword, a float in exponent form, a string with escapes or non-ASCII
characters, a name that is not ASCII), is None here and goes to Jinja, so what a user sees
never depends on which of the two read the expression. The agreement is pinned by
tests/unit/expressions/test_simple.py.

Nodes are tuples (a dataclass per node kind would cost more at import than they save):
``("path", root, keys)``, ``("const", value)``, ``("filter", node, name)`` and
``("compare", left, op, right)``, `op` as Jinja names it (eq, ne, lt, gt, lteq, gteq).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

Node = tuple[Any, ...]

# Jinja filters of long standing whose names this module may accept, and ours (helpers.py):
# all are in the environment's filters (a test checks it), so none is an unknown filter.
FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "default",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "replace",
        "reverse",
        "round",
        "sort",
        "string",
        "sum",
        "title",
        "tojson",
        "trim",
        "unique",
        "upper",
        "fromJSON",
        "toJSON",
        "contains",
        "startsWith",
        "endsWith",
        "raw",
    }
)
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False}
_NONE = frozenset({"none", "None"})
# Names Jinja's parser reads as operators somewhere: never accepted as a name here.
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})
_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "lteq", ">=": "gteq"}
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "|", ".", "(", ")", ",")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_DIGITS = frozenset("0123456789")
_WORD = _LETTERS | _DIGITS
_SPACE = frozenset(" \t\r\n")
# Inside a string: printable ASCII; no backslash (escapes), which Jinja would decode.
_STRING = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"\\"}


class _NotSimple(Exception):
    pass


@lru_cache(maxsize=16384)
def parse(source: str) -> Node | None:
    """The tree of one expression's source (between the delimiters), or None when it is not
    of the simple shape (Jinja then reads it, and reports its errors)."""
    try:
        tokens = _tokens(source)
        node, at = _operand(tokens, 0)
        kind, value = _peek(tokens, at)
        if kind == "op" and value in _COMPARE:
            right, at = _operand(tokens, at + 1)
            node = ("compare", node, _COMPARE[value], right)
        if at != len(tokens):  # a chained comparison, `and`, arithmetic...
            return None
    except _NotSimple:
        return None
    return node


def path_of(node: Node) -> tuple[str, ...] | None:
    """(root, *keys) when the whole expression is a name and its keys, else None."""
    if node[0] != "path":
        return None
    return (node[1], *node[2])


def references(node: Node) -> list[tuple[str, tuple[str, ...]]]:
    """The (root, keys) each name path reads, in Jinja's evaluation order (left first)."""
    kind = node[0]
    if kind == "path":
        return [(node[1], node[2])]
    if kind == "filter":
        return references(node[1])
    if kind == "compare":
        return references(node[1]) + references(node[3])
    return []


def last_filter(node: Node) -> str | None:
    """The name of the filter applied last to the whole expression, if it ends in one."""
    return node[2] if node[0] == "filter" else None


def _operand(tokens: list[tuple[str, Any]], at: int) -> tuple[Node, int]:
    """primary ('|' filter ['(' constants ')'])*"""
    node, at = _primary(tokens, at)
    while at < len(tokens) and tokens[at] == ("op", "|"):
        name = _token(tokens, at + 1, "name")
        if name not in FILTERS:
            raise _NotSimple
        at += 2
        if at < len(tokens) and tokens[at] == ("op", "("):
            at += 1
            if _peek(tokens, at) != ("op", ")"):
                while True:
                    _token(tokens, at, "const")
                    at += 1
                    if _peek(tokens, at) == ("op", ","):
                        at += 1
                        continue
                    break
            if _peek(tokens, at) != ("op", ")"):
                raise _NotSimple
            at += 1
        node = ("filter", node, name)
    return node, at


def _primary(tokens: list[tuple[str, Any]], at: int) -> tuple[Node, int]:
    kind, value = _peek(tokens, at)
    if kind == "const":
        return ("const", value), at + 1
    if kind != "name":
        raise _NotSimple
    if value in _CONSTANTS:
        return ("const", _CONSTANTS[value]), at + 1
    if value in _NONE:
        return ("const", None), at + 1
    keys: list[str] = []
    at += 1
    while _peek(tokens, at) == ("op", "."):
        key = _token(tokens, at + 1, "name")
        if key in _CONSTANTS or key in _NONE:
            raise _NotSimple
        keys.append(key)
        at += 2
    return ("path", value, tuple(keys)), at


def _peek(tokens: list[tuple[str, Any]], at: int) -> tuple[str, Any]:
    return tokens[at] if at < len(tokens) else ("end", None)


def _token(tokens: list[tuple[str, Any]], at: int, kind: str) -> Any:
    found, value = _peek(tokens, at)
    if found != kind:
        raise _NotSimple
    return value


def _tokens(source: str) -> list[tuple[str, Any]]:
    """Jinja's tokens for the characters this module accepts; _NotSimple for any other."""
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char in _SPACE:
            i += 1
        elif char in _LETTERS:
            j = i + 1
            while j < n and source[j] in _WORD:
                j += 1
            name = source[i:j]
            if name in _KEYWORDS:
                raise _NotSimple
            tokens.append(("name", name))
            i = j
        elif char in _DIGITS:
            # The whole run of what could continue a number (Jinja reads 1e5, 1_000, 0x1F,
            # 1.5 as one): only plain integers and decimals are accepted.
            j = i + 1
            while j < n and (source[j] in _WORD or source[j] == "."):
                j += 1
            tokens.append(("const", _number(source[i:j])))
            i = j
        elif char in "'\"":
            j = source.find(char, i + 1)
            if j < 0 or not all(c in _STRING for c in source[i + 1 : j]):
                raise _NotSimple
            tokens.append(("const", source[i + 1 : j]))
            i = j + 1
        else:
            for operator in _OPERATORS:
                if source.startswith(operator, i):
                    tokens.append(("op", operator))
                    i += len(operator)
                    break
            else:
                raise _NotSimple
    if not tokens:
        raise _NotSimple  # Jinja's "empty expression"
    return tokens


def _number(text: str) -> int | float:
    whole, dot, fraction = text.partition(".")
    if not whole.isdigit() or (len(whole) > 1 and whole[0] == "0"):
        raise _NotSimple
    if not dot:
        return int(whole)
    if not fraction.isdigit():
        raise _NotSimple
    return float(text)
