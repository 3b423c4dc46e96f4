"""The exporter process forked from the engine rather than started afresh, when that is safe.

Why: a fresh `python -I` costs the exporter process ~60 ms of CPU before it reads its first
frame, most of it the interpreter's start and the modules every psr_engine module needs
(typing, dataclasses and the inspect they load), which the engine has loaded already. A fork
of the engine at `apply`'s start has them: the exporter then loads only its own modules
(~10 ms). On a 2-core runner that CPU is taken from the run being traced. The price is the
engine's: until the run ends, its first write to each page it still shares with the process
copies that page (~1,700 pages on W1: a few ms). Paired on W1 against a fresh interpreter,
the fork came out ahead in wall and CPU time.

When: only where the shipper is started first thing by `apply` (start_early), on Linux, and
while the engine has no other thread, by Python's count and the kernel's (a fork copies no
thread, but would copy a lock another thread holds). Anywhere else, and if the fork fails,
the process is started afresh (shipping._exporter_command), as before.

The child gets what the fresh process gets: the records pipe as stdin, the answer pipe as
stdout, the engine's stderr, a session of its own, the engine's environment (or the one
given), exactly the fresh process's sys.path (a user's folder shadows nothing it imports);
no other file descriptor, none of the engine's signal handlers, and never the engine's exit
handlers or buffered output (it leaves with os._exit). The engine's objects it inherits are
frozen out of its garbage collector: never traversed (no copy of their pages), never
finalised (no file object of the engine's closes a descriptor of the child's).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, NoReturn

_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGALRM")


def can_fork() -> bool:
    """Linux, and one thread: Python's own count, and the kernel's (a thread a C library
    started is in that one only)."""
    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class ForkedProcess:
    """The forked exporter process, with the members of subprocess.Popen the shipper uses."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else: gone, how is not known
                self.returncode = 255
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.0005
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired("psr-engine exporter", timeout or 0.0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return code

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def fork_exporter(environ: Mapping[str, str], paths: list[str]) -> ForkedProcess:
    """The exporter process, forked. `paths`: its sys.path (the fresh process's)."""
    records_r, records_w = os.pipe()
    answer_r, answer_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing of the engine's is written twice
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    try:
        pid = os.fork()
    except BaseException:
        for fd in (records_r, records_w, answer_r, answer_w):
            os.close(fd)
        raise
    if pid == 0:
        _child(records_r, answer_w, dict(environ), paths)
    os.close(records_r)
    os.close(answer_w)
    return ForkedProcess(pid, os.fdopen(records_w, "wb", buffering=0), os.fdopen(answer_r, "rb", 0))


def _child(records: int, answer: int, environ: dict[str, str], paths: list[str]) -> NoReturn:
    try:
        import gc

        gc.freeze()
        os.setsid()
        for name in _SIGNALS:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        os.dup2(records, 0)
        os.dup2(answer, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        sys.path[:] = paths
        os.environ.clear()
        os.environ.update(environ)
        from psr_engine.tracing.exporter_process import main

        main(open(0, "rb", closefd=False), open(1, "w", closefd=False))  # noqa: SIM115
    finally:
        os._exit(70)  # main leaves with os._exit(0); anything else is a failure
