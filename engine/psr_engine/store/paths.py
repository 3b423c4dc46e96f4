"""Where the run history lives: `<state dir>/runs.db`, one log folder per run beside it."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping

STATE_DIR_NAME = ".psr"
DB_NAME = "runs.db"
MANIFEST_NAME = "workflow.yaml"
# What `apply`, `plan`, `validate` take as the manifest when none is named, in this order (the
# names the pre-commit hook validates: docs/features/ci.md).
MANIFEST_NAMES = ("workflow.yaml", "workflow.yml")
MANIFEST_PATTERNS = ("*.psr.yaml", "*.psr.yml")
# The downward search for a history (nothing above): how deep, how many folders at most, and
# folders never worth entering.
_BELOW_DEPTH = 3
_BELOW_MAX_FOLDERS = 2000
_BELOW_SKIP = frozenset({"node_modules", "venv", "site-packages", "__pycache__", "build", "dist"})


def state_dir_for_manifest(manifest_path: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The state folder of a run: $PSR_STATE_DIR, else `.psr/` beside the manifest."""
    env = os.environ if environ is None else environ
    explicit = env.get("PSR_STATE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(os.path.dirname(os.path.abspath(manifest_path)), STATE_DIR_NAME)


def find_state_dir(
    explicit: str | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The state folder the look-back commands read (`locate_state_dir` without its note)."""
    return locate_state_dir(explicit, cwd=cwd, environ=environ)[0]


def locate_state_dir(
    explicit: str | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str | None]:
    """The state folder the look-back commands read, and a note saying how it was found when
    that is not obvious (None otherwise).

    `--state-dir`, else $PSR_STATE_DIR, else the nearest folder, from the current one upwards,
    that holds `.psr/runs.db` or a manifest (`workflow.yaml`...: its `.psr/`): run from a
    project's sub-folder, the commands still find its history, as git finds `.git`. Nothing
    there: a history in the folders below (a repository whose workflows live in sub-folders,
    as `make demo`'s does), the most recently written if several. Nothing at all: `./.psr`.
    """
    if explicit:
        return os.path.abspath(explicit), None
    env = os.environ if environ is None else environ
    if env.get("PSR_STATE_DIR"):
        return os.path.abspath(env["PSR_STATE_DIR"]), None
    start = os.path.abspath(cwd or os.getcwd())
    folder = start
    while True:
        state = os.path.join(folder, STATE_DIR_NAME)
        if os.path.isfile(os.path.join(state, DB_NAME)) or manifests_in(folder):
            return state, None
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    below = histories_below(start)
    if not below:
        return os.path.join(start, STATE_DIR_NAME), None
    chosen = max(below, key=lambda d: os.path.getmtime(db_path(d)))
    shown = os.path.relpath(chosen, start)
    note = f"history: {shown} (found below this folder"
    if len(below) > 1:
        others = ", ".join(os.path.relpath(d, start) for d in sorted(below) if d != chosen)
        note += f"; the most recently written of {len(below)}, others: {others}"
    return chosen, note + "; --state-dir chooses)"


def histories_below(start: str) -> list[str]:
    """State folders holding a runs.db in the folders below `start` (a few levels down,
    hidden folders and virtualenvs left out)."""
    found: list[str] = []
    visited = 0
    for folder, subfolders, _files in os.walk(start):
        depth = folder[len(start) :].count(os.sep)
        if os.path.isfile(os.path.join(folder, STATE_DIR_NAME, DB_NAME)) and folder != start:
            found.append(os.path.join(folder, STATE_DIR_NAME))
        visited += 1
        if depth >= _BELOW_DEPTH or visited >= _BELOW_MAX_FOLDERS:
            subfolders.clear()
            continue
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and d not in _BELOW_SKIP
        )
    return found


def manifests_in(folder: str) -> list[str]:
    """The manifests a command takes by default in `folder`: `workflow.yaml` (or `.yml`), else
    every `*.psr.yaml` (or `.yml`) there; empty when there is none."""
    for name in MANIFEST_NAMES:
        if os.path.isfile(os.path.join(folder, name)):
            return [os.path.join(folder, name)]
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in names
        if any(fnmatch.fnmatchcase(n, p) for p in MANIFEST_PATTERNS)
        and os.path.isfile(os.path.join(folder, n))
    ]


def find_manifest(*, cwd: str | None = None) -> list[str]:
    """The manifests of the nearest folder, from the current one upwards, that has any
    (`manifests_in`); empty when none has."""
    folder = os.path.abspath(cwd or os.getcwd())
    while True:
        found = manifests_in(folder)
        if found:
            return found
        parent = os.path.dirname(folder)
        if parent == folder:
            return []
        folder = parent


def db_path(state_dir: str) -> str:
    return os.path.join(state_dir, DB_NAME)


def run_dir(state_dir: str, run_id: str) -> str:
    """The folder holding one run's logs and outputs (the engine's layout)."""
    return os.path.join(state_dir, "runs", run_id)


def state_dir_of_run(run_folder: str) -> str:
    """The state folder a run's folder (`run_dir`) is in."""
    return os.path.dirname(os.path.dirname(run_folder))
