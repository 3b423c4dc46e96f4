"""What a command does before its imports, and once they are done (issue 15: start-up).

- The functions @dataclass generates come from a kept table instead of being compiled on each
  start (dataclass_code.py).
- The cyclic garbage collector waits. Importing ~300 modules allocates hundreds of thousands
  of objects, and with the default threshold (a young collection every 700 allocations) a
  one-task apply ran ~58 collections costing 10-15 ms, for modules, functions and classes that
  live as long as the process. During start-up the threshold is high instead; `end` (apply
  calls it once what a run needs is imported) puts the default back after `gc.freeze()`,
  which moves everything made so far out of the collector's view: later collections, during
  a run of thousands of tasks, no longer walk every module's objects. A command that never
  calls `end` (`ui`, `logs --follow`) keeps the high threshold: the collector still runs,
  every 100,000 allocations, which bounds what cycles can hold to a few megabytes.

Only the process's own command line does this (cli/__init__.py): a program that calls
main([...]) keeps its interpreter as it was.
"""

from __future__ import annotations

import gc

_STARTUP_THRESHOLD = 100_000  # allocations between young collections while starting
_saved: tuple[int, int, int] | None = None


def begin() -> None:
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(_STARTUP_THRESHOLD, *_saved[1:])
    from psr_engine.cli import dataclass_code

    dataclass_code.install()


def end() -> None:
    """Start-up is over: what it made stays (frozen); the collector is back to its pace."""
    global _saved
    if _saved is not None:
        gc.freeze()
        gc.set_threshold(*_saved)
        _saved = None
