"""The user's cache folder, ``$XDG_CACHE_HOME/psr-engine/`` (``~/.cache`` by default), where
psr-engine keeps compiled code between processes, as Python keeps .pyc files: the manifest
schema's validator (manifest/compiled_schema.py) and the functions dataclasses generates
(cli/dataclass_code.py).

One rule for all of it, kept here: what we keep there is code we run, so an entry is used
only when it and its folder are the user's own and writable by nobody else; a folder of ours
that others may write to is tightened first. Reading or writing never fails a command: a
cache that cannot be used only costs speed.
"""

from __future__ import annotations

import os


def folder(name: str) -> str:
    """``$XDG_CACHE_HOME/psr-engine/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "psr-engine", name)


def own(stat: os.stat_result) -> bool:
    """The user's own, and writable by nobody else: what may hold code we run."""
    return stat.st_uid == os.geteuid() and not stat.st_mode & 0o022


def can_store(path: str) -> bool:
    """Whether entries can be kept in the folder `path`: created if missing, the user's own and
    only theirs (tightened when it is ours but others may write to it), and writable."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        stat = os.stat(path)
        if stat.st_uid == os.geteuid() and stat.st_mode & 0o022:
            os.chmod(path, 0o700)
            stat = os.stat(path)
    except OSError:
        return False
    return own(stat) and os.access(path, os.W_OK | os.X_OK)


def read_own(file: str) -> bytes | None:
    """The bytes of `file` when it and its folder are the user's own; else None."""
    try:
        with open(file, "rb") as handle:
            if not (own(os.fstat(handle.fileno())) and own(os.stat(os.path.dirname(file)))):
                return None
            return handle.read()
    except OSError:
        return None


def store(file: str, content: bytes) -> bool:
    """Write-then-rename, mode 0600: a reader never sees half a file, and a failure leaves
    nothing. False when it could not be written."""
    import tempfile

    path = os.path.dirname(file)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, file)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    return True


def prune(path: str, keep: int) -> None:
    """Keep the `keep` newest ``.marshal`` entries of the folder `path`: each new version (of
    the schema, a library, Python) starts new ones, and several installs may share it."""
    import contextlib

    entries = []
    for name in os.listdir(path):
        if name.endswith(".marshal"):
            entry = os.path.join(path, name)
            with contextlib.suppress(OSError):
                entries.append((os.stat(entry).st_mtime_ns, entry))
    for _, entry in sorted(entries, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(entry)
