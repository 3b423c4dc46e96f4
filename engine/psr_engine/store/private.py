"""The state folder is private: `.psr/` and every folder in it 0700, every file in it 0600.

What the engine keeps there (runs.db and SQLite's -wal/-shm beside it, task logs, `$PSR_OUTPUT`
files, cache entries, the plan cache, reports) holds task outputs and the command lines of a
run: masked where a secret is known, but still nobody else's business on a shared machine.
Modes are given when a file is created (never by the process umask, which tasks inherit), and
a folder created by an older version, looser, is tightened when the engine opens it.
"""

from __future__ import annotations

import contextlib
import os
import stat

from psr_engine.store.paths import STATE_DIR_NAME

DIR_MODE = 0o700
FILE_MODE = 0o600
_LOOSE = 0o077  # any bit for group or others


def make_private_dirs(path: str) -> None:
    """`os.makedirs`, every folder it creates 0700 (makedirs gives the mode to the last one
    only)."""
    missing: list[str] = []
    folder = os.path.abspath(path)
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, DIR_MODE)


def tighten(path: str, mode: int = DIR_MODE) -> None:
    """Take group and other permissions off `path` if it has any. Quiet where it cannot
    (not ours, a read-only file system): reading must still work there."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
        if current & _LOOSE:
            os.chmod(path, current & mode)
    except OSError:
        pass


def open_private(path: str, flags: int) -> int:
    """`os.open` creating the file 0600 (and its folder 0700 when missing)."""
    try:
        return os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
        make_private_dirs(os.path.dirname(path) or ".")
        return os.open(path, flags | os.O_CLOEXEC, FILE_MODE)


def in_state_dir(path: str) -> bool:
    """Is `path` inside a state folder (`.psr/` anywhere above it, or $PSR_STATE_DIR)?

    Reports a user points elsewhere keep the usual modes: CI tools of another user may read
    them. Inside the state folder they are private like everything else there."""
    absolute = os.path.abspath(path)
    if STATE_DIR_NAME in absolute.split(os.sep)[:-1]:
        return True
    explicit = os.environ.get("PSR_STATE_DIR")
    if explicit:
        root = os.path.abspath(explicit)
        return absolute.startswith(root.rstrip(os.sep) + os.sep)
    return False


def open_report(path: str) -> int:
    """Open a report for appending, created (with its folder) private inside a state folder,
    with the usual modes elsewhere."""
    if in_state_dir(path):
        return open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
