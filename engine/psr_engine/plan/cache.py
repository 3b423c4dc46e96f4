"""The plan cache: compiled Plans under `<state dir>/plans/`, keyed by everything a Plan
depends on, so a repeated `apply` of an unchanged manifest skips YAML, the schema and the
graph library entirely (together ~250 ms of imports alone).

A cached plan is stored in the Plan's compact JSON form (fields at their defaults left out),
with its tasks' digests (plan/digest.py) beside it: the history sink records them when the run
starts, and a warm start then neither hashes every task again nor decodes every default.

The key covers the manifest's bytes and absolute path, the raw params and params file, the
engine's version, the machine defaults the planner fills in and a generation. Reading or
writing the cache never fails a run: a cache that cannot be used only costs speed. This module
imports nothing of the manifest stage: a hit loads the Plan from JSON and nothing else.

A plan compiled with values given on the command line (-p, a params file) may hold secrets:
the facade lends `seal`/`unseal` (secrets/sealed.py, keyed by those values) and such a plan is
stored sealed, in a `.sealed` file, never as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from psr_engine.plan.digest import keep_digests, plan_digests
from psr_engine.plan.model import Plan
from psr_engine.store.paths import state_dir_for_manifest
from psr_engine.store.private import make_private_dirs

# Bumped when what a cached plan must hold changes within one version (2: Plan.withheld, which
# an older cached plan lacks and would silently read as "withhold nothing"; 3: the compact
# plan with its task digests).
GENERATION = 3


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """Where the Plan of one manifest and its given values is cached."""

    file: str
    sealed: bool  # values were given on the command line: the plan is stored sealed
    given: bytes  # those values (the params file's bytes, the -p values): the sealing material


def entry_for(
    path: str, *, params: Mapping[str, Any] | None = None, params_file: str | None = None
) -> CacheEntry | None:
    """The cache entry of compiling `path` with these params; None when a file cannot be read
    (compiling reports that)."""
    from psr_engine._version import __version__

    try:
        with open(path, "rb") as handle:
            manifest_bytes = handle.read()
        params_bytes = b""
        if params_file:
            with open(params_file, "rb") as handle:
                params_bytes = handle.read()
    except OSError:
        return None
    material = (
        json.dumps(
            [
                GENERATION,
                __version__,
                os.path.abspath(path),
                sorted((params or {}).items()),
                hashlib.sha256(params_bytes).hexdigest(),
                os.cpu_count(),
                _physical_memory(),
            ],
            default=str,
        ).encode()
        + manifest_bytes
    )
    key = hashlib.sha256(material).hexdigest()[:32]
    sealed = bool(params or params_file)
    given = params_bytes + json.dumps(sorted((params or {}).items()), default=str).encode()
    suffix = "sealed" if sealed else "json"
    file = os.path.join(state_dir_for_manifest(path), "plans", f"{key}.{suffix}")
    return CacheEntry(file=file, sealed=sealed, given=given)


def load_cached(
    entry: CacheEntry, *, unseal: Callable[[bytes], str | None] | None = None
) -> Plan | None:
    """The Plan stored in `entry`, or None (absent, unreadable, sealed with other values, of
    another format)."""
    try:
        with open(entry.file, "rb") as handle:
            stored = handle.read()
        text = stored.decode() if not entry.sealed else unseal(stored) if unseal else None
        if text is None:
            return None
        stored_form = json.loads(text)
        plan = Plan.from_dict(stored_form["plan"])
        keep_digests(plan, stored_form.get("digests") or ())
        return plan
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store_cached(
    entry: CacheEntry, plan: Plan, *, seal: Callable[[str], bytes] | None = None
) -> None:
    """Write-then-rename: a reader never sees half a file, and a failure leaves nothing. A
    sealed entry is not written without `seal`."""
    if entry.sealed and seal is None:
        return
    text = json.dumps({"plan": plan.to_dict(compact=True), "digests": plan_digests(plan)})
    content = seal(text) if seal is not None else text.encode()
    try:
        make_private_dirs(os.path.dirname(entry.file))
        import tempfile  # a miss only

        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(entry.file), suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, entry.file)
    except OSError:
        pass  # a cache that cannot be written only costs speed


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0
