"""The functions @dataclass generates, compiled once and kept, as Python keeps .pyc files.

@dataclass writes the source of each class's ``__init__``, ``__repr__``, ``__eq__``,
``__setattr__``... and compiles it with ``exec`` when the class is created. A one-task
``apply`` creates ~70 records (ours and anyio's) and so compiles ~340 small functions on every
start: measured on this 2-core machine, 63-79 ms of its ~260 ms of CPU, where a module's own
code costs nothing to compile because its .pyc is kept (issue 15).

So the CLI gives the dataclasses module an ``exec`` of its own (a module global shadows the
builtin for that module only): it looks the source up, by a BLAKE2 digest of its text, in a
table of code objects kept in ``$XDG_CACHE_HOME/psr-engine/dataclasses/`` (user_cache.py:
the user's own folder, since this is code we run) and compiles only what is missing; the table
is written back at exit when something was added. With the table kept, creating those classes
costs ~15 ms and loading the table ~1 ms.

What runs is the code compiled from the very same text, with the same filename ("<string>"),
so no class behaves differently. The file is per Python version (marshal's format and the
bytecode change with it). Only the CLI installs this: a program that imports psr_engine as a
library keeps its dataclasses module as it was.
"""

from __future__ import annotations

import builtins
import hashlib
import marshal
import os
import sys
from types import CodeType
from typing import Any

from psr_engine import user_cache

# A table is per command, and holds what its runs used: loading a code object costs about as
# much as creating one from it (a table of ~900 functions, gathered by every command, took
# 8-18 ms to load here, one of apply's ~340 about 1-2 ms).
KEPT_FUNCTIONS = 1500  # more, and only those this process used are written back
KEPT_FILES = 64  # tables (commands x Python versions) that stay in the folder


class _Table:
    """Code objects by the digest of the source they were compiled from."""

    def __init__(self, codes: dict[bytes, CodeType]) -> None:
        self.codes = codes
        self.used: set[bytes] = set()
        self.added = False

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        if type(source) is str:
            key = hashlib.blake2b(source.encode(), digest_size=16).digest()
            code = self.codes.get(key)
            if code is None:
                code = self.codes[key] = compile(source, "<string>", "exec")
                self.added = True
            self.used.add(key)
            source = code
        builtins.exec(source, globals, locals)

    def save(self, file: str) -> None:
        if not self.added:
            return
        codes = self.codes
        if len(codes) > KEPT_FUNCTIONS:
            codes = {key: codes[key] for key in self.used}
        folder = os.path.dirname(file)
        if user_cache.can_store(folder) and user_cache.store(file, marshal.dumps(codes)):
            user_cache.prune(folder, KEPT_FILES)  # each Python upgrade starts new tables


def table_file(command: str) -> str:
    name = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{command}.marshal"
    return os.path.join(user_cache.folder("dataclasses"), name)


def install(command: str) -> None:
    """Route the dataclasses module's compiles through `command`'s kept table (once per
    process; `command` is a name made of letters and dashes)."""
    import dataclasses

    if "exec" in vars(dataclasses):
        return  # installed already (or someone else's): leave it
    file = table_file(command)
    table = _Table(_load(file))
    dataclasses.exec = table.exec  # type: ignore[attr-defined]
    import atexit

    atexit.register(table.save, file)


def _load(file: str) -> dict[bytes, CodeType]:
    kept = user_cache.read_own(file)
    if kept is None:
        return {}
    try:
        codes = marshal.loads(kept)
    except (EOFError, ValueError, TypeError):
        return {}  # a broken table only costs speed: compile again
    if type(codes) is not dict or not all(
        type(key) is bytes and type(code) is CodeType for key, code in codes.items()
    ):
        return {}
    return codes
