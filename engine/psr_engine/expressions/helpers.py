"""GitHub Actions' expression functions, offered as globals (and, where the name is free,
as filters) beside Jinja's own filters.

Every function here is plain Python over plain values: the sandbox calls them, so none may
reach attributes of its arguments by a name the user controls (which is why ``format`` is
implemented here, not with ``str.format``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from psr_engine.expressions.values import Trusted, to_json, to_text

_FORMAT_TOKEN = re.compile(r"\{\{|\}\}|\{(\d+)\}|[{}]")


def from_json(text: Any) -> Any:
    """Parse JSON text (GitHub's ``fromJSON``)."""
    try:
        return json.loads(to_text(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"fromJSON: not valid JSON ({exc.msg} at character {exc.pos})") from None


def to_json_helper(value: Any) -> str:
    """Compact JSON of a value (GitHub's ``toJSON``, without its pretty-printing)."""
    return to_json(value)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def contains(search: Any, item: Any) -> bool:
    """GitHub's ``contains``: substring of a string or element of a list, ignoring case."""
    if search is None:
        return False
    if isinstance(search, str):
        return to_text(item).casefold() in search.casefold()
    if isinstance(search, Mapping):
        return item in search
    if isinstance(search, Iterable):
        wanted = _fold(item)
        return any(_fold(element) == wanted for element in search)
    return to_text(item).casefold() in to_text(search).casefold()


def starts_with(text: Any, prefix: Any) -> bool:
    """GitHub's ``startsWith``, ignoring case."""
    return to_text(text).casefold().startswith(to_text(prefix).casefold())


def ends_with(text: Any, suffix: Any) -> bool:
    """GitHub's ``endsWith``, ignoring case."""
    return to_text(text).casefold().endswith(to_text(suffix).casefold())


def format_helper(template: Any, *args: Any) -> str:
    """GitHub's ``format``: ``{0}``, ``{1}``... replaced by the arguments, ``{{``/``}}`` for
    literal braces. Nothing else is interpreted (no attribute or index lookups)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match.group(1) is None:
            raise ValueError(f"format: unmatched {token!r} in {template!r} (write {token * 2})")
        index = int(match.group(1))
        if index >= len(args):
            raise ValueError(f"format: {{{index}}} but only {len(args)} argument(s) given")
        return to_text(args[index])

    return _FORMAT_TOKEN.sub(replace, to_text(template))


def join(value: Any, separator: Any = ",") -> str:
    """GitHub's ``join``: the elements as text, separated by ``separator`` (default ",")."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        return to_text(value)
    return to_text(separator).join(to_text(element) for element in value)


def raw(value: Any) -> Trusted:
    """The ``| raw`` filter: mark an interpolated value as trusted shell text."""
    return Trusted(to_text(value))


GLOBALS: dict[str, Callable[..., Any]] = {
    "fromJSON": from_json,
    "toJSON": to_json_helper,
    "contains": contains,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "format": format_helper,
    "join": join,
}

# Jinja already has `join` and `format` filters that Jinja users know (`x | join(', ')`,
# `"%s" | format(x)`); those keep their Jinja meaning. The GitHub forms are the globals.
FILTERS: dict[str, Callable[..., Any]] = {
    "fromJSON": from_json,
    "toJSON": to_json_helper,
    "contains": contains,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "raw": raw,
}

# Jinja's own globals kept in scope; the rest (cycler, joiner, namespace, lipsum) are of no use
# in an expression and only widen what the sandbox has to guard.
JINJA_GLOBALS = ("range", "dict")

GLOBAL_NAMES = frozenset(GLOBALS) | frozenset(JINJA_GLOBALS)
