"""The manifest's JSON Schema: finding it, and turning its verdicts into FILE:LINE:COL messages.

The schema file is the source of truth for the manifest's shape (editors read it too). It is
shipped in the wheel as ``psr_engine/schemas/``; an editable install has no such folder, so
the repository's ``schemas/`` folder is the fallback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from psr_engine.errors import Diagnostic, ManifestError
from psr_engine.manifest import compiled_schema
from psr_engine.manifest.model import JsonPath, Position

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from psr_engine.manifest.loader import LoadedDocument

SCHEMA_NAME = "workflow.v1.json"
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _schemas_folder() -> Any:
    """The shipped schemas folder; in an editable install (no force-included folder), the
    repository's."""
    folder = _folder_on_disk()
    if folder is not None:
        from pathlib import Path

        return Path(folder)
    from importlib import resources

    return resources.files("psr_engine").joinpath("schemas")


def _folder_on_disk() -> str | None:
    """The schemas folder of a package on disk, as nearly always: beside the code when
    installed, the repository's in an editable install. Found with os.path: importlib.resources
    (with zipfile) and pathlib cost a few ms of every validate."""
    import psr_engine

    package = os.path.dirname(os.path.abspath(psr_engine.__file__))
    shipped = os.path.join(package, "schemas")
    if os.path.isdir(shipped):
        return shipped
    root = os.path.dirname(os.path.dirname(os.path.realpath(package)))
    repository = os.path.join(root, "schemas")
    return repository if os.path.isfile(os.path.join(repository, SCHEMA_NAME)) else None


def schema_names() -> list[str]:
    """The names `schema_text` accepts: the JSON files shipped in the schemas folder."""
    return sorted(p.name for p in _schemas_folder().iterdir() if p.name.endswith(".json"))


def schema_text(name: str = SCHEMA_NAME) -> str:
    """The text of a schema shipped with psr-engine (``workflow.v1.json`` by default).

    Only a name of `schema_names()` is read: a path (``../pyproject.toml``) never leaves the
    folder. Anything else is a ManifestError (exit 2) listing the names there are."""
    names = schema_names()
    if name not in names:
        raise ManifestError(f"no schema named {name!r}; the schemas are: {', '.join(names)}")
    text: str = _schemas_folder().joinpath(name).read_text(encoding="utf-8")
    return text


@functools.cache
def _schema_bytes() -> bytes:
    folder = _folder_on_disk()
    if folder is not None:
        with open(os.path.join(folder, SCHEMA_NAME), "rb") as handle:
            return handle.read()
    data: bytes = _schemas_folder().joinpath(SCHEMA_NAME).read_bytes()
    return data


@functools.cache
def load_schema() -> dict[str, Any]:
    """The manifest schema as a mapping (parsed once per process; do not mutate it)."""
    import json

    return json.loads(_schema_bytes().decode("utf-8"))


@functools.cache
def _validator() -> Any:
    return _import_jsonschema().Draft202012Validator(load_schema())


# What jsonschema's format checkers import when installed. The manifest schema is checked
# without a format checker (formats are annotations), so none of them is ever used here, and
# some cost dearly: rfc3987-syntax compiles a lark grammar (seconds), isoduration brings arrow.
_FORMAT_LIBRARIES = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "isoduration",
    "webcolors",
    "jsonpointer",
    "uri_template",
    "fqdn",
    "idna",
)


