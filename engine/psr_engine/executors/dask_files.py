"""The engine's side of a Dask attempt's files when no filesystem is shared: packed to travel
(bytes, or staged through the object store above its threshold), and what comes back unpacked
where a local run leaves it (the worker's side is dask_worker.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from psr_engine.executors.base import ProcessSpec, TaskFiles
from psr_engine.executors.dask_staging import DEFAULT_THRESHOLD, Staged, Staging, write_shipped
from psr_engine.executors.dask_worker import Returned
from psr_engine.units import parse_memory


def staging_of(options: Mapping[str, Any]) -> Staging:
    threshold = options.get("threshold")
    return Staging(
        url=str(options["url"]),
        threshold=parse_memory(threshold) if threshold is not None else DEFAULT_THRESHOLD,
        endpoint=options.get("endpoint"),
    )


def pack(
    files: TaskFiles, staging: Staging | None, key: str, staged: list[Staged]
) -> tuple[tuple[str, bytes | Staged], ...]:
    """The attempt's files as they travel: bytes, or (above the threshold) a staged object."""
    packed: list[tuple[str, bytes | Staged]] = []
    for relative in files.send:
        path = os.path.join(files.root, relative)
        if staging is not None and os.path.getsize(path) > staging.threshold:
            staged.append(staging.upload(path, f"{key}/inputs/{relative}"))
            packed.append((relative, staged[-1]))
        else:
            with open(path, "rb") as handle:
                packed.append((relative, handle.read()))
    return tuple(packed)


def unpack(spec: ProcessSpec, returned: Returned, staging: Staging | None) -> None:
    """Put what the worker sent back where a local run leaves it: log, outputs, artifacts."""
    root = os.path.abspath(spec.cwd)
    if returned.log is not None:
        with open(spec.log_path, "wb") as log:
            log.write(returned.log)
    if returned.outputs is not None and "PSR_OUTPUT" in spec.env:
        with open(spec.env["PSR_OUTPUT"], "wb") as out:
            out.write(returned.outputs)
    for relative, content in returned.artifacts:
        path = os.path.normpath(os.path.join(root, relative))
        if not path.startswith(root + os.sep):
            continue  # the worker collected by our globs: this cannot happen, and must not
        write_shipped(path, content, staging)


def create(path: str) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666))
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666))


# Below this many bytes back, writing them on the event loop is cheaper than a thread hop.
_INLINE_BYTES = 1 << 16


def small(returned: Returned) -> bool:
    size = len(returned.log or b"") + len(returned.outputs or b"")
    for _, content in returned.artifacts:
        if not isinstance(content, bytes):
            return False
        size += len(content)
    return size < _INLINE_BYTES


def forget(staging: Staging, staged: list[Staged]) -> None:
    for item in staged:
        with contextlib.suppress(Exception):  # a leftover object costs storage, not the run
            staging.delete(item)
