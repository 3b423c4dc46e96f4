"""The keeper: a small process that kills a run's tasks when the engine dies without ending them.

A task runs in a session of its own (local.py), so nothing ties it to the engine: after a
`kill -9` of the engine it would run on, and `--resume` would run it a second time beside it.
The kernel's ways to tie them each cost something we do not pay: PR_SET_PDEATHSIG must be set
in the child between fork and exec (a `preexec_fn`, which rules out vfork and posix_spawn,
the spawn path's whole speed) and fires when the spawning *thread* ends, not the engine; a
cgroup needs a delegated, writable cgroup v2 tree, which CI containers rarely give.

So one keeper per engine process, shared by its executors and started with the first task: a
Python process of its own (stdlib only, `python -I -S keeper.py`, in a session of its own so a
signal to the engine's process group does not reach it). Its stdin is a pipe from the engine,
which writes `+PID` when a task leader starts and `-PID` once it is reaped. Every task also
carries `PSR_KEEPER=<token>` in its environment, which its children inherit. When the pipe reaches
end of file without a `bye` line, the engine is gone: the keeper SIGKILLs every process whose
process group or session is a live leader's, or whose environment holds the token (a `setsid`
grandchild left both), repeating until none is left, then exits. `bye` (its last executor closed)
ends it quietly: processes a task left behind on purpose are not its business then.

What escapes: a process that both left the session and cleared its environment (`setsid env
-i ...`) after its leader ended. And it needs /proc (Linux); elsewhere it only kills groups.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time

ENV_VAR = "PSR_KEEPER"
_ROUNDS = 20  # kill sweeps at most (a fork bomb is not the case this is for)
_BATCH_S = 0.2

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
        token = secrets.token_hex(12)
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), token],
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


def acquire() -> Keeper | None:
    """The process's keeper, started if need be; None where none can start. Pair with
    `release`."""
    global _shared, _users
    with _lock:
        if _shared is None:
            _shared = Keeper.start()
            if _shared is None:
                return None
        _users += 1
        return _shared


def release(keeper: Keeper) -> subprocess.Popen[bytes] | None:
    """One user fewer; the last one dismisses it (returns its process, to be reaped)."""
    global _shared, _users
    with _lock:
        if keeper is not _shared:
            return None
        _users -= 1
        if _users > 0:
            return None
        _shared = None
    return keeper.close()


def main(token: str) -> int:
    # A terminal's Ctrl-C or a SIGTERM to everything must not stop us before the tasks.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    live: set[int] = set()
    pending = b""
    stdin = sys.stdin.fileno()
    while True:
        try:
            data = os.read(stdin, 65536)
        except InterruptedError:
            continue
        if not data:
            break
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line == b"bye":
                return 0
            if line[:1] == b"+":
                live.add(int(line[1:]))
            elif line[:1] == b"-":
                live.discard(int(line[1:]))
        # Read in batches: a wake-up per task line would cost the machine more CPU than the
        # keeper is worth. The pipe holds thousands of lines meanwhile; the end of file waits
        # for us as well (a killed engine's tasks live at most this much longer).
        time.sleep(_BATCH_S)
    _kill_all(live, f"{ENV_VAR}={token}".encode())
    return 0


def _kill_all(leaders: set[int], marker: bytes) -> None:
    for pgid in leaders:
        _signal_group(pgid)
    me = os.getpid()
    for _ in range(_ROUNDS):
        found = [pid for pid in _pids() if pid != me and _belongs(pid, leaders, marker)]
        if not found:
            return
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _signal_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _belongs(pid: int, leaders: set[int], marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] in (b"Z", b"X"):
            return False  # already dead, waiting for its parent
        if int(fields[2]) in leaders or int(fields[3]) in leaders:  # pgrp, session
            return True
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return marker in handle.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