def _import_jsonschema() -> Any:
    """jsonschema, imported without the libraries of its format checkers (_FORMAT_LIBRARIES).

    Each one not imported yet is hidden during that one import: jsonschema then only lacks
    those format checks, which nothing here uses, and the libraries stay importable for
    anyone else (cyclonedx-python-lib's validation extra, for one, brings them).
    """
    import sys

    if "jsonschema" in sys.modules:
        import jsonschema

        return jsonschema
    hidden = [name for name in _FORMAT_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import jsonschema
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return jsonschema


# A compiled validator (fastjsonschema: generated Python, ~8x faster than jsonschema here, and
# without jsonschema's imports) answers "valid"; jsonschema then runs only to explain a document
# that is not. It is compiled once and kept on disk (manifest/compiled_schema.py). Where it
# cannot be kept, compiling it costs ~0.4 s on every run: only worth it from this many tasks.
FAST_PATH_TASKS = 300
# Keywords whose 2020-12 meaning draft 7 lacks: a schema using any of them gets no fast path.
_NOT_IN_DRAFT7 = frozenset(
    {
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "$dynamicRef",
        "$dynamicAnchor",
        "$anchor",
        "minContains",
        "maxContains",
    }
)


def schema_diagnostics(document: LoadedDocument) -> list[Diagnostic]:
    """Every schema violation of the document, as Diagnostics sorted by position."""
    if _fast_accepts(document.data):
        return []
    found: list[Diagnostic] = []
    for error in _validator().iter_errors(document.data):
        found.extend(_describe(error, document))
    if found:
        found = _dedented_fields(document, found)
    unique = {(d.line, d.column, d.path, d.message): d for d in found}
    return sorted(unique.values(), key=lambda d: (d.line, d.column, d.path, d.message))


def _dedented_fields(document: LoadedDocument, found: list[Diagnostic]) -> list[Diagnostic]:
    """A task's fields dedented to the level of task names read as tasks named `run`,
    `needs`..., each with two schema errors, and the task itself as empty: one message saying
    "indentation" replaces them all."""
    spec = document.data.get("spec")
    task_fields = frozenset(load_schema()["$defs"]["task"]["properties"])
    replaced: set[str] = set()
    notes: list[Diagnostic] = []
    for section in ("tasks", "onExit"):
        tasks = spec.get(section) if isinstance(spec, dict) else None
        if not isinstance(tasks, dict):
            continue
        owner: str | None = None
        strays: list[str] = []
        for name, value in [*tasks.items(), (None, None)]:
            if name in task_fields and not isinstance(value, dict):
                strays.append(name)
                continue
            if strays:
                notes.append(_dedent_note(document, section, owner, strays))
                replaced.update(f"spec.{section}.{n}" for n in (*strays, owner) if n)
                strays = []
            owner = name
    if not notes:
        return found
    kept = [
        d for d in found if not any(d.path == r or d.path.startswith(r + ".") for r in replaced)
    ]
    return kept + notes


def _dedent_note(
    document: LoadedDocument, section: str, owner: str | None, strays: list[str]
) -> Diagnostic:
    first = position_of(document.positions, ("spec", section, strays[0]))
    last = position_of(document.positions, ("spec", section, strays[-1]))
    lines = f"line {first.line}" if first.line == last.line else f"lines {first.line}-{last.line}"
    named = ", ".join(f"`{n}:`" for n in strays)
    if owner is None:
        return Diagnostic(
            document.path,
            first.line,
            first.column,
            f"indentation: {named} ({lines}) sit where task names go (column {first.column})",
            f"spec.{section}",
            "put them under a task name, indented further: `  my-task:` then the fields",
        )
    where = position_of(document.positions, ("spec", section, owner))
    expected = where.column + 2
    return Diagnostic(
        document.path,
        first.line,
        first.column,
        f"indentation: {named} ({lines}) are at column {first.column}, the level of task names, "
        f"so they read as tasks; as fields of task {owner!r} they go at column {expected}",
        f"spec.{section}.{owner}",
        f"indent them under `{owner}:` (line {where.line}) by two more spaces",
    )


def _fast_accepts(data: Any) -> bool:
    spec = data.get("spec") if isinstance(data, dict) else None
    tasks = spec.get("tasks") if isinstance(spec, dict) else None
    large = isinstance(tasks, dict) and len(tasks) >= FAST_PATH_TASKS
    validate = _fast_validator(compile_unkept=large)
    if validate is None:
        return False
    try:
        validate(data)
    except Exception:  # any doubt: jsonschema decides, and explains
        return False
    return True


_compiled: dict[bool, Any] = {}  # compile_unkept -> the validator or None, once per process


def _fast_validator(*, compile_unkept: bool) -> Any:
    """The compiled validator: kept on disk, else compiled now (and kept) when it can be kept
    or when `compile_unkept`; None when there is none (then jsonschema answers alone)."""
    if compile_unkept in _compiled:
        return _compiled[compile_unkept]
    validate = None
    file = compiled_schema.cache_file(_schema_bytes())
    if file is not None:
        validate = compiled_schema.load(file)
        keep = validate is None and compiled_schema.can_store()
        if validate is None and (keep or compile_unkept):
            draft7 = as_draft7(load_schema())
            if draft7 is not None:
                validate = compiled_schema.compile_validator(draft7, file if keep else None)
    _compiled[compile_unkept] = validate
    if validate is not None:
        _compiled[not compile_unkept] = validate
    return validate


def as_draft7(schema: Any) -> Any:
    """The same schema in draft 7's terms, or None when it uses what draft 7 cannot say.

    The one difference that matters for the manifest schema: draft 7 ignores the keywords
    beside a ``$ref`` and 2020-12 applies them, so each such ``$ref`` moves into an ``allOf``.
    """

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if _NOT_IN_DRAFT7 & node.keys():
            raise ValueError("not expressible in draft 7")
        out = {key: convert(value) for key, value in node.items()}
        if "$ref" in out and len(out.keys() - {"$ref", "description", "title", "examples"}) > 0:
            out["allOf"] = [{"$ref": out.pop("$ref")}, *out.get("allOf", [])]
        return out

    try:
        converted = convert(schema)
    except ValueError:
        return None
    converted["$schema"] = "http://json-schema.org/draft-07/schema#"
    return converted


def check_schema(document: LoadedDocument) -> None:
    """Raise one ManifestError listing every schema violation, if there is any."""
    diagnostics = schema_diagnostics(document)
    if diagnostics:
        raise ManifestError(diagnostics)


def dotted(path: Iterable[str | int]) -> str:
    """``("spec", "gates", 0, "failOn")`` -> ``spec.gates[0].failOn``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def position_of(positions: Mapping[JsonPath, Position], path: JsonPath) -> Position:
    """The node's position, or its nearest known ancestor's, or 1:1."""
    probe = tuple(path)
    while probe:
        found = positions.get(probe)
        if found is not None:
            return found
        probe = probe[:-1]
    return positions.get((), Position(1, 1))


def _describe(error: ValidationError, document: LoadedDocument) -> list[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator

    def at(where: JsonPath, message: str, hint: str = "") -> Diagnostic:
        position = position_of(document.positions, where)
        return Diagnostic(
            file=document.path,
            line=position.line,
            column=position.column,
            message=message,
            path=dotted(where),
            hint=hint,
        )

    if "propertyNames" in error.absolute_schema_path:
        # The instance is the offending key itself; point at it.
        expected = schema.get("title", f"a name matching {schema.get('pattern', '')}")
        return [at((*path, error.instance), f"{error.instance!r} is not {expected}")]
    if validator == "additionalProperties":
        return [at((*path, key), *_unknown_key(key, schema)) for key in _extra_keys(error)]
    if validator == "required":
        return [_required(error, at, path, schema)]
    if validator == "oneOf" and _is_kind_choice(error.validator_value):
        return [at(path, *_kind_choice(error.validator_value, error.instance))]
    if validator in ("anyOf", "oneOf"):
        if "title" in schema and not isinstance(error.instance, dict | list):
            return [at(path, f"{_short(error.instance)} is not {schema['title']}")]
        branch = _matching_branch(error)
        if branch:
            return [d for sub in branch for d in _describe(sub, document)]
        kinds = [b.get("type") for b in error.validator_value if isinstance(b, dict)]
        names = [_TYPE_NAMES.get(k, k) for k in kinds if isinstance(k, str)]
        if names and len(names) == len(kinds):
            expected = " or ".join(dict.fromkeys(names))
            return [at(path, f"expected {expected}, not {_kind_of(error.instance)}", _hint(schema))]
    # A title already says what is expected; the description would only repeat it.
    hint = "" if "title" in schema else _hint(schema)
    return [at(path, _message(error, schema), hint)]


def suggest(word: str, options: Iterable[str]) -> str | None:
    """The option the user most likely meant: a close spelling, or the one it abbreviates."""
    import difflib

    options = list(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    starting = [o for o in options if word and o.lower().startswith(word.lower())]
    return starting[0] if len(starting) == 1 else None


def _matching_branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the branch that accepts the instance's type (the most relevant one's).

    A value that is a mapping should be told what is wrong with it as a mapping, not that
    it is not an integer (the other branch of ``retries``).
    """
    from jsonschema.exceptions import best_match

    def type_mismatch(sub: ValidationError) -> bool:
        return sub.validator == "type" and not sub.path

    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    fitting = [errs for errs in by_branch.values() if not any(map(type_mismatch, errs))]
    if len(fitting) == 1:
        return fitting[0]
    if fitting:
        return [best_match(e for errs in fitting for e in errs)]
    return []


def _extra_keys(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = set(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    import re

    return [
        key
        for key in error.instance
        if key not in allowed and not any(re.search(p, key) for p in patterns)
    ]


def _unknown_key(key: str, schema: Mapping[str, Any]) -> tuple[str, str]:
    allowed = sorted(schema.get("properties", {}))
    close = suggest(key, allowed)
    if close:
        hint = f"did you mean {close!r}?"
    elif len(allowed) <= 14:
        hint = "allowed here: " + ", ".join(allowed)
    else:
        hint = "see docs/manifest.md for the fields allowed here"
    return f"unknown field {key!r}", hint


def _required(error: ValidationError, at: Any, path: JsonPath, schema: Mapping[str, Any]) -> Any:
    missing = next((name for name in error.validator_value if name not in error.instance), "?")
    described = schema.get("properties", {}).get(missing, {})
    return at(path, f"missing required field {missing!r}", described.get("description", ""))


def _is_kind_choice(branches: Any) -> bool:
    return (
        isinstance(branches, list)
        and len(branches) > 1
        and all(set(b) == {"required"} and len(b["required"]) == 1 for b in branches)
    )


def _kind_choice(branches: list[dict[str, list[str]]], instance: Any) -> tuple[str, str]:
    kinds = [b["required"][0] for b in branches]
    names = ", ".join(kinds[:-1]) + f" or {kinds[-1]}"
    found = [k for k in kinds if isinstance(instance, dict) and k in instance]
    if found:
        detail = f"this one has {' and '.join(found)}"
        hint = "split it into one task per kind, chained with needs"
    else:
        detail = "this one has none"
        hint = "e.g. `run: echo hello` for a shell command"
    return f"a task needs exactly one of {names}: {detail}", hint


def _message(error: ValidationError, schema: Mapping[str, Any]) -> str:
    value, instance = error.validator_value, error.instance
    shown = _short(instance)
    match error.validator:
        case "type":
            kinds: list[str] = value if isinstance(value, list) else [value]
            expected = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
            return f"expected {expected}, not {_kind_of(instance)}"
        case "enum":
            text = f"{shown} is not one of " + ", ".join(str(v) for v in value)
            if isinstance(instance, str):
                close = suggest(instance, [str(v) for v in value])
                if close:
                    text += f" (did you mean {close!r}?)"
            return text
        case "const":
            return f"must be {value!r}, not {shown}"
        case "pattern":
            return (
                f"{shown} is not {schema['title']}"
                if "title" in schema
                else (f"{shown} does not match the pattern {value}")
            )
        case "minimum":
            return f"must be at least {value}, not {shown}"
        case "maximum":
            return f"must be at most {value}, not {shown}"
        case "exclusiveMinimum":
            return f"must be greater than {value}, not {shown}"
        case "exclusiveMaximum":
            return f"must be less than {value}, not {shown}"
        case "minItems" | "minProperties" | "minLength":
            return "must not be empty" if value == 1 else f"needs at least {value} entries"
        case "maxLength":
            return f"is longer than {value} characters"
        case "uniqueItems":
            seen: list[Any] = []
            for item in instance:
                if item in seen:
                    return f"lists {_short(item)} more than once"
                seen.append(item)
            return "has duplicate items"
    return error.message if len(error.message) <= 200 else error.message[:197] + "..."


def _hint(schema: Mapping[str, Any]) -> str:
    return str(schema.get("description", ""))


def _kind_of(instance: Any) -> str:
    if isinstance(instance, bool):
        return f"{str(instance).lower()} (a boolean)"
    if instance is None:
        return "an empty value (null)"
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return f"a list of {len(instance)} items"
    if isinstance(instance, str):
        return f"text ({_short(instance)})"
    return f"the number {instance}"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
