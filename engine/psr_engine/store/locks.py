"""The resume lock: one process at a time may resume a given run.

Ten `apply --resume` of one failed run at once must run its failed task once, not ten times
(a payment charged ten times). The lock is `flock` on `<state>/runs/<id>/resume.lock`, held
by the resuming process until it ends: the kernel drops it when that process dies, even by
`kill -9`, so a crashed resume never leaves the run locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import IO

from psr_engine.store.paths import run_dir
from psr_engine.store.private import open_private

LOCK_NAME = "resume.lock"


class RunLock:
    """An exclusive lock on one run; released by `release`, leaving a `with`, or the end of
    the process."""

    def __init__(self, handle: IO[bytes], run_id: str) -> None:
        self._handle: IO[bytes] | None = handle
        self.run_id = run_id

    @classmethod
    def try_acquire(cls, state_dir: str, run_id: str) -> RunLock | None:
        """The lock, or None when another process holds it. Never waits."""
        path = os.path.join(run_dir(state_dir, run_id), LOCK_NAME)
        handle = open(open_private(path, os.O_RDWR | os.O_CREAT), "rb")  # noqa: SIM115
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        except BaseException:
            handle.close()
            raise
        return cls(handle, run_id)

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()  # closing the last descriptor drops the flock

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
