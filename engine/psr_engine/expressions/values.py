"""How expression values become text, and which values count as true."""

from __future__ import annotations

import json
from collections.abc import Mapping, Set
from typing import Any

_FALSE_STRINGS = frozenset({"false", "0", ""})


class Trusted(str):
    """Text the manifest author marked with ``| raw``: spliced into shell commands as written
    (``render_command``), where other values are quoted for the place they take."""

    __slots__ = ()


def to_text(value: Any) -> str:
    """GitHub's conversion: str as is, bool as true/false, None as "", numbers via str(),
    lists and mappings as compact JSON."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        # Markup (from | tojson and friends) is a str subclass whose methods HTML-escape their
        # arguments; hand on a plain str so quoting and callers see ordinary text.
        return str.__str__(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping | list | tuple | Set):
        return to_json(value)
    return str(value)


def to_json(value: Any) -> str:
    """Compact JSON, keeping non-ASCII text as it is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Set):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def truthy(value: Any) -> bool:
    """``when`` semantics: Python truthiness, except the strings "false", "0" and "" (any case,
    surrounding blanks ignored) are false, as outputs and params arrive as strings."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_STRINGS
    return bool(value)
