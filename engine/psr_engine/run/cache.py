"""Task caching (`cache: {inputs, outputs}`): a task whose definition and input files are
unchanged since its last success, and whose declared outputs still exist, is not run again.

Like make, but by content: the key is a digest of the task's definition (command, args, env,
matrix, kind) and of every file its `inputs` globs match (paths and bytes), so a checkout that
only touches mtimes does not invalidate it. Entries live in `<state>/cache/`, one JSON file per
task instance, holding the key and the outputs ($PSR_OUTPUT values) to hand downstream.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable
from typing import BinaryIO

from psr_engine.globs import matching_files
from psr_engine.plan.model import PlannedTask
from psr_engine.store.private import make_private_dirs

log = logging.getLogger(__name__)


def cache_key(
    task: PlannedTask, argv: tuple[str, ...], *, stop: Callable[[], bool] | None = None
) -> str:
    """The task's current key. `argv` is the rendered command line: a change in an upstream
    output it reads changes the key. `stop`: asked between blocks of 1 MiB; true ends the
    reading with InterruptedError (the run was interrupted: a 60 GB input must not keep the
    engine alive)."""
    assert task.cache is not None
    root = task.workdir
    digest = hashlib.sha256()
    definition = [task.kind, list(argv), task.env, task.matrix]
    digest.update(json.dumps(definition, sort_keys=True, default=str).encode())
    for pattern in task.cache.get("inputs", ()):
        for path in _matches(root, pattern):
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with _open_regular(path) as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    if stop is not None and stop():
                        raise InterruptedError("the run was interrupted")
                    digest.update(block)
    return digest.hexdigest()


def outputs_present(task: PlannedTask) -> bool:
    """Every `outputs` glob still matches a file: without them a cached success is no use."""
    assert task.cache is not None
    return all(_matches(task.workdir, pattern) for pattern in task.cache.get("outputs", ()))


def lookup(state_dir: str, task: PlannedTask, key: str) -> dict[str, str] | None:
    """The outputs recorded with this key at the task's last success, or None."""
    try:
        with open(_entry(state_dir, task), encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    if entry.get("key") != key:
        return None
    return {str(k): str(v) for k, v in (entry.get("outputs") or {}).items()}


def record(
    state_dir: str,
    task: PlannedTask,
    key: str,
    outputs: dict[str, str],
    *,
    mask: Callable[[str], str] | None = None,
) -> bool:
    """Remember a success. Written atomically; a cache that cannot be written only costs time.

    Never a secret on disk: an output that `mask` (the run's masker) would change holds one,
    so the entry is not written at all (False) and the task simply runs next time. Storing
    it masked would hand `***` downstream on a hit, wrong data; sealing it needs a key that
    lives somewhere, and the next run would have to have it."""
    if mask is not None and any(mask(k) != k or mask(v) != v for k, v in outputs.items()):
        log.debug("task %s: not cached, an output holds a secret", mask(task.id))
        with contextlib.suppress(OSError):  # nor an entry an older version wrote in clear
            os.unlink(_entry(state_dir, task))
        return False
    path = _entry(state_dir, task)
    shown = task.id if mask is None else mask(task.id)
    with contextlib.suppress(OSError):
        make_private_dirs(os.path.dirname(path))
        import tempfile  # with random: only when an entry is written

        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"task": shown, "key": key, "outputs": outputs}, handle)
        os.replace(tmp, path)
        return True
    return False


def _open_regular(path: str) -> BinaryIO:
    """Open a file the glob found regular, refusing what it has become since: a FIFO put in
    its place would block a plain open (and the run) forever; O_NONBLOCK opens it at once."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def _entry(state_dir: str, task: PlannedTask) -> str:
    name = hashlib.sha256(task.id.encode()).hexdigest()[:24]
    return os.path.join(state_dir, "cache", f"{name}.json")


def _matches(root: str, pattern: str) -> list[str]:
    return matching_files(root, pattern)
