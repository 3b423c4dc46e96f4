"""Matrix expansion, with GitHub Actions' rules so that users get what they already expect.

1. The cartesian product of the axes, in manifest order (the last axis varies fastest).
2. ``exclude``: an entry drops every combination it matches; a partial match is enough
   (``{size: small}`` drops every small combination).
3. ``include``, entry by entry: an entry whose keys that name original axes all match a
   combination extends that combination with its other keys (it may overwrite a value added
   by an earlier include, never an original axis value). An entry that extends nothing becomes
   a new combination of its own. Combinations created this way are not extended by later
   entries: only the product's are.
A matrix with no axes is just its ``include`` entries.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


class MatrixError(ValueError):
    """The matrix is inconsistent; the message is fit for a user."""


def combinations_at_most(
    axes: Sequence[tuple[str, Sequence[Any]]], include: Sequence[Mapping[str, Any]] = ()
) -> int:
    """How many instances the matrix can have (before exclude), counted without expanding it:
    what a limit is checked against before anything is built."""
    product = math.prod(len(values) for _, values in axes) if axes else 0
    return product + len(include)


def expand_matrix(
    axes: Sequence[tuple[str, Sequence[Any]]],
    *,
    include: Sequence[Mapping[str, Any]] = (),
    exclude: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Every combination, in order, each a dict whose keys follow :func:`key_order`."""
    axis_names = [name for name, _ in axes]
    for entry in exclude:
        unknown = [key for key in entry if key not in axis_names]
        if unknown:
            raise MatrixError(
                f"exclude entry {_show(entry)} names {_quote(unknown)}, which "
                f"{'is not an axis' if len(unknown) == 1 else 'are not axes'} of this matrix "
                f"(axes: {', '.join(axis_names) or 'none'})"
            )
    if axes:
        product = [
            dict(zip(axis_names, values, strict=True))
            for values in itertools.product(*(values for _, values in axes))
        ]
    else:
        product = []
    kept = [combo for combo in product if not any(_matches(combo, e) for e in exclude)]
    added: list[dict[str, Any]] = []
    for entry in include:
        originals = {k: v for k, v in entry.items() if k in axis_names}
        extras = {k: v for k, v in entry.items() if k not in axis_names}
        extended = False
        for combo in kept:
            if _matches(combo, originals):
                combo.update(extras)
                extended = True
        if not extended:
            added.append(dict(entry))
    order = key_order(axis_names, include)
    return [_ordered(combo, order) for combo in (*kept, *added)]


def key_order(axis_names: Sequence[str], include: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Manifest order of every matrix key: the axes, then keys that only includes add."""
    order: dict[str, int] = {}
    for key in itertools.chain(axis_names, *(entry.keys() for entry in include)):
        order.setdefault(key, len(order))
    return order


def instance_id(task: str, combination: Mapping[str, Any]) -> str:
    """``transform[region=eu,size=large]``: keys in manifest order, values as plain text."""
    if not combination:
        return task
    inner = ",".join(f"{key}={format_value(value)}" for key, value in combination.items())
    return f"{task}[{inner}]"


def format_value(value: Any) -> str:
    """Strings as they are; anything else as compact JSON (``true``, ``3``, ``["a"]``)."""
    if isinstance(value, str):
        return value
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _matches(combination: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    return all(key in combination and _same(combination[key], v) for key, v in entry.items())


def _same(a: Any, b: Any) -> bool:
    # YAML's true is not the number 1, although Python says True == 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _ordered(combination: Mapping[str, Any], order: Mapping[str, int]) -> dict[str, Any]:
    return dict(sorted(combination.items(), key=lambda item: order[item[0]]))


def _show(entry: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in entry.items()) + "}"


def _quote(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
