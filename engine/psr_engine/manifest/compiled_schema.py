"""The manifest schema compiled to plain Python once, and kept on disk: a quick "valid".

jsonschema explains what is wrong with a manifest, but importing it (with referencing, rpds,
attrs and urllib) costs about half of a `psr-engine validate` of a small manifest, and it is
slow on large ones. fastjsonschema turns the schema into Python code that only says valid or
not, many times faster; generating and compiling that code costs ~0.3 s, so it is done once
and the code object is kept, as Python keeps a .pyc file, in
``$XDG_CACHE_HOME/psr-engine/schema/`` (user_cache.py). A later process loads it in about a
millisecond and imports neither library.

The entry is keyed by everything the code depends on: the schema's bytes, how we convert it
(GENERATION), fastjsonschema's install (its path, size and mtime, which a new version changes)
and the Python version (marshal's format). It is only ever used to accept: a document it
rejects, or any doubt, goes to jsonschema, which decides and explains (manifest/schema.py).
Reading or writing the cache never fails a validation: a cache that cannot be used only costs
speed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from psr_engine import user_cache

# Bumped when the code we keep changes for the same schema and library: the options below,
# the conversion to draft 7 (schema.as_draft7) or the header rewrite.
GENERATION = 1
KEPT = 8  # entries kept in the folder, newest first

Validate = Callable[[Any], Any]  # raises on a document it does not accept

# The generated module's imports, replaced by names given to it when it is loaded (below):
# fastjsonschema's package import is what we avoid, and decimal costs ~5 ms for a type that
# plain data from YAML or JSON never holds.
_HEADER_IMPORTS = frozenset(
    {
        "from decimal import Decimal",
        "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException",
    }
)
_ROOT = "PSR_VALIDATE"


class Rejected(ValueError):
    """The compiled code's verdict "not valid" (its messages are never shown: jsonschema's are)."""

    def __init__(self, message: str = "", *args: Any, **details: Any) -> None:
        super().__init__(message)


class _NoDecimal:
    """Stands for decimal.Decimal in the compiled code's type checks: data loaded from YAML or
    JSON holds none, and anything unexpected is rejected, which only sends it to jsonschema."""


def cache_dir() -> str:
    return user_cache.folder("schema")


def cache_file(schema_bytes: bytes) -> str | None:
    """Where the compiled code of this schema is kept; None without fastjsonschema."""
    stamp = _library_stamp()
    if stamp is None:
        return None
    material = repr((GENERATION, sys.implementation.cache_tag, sys.version, stamp)).encode()
    key = hashlib.sha256(material + b"\0" + schema_bytes).hexdigest()[:32]
    return os.path.join(cache_dir(), f"{key}.marshal")


def load(file: str) -> Validate | None:
    """The validator kept in `file`, or None (absent, unreadable, of another format, or not
    the user's own: it is code we run)."""
    kept = user_cache.read_own(file)
    if kept is None:
        return None
    try:
        return _function(marshal.loads(kept))
    except Exception:  # a broken entry only costs speed: compile again
        return None


def compile_source(draft7_schema: Any) -> str:
    """Python source of a module defining PSR_VALIDATE(data) for a draft-7 schema."""
    import fastjsonschema

    source: str = fastjsonschema.compile_to_code(
        draft7_schema,
        use_default=False,  # never write the schema's defaults into the document
        use_formats=False,  # formats are annotations here, as jsonschema checks them
    )
    root = re.search(r"^def (\w+)\(data", source, re.MULTILINE)
    if root is None:
        raise ValueError("fastjsonschema's code defines no validation function")
    head, _, body = source.partition("\n\n")
    lines = head.split("\n")
    kept = [line for line in lines if line not in _HEADER_IMPORTS]
    if len(kept) == len(lines) - len(_HEADER_IMPORTS):  # else keep them: slower, still right
        head = "\n".join(kept)
    return f"{head}\n\n{body}\n{_ROOT} = {root.group(1)}\n"


def compile_validator(draft7_schema: Any, file: str | None) -> Validate:
    """Compile the schema's validator, and keep it in `file` when one is given and writable."""
    code = compile(compile_source(draft7_schema), "<psr-engine manifest schema>", "exec")
    if file is not None:
        _store(file, marshal.dumps(code))
    return _function(code)


def can_store() -> bool:
    """Whether a compiled validator can be kept (compiling one that is not kept costs more, on
    a small manifest, than jsonschema itself): the folder is the user's own, and only theirs
    (user_cache.py)."""
    return user_cache.can_store(cache_dir())


def _function(code: Any) -> Validate:
    names: dict[str, Any] = {
        "__name__": "psr_engine_manifest_schema",
        "Decimal": _NoDecimal,
        "JsonSchemaValueException": Rejected,
        "JsonSchemaValuesException": Rejected,
    }
    exec(code, names)  # code we generated from our own schema
    function: Validate = names[_ROOT]
    return function


def _store(file: str, content: bytes) -> None:
    if user_cache.store(file, content):  # one that cannot be written only costs speed
        # each schema edit, or fastjsonschema or Python upgrade, makes a new entry of ~0.5 MB
        user_cache.prune(os.path.dirname(file), KEPT)


def _library_stamp() -> tuple[str, int, int] | None:
    """fastjsonschema's install, without importing it: a new version is new files."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("fastjsonschema")
    if spec is None or not spec.origin:
        return None
    try:
        stat = os.stat(spec.origin)
    except OSError:
        return None
    return spec.origin, stat.st_size, stat.st_mtime_ns
