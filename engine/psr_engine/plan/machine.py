"""What this machine offers when the manifest and the caller do not say: the planner's only I/O."""

from __future__ import annotations

import os

from psr_engine.units import Resources


def machine_capacity() -> Resources:
    """All of this machine's cores and physical memory."""
    return Resources(cpu=float(os.cpu_count() or 1), memory=_physical_memory())


def machine_concurrency() -> int:
    """One task per core: the manifest language's default for ``spec.concurrency``."""
    return os.cpu_count() or 1


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        # Not a POSIX system that reports it: 0 would make every memory request "too large",
        # so fall back to a size no task request reaches by accident.
        return 2**50
