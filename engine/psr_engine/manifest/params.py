"""Typed params: values from the command line (text) or a params file (typed) -> declared types.

``-p n=3`` arrives as the text "3" and becomes the integer 3 for an ``integer`` param;
arrays and objects are given as JSON (``-p regions='["eu","us"]'``), or, for an array, as
comma-separated text (``-p regions=eu,us``). Every problem is reported at once.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from psr_engine.errors import Diagnostic, ManifestError
from psr_engine.manifest.model import Manifest, ParamSpec, ParamType, Position

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def resolve_params(
    specs: tuple[ParamSpec, ...],
    given: Mapping[str, Any],
    *,
    source: str,
    positions: Mapping[str, Position] | None = None,
) -> dict[str, Any]:
    """Every declared param's value, typed: given values coerced, defaults filled in.

    ``source`` names where the values came from (a params file, or the manifest for -p values)
    and ``positions`` may say where each given value sits in that file. Raises ManifestError
    (exit 2) listing unknown params (with a did-you-mean), missing required params, and
    values that do not fit their declared type or enum.
    """
    from psr_engine.manifest.schema import suggest

    declared = {spec.name: spec for spec in specs}
    problems: list[Diagnostic] = []

    def report(name: str, message: str, hint: str = "") -> None:
        where = (positions or {}).get(name)
        line, column = (where.line, where.column) if where else (0, 0)
        problems.append(Diagnostic(source, line, column, message, f"params.{name}", hint))

    resolved: dict[str, Any] = {}
    for name, value in given.items():
        spec = declared.get(name)
        if spec is None:
            close = suggest(name, declared)
            hint = f"did you mean {close!r}?" if close else _known(declared)
            report(name, f"unknown param {name!r}", hint)
            continue
        try:
            resolved[name] = coerce_param(spec, value)
        except ValueError as exc:
            report(name, f"param {name!r}: {exc}", spec.description)
    for spec in specs:
        if spec.name in resolved or spec.name in given:
            continue
        if spec.has_default:
            resolved[spec.name] = copy.deepcopy(spec.default)
        else:
            report(
                spec.name,
                f"param {spec.name!r} is required (it has no default)",
                f"give it with -p {spec.name}=VALUE or in a params file",
            )
    if problems:
        raise ManifestError(problems)
    return {spec.name: resolved[spec.name] for spec in specs}


def coerce_param(spec: ParamSpec, value: Any) -> Any:
    """The value as the param's type (and within its enum); ValueError says why not."""
    typed = _coerce(spec.type, value, spec.items)
    if spec.enum and typed not in spec.enum:
        allowed = ", ".join(json.dumps(v) for v in spec.enum)
        raise ValueError(f"{_show(typed)} is not one of the allowed values: {allowed}")
    return typed


def _coerce(kind: ParamType, value: Any, items: ParamType | None = None) -> Any:
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
    elif kind == "integer":
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind == "number":
        number = _number(value)
        if number is not None:
            return number
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif kind == "array":
        listed = _array(value)
        if listed is not None:
            if items is None:
                return listed
            out = []
            for index, item in enumerate(listed):
                try:
                    out.append(_coerce(items, item))
                except ValueError as exc:
                    raise ValueError(f"item {index}: {exc}") from None
            return out
    elif kind == "object":
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            parsed = _json(value)
            if isinstance(parsed, dict):
                return parsed
    raise ValueError(f"expected {_ARTICLE[kind]}, got {_show(value)}")


_ARTICLE = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": 'a list (JSON like ["a","b"], or a,b)',
    "object": 'a mapping (JSON like {"k": "v"})',
}


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return None
        # "nan", "inf" and non-ASCII digits parse as floats; no user means them as a number.
        return number if math.isfinite(number) and text.isascii() else None
    return None


def _array(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            parsed = _json(text)
            return parsed if isinstance(parsed, list) else None
        return [part.strip() for part in text.split(",")] if text else []
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known(declared: Mapping[str, ParamSpec]) -> str:
    if not declared:
        return "this workflow declares no params"
    return "declared params: " + ", ".join(declared)


def _not_a_mapping(path: str) -> Exception:
    return ManifestError(
        Diagnostic(path, 1, 1, "a params file must be a mapping of param names to values")
    )


def params_from(
    manifest: Manifest,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
) -> dict[str, Any]:
    """Merge a params file and -p values (the latter win) and type-check them."""
    given: dict[str, Any] = {}
    positions: dict[str, Any] = {}
    source = manifest.source.path
    if params_file:
        from psr_engine.manifest.loader import load_document

        document = load_document(params_file)
        if not isinstance(document.data, dict):
            raise _not_a_mapping(params_file)
        given.update(document.data)
        # Errors in a param given by the file point at its line in the file.
        positions = {str(k[0]): v for k, v in document.positions.items() if len(k) == 1}
        source = params_file
    for key in params or {}:
        positions.pop(key, None)
    given.update(params or {})
    return resolve_params(manifest.params, given, source=source, positions=positions or None)


_PLACEHOLDERS: dict[str, Any] = {
    "string": "placeholder",
    "integer": 1,
    "number": 1.0,
    "boolean": False,
    "object": {},
}


def placeholder_params(specs: tuple[ParamSpec, ...]) -> dict[str, Any]:
    """A value of its type for each param without a default: `validate` checks a manifest
    with required params on its own; `plan` and `apply` insist on real values."""
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.has_default:
            continue
        if spec.enum:
            values[spec.name] = spec.enum[0]
        elif spec.type == "array":
            values[spec.name] = [_PLACEHOLDERS.get(spec.items or "string", "placeholder")]
        else:
            values[spec.name] = _PLACEHOLDERS[spec.type]
    return values


# How a value of each type is written after `-p name=` (validate's note on required params).
_EXAMPLES = {
    "string": "VALUE",
    "integer": "3",
    "number": "1.5",
    "boolean": "true",
    "array": "a,b",
    "object": '\'{"key": "value"}\'',
}


def required_params(manifest: Manifest, *, given: set[str]) -> list[Diagnostic]:
    """A note per param without a default that `given` lacks: where it is declared, and how
    a run gives it (`plan` and `apply` refuse to start without it)."""
    from psr_engine.manifest.schema import dotted

    notes = []
    for spec in manifest.params:
        if spec.has_default or spec.name in given:
            continue
        path = ("spec", "params", spec.name)
        where = manifest.source.position(path)
        example = str(spec.enum[0]) if spec.enum else _EXAMPLES.get(spec.type, "VALUE")
        notes.append(
            Diagnostic(
                manifest.source.path,
                where.line,
                where.column,
                f"param {spec.name!r} ({spec.type}) has no default: a run must be given it",
                dotted(path),
                f"-p {spec.name}={example}, or `{spec.name}: {example}` in a file given with "
                "--params-file FILE",
            )
        )
    return notes
