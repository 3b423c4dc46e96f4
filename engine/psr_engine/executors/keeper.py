"""The keeper: a small process that kills a run's tasks when the engine dies without ending them.

A task runs in a session of its own (local.py), so nothing ties it to the engine: after a
`kill -9` of the engine it would run on, and `--resume` would run it a second time beside it.
The kernel's ways to tie them each cost something we do not pay: PR_SET_PDEATHSIG must be set
in the child between fork and exec (a `preexec_fn`, which rules out vfork and posix_spawn,
the spawn path's whole speed) and fires when the spawning *thread* ends, not the engine; a
cgroup needs a delegated, writable cgroup v2 tree, which CI containers rarely give.

So one keeper per engine process, shared by its executors and started with the first task: a Python
process of its own (`python -I -S keeper_process.py`, which imports only os, signal, sys and time,
in a session of its own so a signal to the engine's process group does not reach it). Its stdin is a
pipe from the engine, which writes `+PID` when a task leader starts and `-PID` once it is reaped.
Every task also carries `PSR_KEEPER=<token>` in its environment, which its children inherit. When
the pipe reaches end of file without a `bye` line, the engine is gone: the keeper SIGKILLs every
process whose process group or session is a live leader's, or whose environment holds the token (a
`setsid` grandchild left both), repeating until none is left, then exits. `bye` (its last executor
closed) ends it quietly: processes a task left behind on purpose are not its business then.

The engine never waits for its keeper: a dismissed keeper reads its `bye` within one batch
(0.2 s) and exits; waiting for that would add up to the batch, plus the keeper's own start-up,
to the end of every run. It is reaped by the next `acquire`/`release` in the same process, or by
init once the engine has exited.

What escapes: a process that both left the session and cleared its environment (`setsid env
-i ...`) after its leader ended. And it needs /proc (Linux); elsewhere it only kills groups.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading

from psr_engine.executors import keeper_process
from psr_engine.executors.keeper_process import ENV_VAR

__all__ = ["ENV_VAR", "Keeper", "acquire", "release"]

_PROGRAM = os.path.abspath(keeper_process.__file__)

# What the keeper's interpreter may need to start at all; nothing else of the engine's
# environment (secrets of the env provider live there) reaches it.
_PASSED_ENV = ("PATH", "LD_LIBRARY_PATH", "SYSTEMROOT")


class Keeper:
    """The engine's end of a keeper: start it, tell it of task leaders, say bye."""

    def __init__(self, process: subprocess.Popen[bytes], token: str) -> None:
        self._process = process
        self.token = token
        assert process.stdin is not None
        self._fd = process.stdin.fileno()
        os.set_blocking(self._fd, False)  # never wait on it: a lost line is covered by the token

    @classmethod
    def start(cls) -> Keeper | None:
        """A new keeper, or None where one cannot be started (the run goes on unprotected)."""
        token = os.urandom(12).hex()  # what secrets.token_hex does, without importing it
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", _PROGRAM, token],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError:
            return None
        return cls(process, token)

    def started(self, pid: int) -> None:
        self._send(b"+%d\n" % pid)

    def ended(self, pid: int) -> None:
        self._send(b"-%d\n" % pid)

    def close(self) -> subprocess.Popen[bytes]:
        """Say bye (no killing) and close the pipe; returns the process, to be reaped."""
        self._send(b"bye\n")
        assert self._process.stdin is not None
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        return self._process

    def _send(self, line: bytes) -> None:
        with contextlib.suppress(OSError):  # full (it is slow) or gone: nothing to wait for
            os.write(self._fd, line)


# One keeper per engine process, shared by its executors (a run's sub-workflows have their
# own): started by the first that runs a task, dismissed when the last is closed. An executor
# never closed (a test, an API user) leaves one keeper for the process, not one each.
_shared: Keeper | None = None
_users = 0
_lock = threading.Lock()
_dismissed: list[subprocess.Popen[bytes]] = []  # said bye to, not yet seen to exit


def acquire() -> Keeper | None:
    """The process's keeper, started if need be; None where none can start. Pair with
    `release`."""
    global _shared, _users
    with _lock:
        _reap_dismissed()
        if _shared is None:
            _shared = Keeper.start()
            if _shared is None:
                return None
        _users += 1
        return _shared


def release(keeper: Keeper) -> None:
    """One user fewer; the last one dismisses it, without waiting for it to exit."""
    global _shared, _users
    with _lock:
        _reap_dismissed()
        if keeper is not _shared:
            return
        _users -= 1
        if _users > 0:
            return
        _shared = None
        _dismissed.append(keeper.close())


def _reap_dismissed() -> None:
    _dismissed[:] = [process for process in _dismissed if process.poll() is None]
