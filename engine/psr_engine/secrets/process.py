"""Keeping the engine's own memory and environment away from its tasks.

Tasks run as the engine's user, and Linux lets a process read ``/proc/<pid>/environ`` and
``/proc/<pid>/mem`` (or ptrace) of any process of the same user that is *dumpable*. The engine
holds every secret of the run: in memory once resolved, and in its initial environment when
an ``env`` provider reads one from there (removing it from ``os.environ`` does not erase the
bytes ``/proc/<pid>/environ`` shows). ``prctl(PR_SET_DUMPABLE, 0)`` makes those files root's
and refuses ptrace from other processes of the user, and unlike in a task it lasts: the
engine never execs. It also turns off core dumps of the engine, which would hold the secrets.

What it cannot do (docs/features/secrets.md says it precisely): execve resets the flag, so a
task cannot be made non-dumpable from outside, and tasks of one run can read each other's
environment unless they run in separate PID namespaces or as separate users. A process with
CAP_SYS_PTRACE (root) reads everything regardless.
"""

from __future__ import annotations

import sys

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def protect_process() -> bool:
    """Make this process non-dumpable. True when it is (now or already); False where the
    platform has no prctl (not Linux), which the caller can only accept."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 0)


__all__ = ["protect_process"]
