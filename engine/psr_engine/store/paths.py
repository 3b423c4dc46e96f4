"""Where the run history lives: `<state dir>/runs.db`, one log folder per run beside it."""

from __future__ import annotations

import os
from collections.abc import Mapping

STATE_DIR_NAME = ".psr"
DB_NAME = "runs.db"
MANIFEST_NAME = "workflow.yaml"


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
    """The state folder the look-back commands read.

    `--state-dir`, else $PSR_STATE_DIR, else the nearest folder, from the current one upwards,
    that holds `.psr/runs.db` or a `workflow.yaml` (its `.psr/`): run from a project's
    sub-folder, the commands still find its history, as git finds `.git`. Nothing found:
    `./.psr`.
    """
    if explicit:
        return os.path.abspath(explicit)
    env = os.environ if environ is None else environ
    if env.get("PSR_STATE_DIR"):
        return os.path.abspath(env["PSR_STATE_DIR"])
    start = os.path.abspath(cwd or os.getcwd())
    folder = start
    while True:
        state = os.path.join(folder, STATE_DIR_NAME)
        if os.path.isfile(os.path.join(state, DB_NAME)) or os.path.isfile(
            os.path.join(folder, MANIFEST_NAME)
        ):
            return state
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.join(start, STATE_DIR_NAME)
        folder = parent


def db_path(state_dir: str) -> str:
    return os.path.join(state_dir, DB_NAME)


def run_dir(state_dir: str, run_id: str) -> str:
    """The folder holding one run's logs and outputs (the engine's layout)."""
    return os.path.join(state_dir, "runs", run_id)


def state_dir_of_run(run_folder: str) -> str:
    """The state folder a run's folder (`run_dir`) is in."""
    return os.path.dirname(os.path.dirname(run_folder))
