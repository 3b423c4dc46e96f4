"""The engine's peak RSS as the tasks it spawns inherit it: the floor below which a task's
``max_rss`` is no measurement (see executors/local.py).

At exec, Linux keeps the peak of the memory a process replaced as its starting ru_maxrss. So a
task starts from the engine's own memory's peak (VmHWM), while the engine's ru_maxrss also
holds the peak of whatever started it: a CI agent, an IDE, a test runner grown to 400 MB.
Flooring by ru_maxrss hid every task whose peak was below that parent's (reported 0: a 256 MB
task run from a 400 MB parent had no figure). VmHWM is a file read, so getrusage, a system
call, is used while its figure is the engine's own: once it is above what the engine started
with, which is then the engine's own memory's peak.
"""

from __future__ import annotations

import resource

_STATUS = "/proc/self/status"
_started_with: int | None = None  # KiB of ru_maxrss inherited at exec, found at first use


def floor_kib() -> int:
    """The peak (KiB) a task spawned now starts from. Called from the spawning threads: the
    first calls may race to set _started_with, to the same value."""
    global _started_with
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if _started_with is None:
        own = _own_peak_kib()
        _started_with = peak if own is not None and peak > own else 0
    if peak > _started_with:
        return peak  # above what it started with: the engine's own memory's peak
    own = _own_peak_kib()
    return peak if own is None else own


def _own_peak_kib() -> int | None:
    """VmHWM: the peak of this process's own memory, in KiB (None where /proc has none)."""
    try:
        with open(_STATUS, "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None
