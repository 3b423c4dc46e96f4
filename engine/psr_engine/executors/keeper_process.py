"""The keeper's own process (see keeper.py): `python -I -S keeper_process.py TOKEN`.

A file of its own, importing only os, signal, sys and time, because this runs once per engine
process beside every `apply`: the engine side's imports (subprocess, threading) would double
the keeper's start-up CPU, which the one-task start-up figure (S1) pays in full on 2 cores.
"""

from __future__ import annotations

import os
import signal
import sys
import time

ENV_VAR = "PSR_KEEPER"
ROUNDS = 20  # kill sweeps at most (a fork bomb is not the case this is for)
BATCH_S = 0.2


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
        time.sleep(BATCH_S)
    kill_all(live, f"{ENV_VAR}={token}".encode())
    return 0


def kill_all(leaders: set[int], marker: bytes) -> None:
    for pgid in leaders:
        try:  # noqa: SIM105 -- contextlib is one import more at every start, for two uses
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    me = os.getpid()
    for _ in range(ROUNDS):
        found = [pid for pid in _pids() if pid != me and _belongs(pid, leaders, marker)]
        if not found:
            return
        for pid in found:
            try:  # noqa: SIM105 -- as above
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


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
