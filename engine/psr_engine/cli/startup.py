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

- The end skips the interpreter's teardown. Once the command has returned and every
  exit handler has run (logs flushed, the tracing exporter shut down, our table written),
  tearing down ~270 modules and freeing their objects one by one took 17-28 ms of a one-task
  apply here, and does nothing anyone sees: the files we write are closed by then. So
  `leave` runs the exit handlers, flushes stdout and stderr, and ends the process with the
  command's exit code. When a thread that is not a daemon still runs, it does not: Python's
  own exit waits for that thread, and so must we.

- Standard streams closed when the process started (`psr-engine apply 1>&-`, a service
  manager that gives none) are /dev/null from the start. Python leaves sys.stdout None then,
  and the descriptor free: the first file the command opened (the run's history, a log)
  would take its number, and whatever writes to "stdout", in the engine or a library, would
  write into that file.

Only the process's own command line does this (cli/__init__.py): a program that calls
main([...]) keeps its interpreter as it was.
"""

from __future__ import annotations

import contextlib
import gc
import sys

_STARTUP_THRESHOLD = 100_000  # allocations between young collections while starting
_saved: tuple[int, int, int] | None = None
_begun = False


def begin(command: str) -> None:
    """`command`: the subcommand's name (each keeps its own table of dataclass code)."""
    global _saved, _begun
    _begun = True
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(_STARTUP_THRESHOLD, *_saved[1:])
    from psr_engine.cli import dataclass_code

    dataclass_code.install(command)


def standard_streams() -> None:
    """Descriptors 0, 1 and 2 open (on /dev/null if they were closed), and sys.stdin,
    sys.stdout and sys.stderr set. Lowest first: each open takes the lowest free number."""
    import os

    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False, errors="backslashreplace"))  # noqa: SIM115


def end() -> None:
    """Start-up is over: what it made stays (frozen); the collector is back to its pace."""
    global _saved
    if _saved is not None:
        gc.freeze()
        gc.set_threshold(*_saved)
        _saved = None


def leave(code: int) -> int:
    """End the process now with `code` (see above); returns `code` when it must not."""
    if not _begun:
        return code
    import threading

    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return code
    import atexit
    import os

    atexit._run_exitfuncs()  # what Python's exit runs next; each handler runs once
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe: Python's exit would only report it, and exit 120.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
