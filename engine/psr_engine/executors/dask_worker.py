"""The worker's side of the Dask executor: what runs inside a ``dask worker`` for one attempt.

``run_attempt`` is the function the engine submits (by reference: the worker imports this
module). It runs the attempt with the local executor (process group, timeout, SIGTERM then
SIGKILL, rusage), and around it:

- Cancellation without a round trip: when the engine cancels the attempt's future, the
  scheduler tells the worker, whose own task state turns ``cancelled``. The runner looks at that
  state every ``CANCEL_POLL`` seconds (a dict lookup, no message) and stops the group as a
  timeout would, then tells the engine the group is gone (a ``done`` notice on its topic).
- A watchdog per worker process (``_Reaper``): a small process that holds the read end of a
  pipe from the worker and the ids of the process groups the worker is running. When the
  worker dies (kill -9, OOM), the pipe reaches EOF and the watchdog SIGKILLs those groups, so
  an attempt the engine reports ``worker_lost`` does not go on running behind its back. It
  lives in its own session, so a signal to the worker's group does not take it down first.

Everything here imports only the standard library, anyio and the local executor, so a worker
pays for nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace

import anyio

from psr_engine.executors.base import ProcessResult, ProcessSpec

# Seconds between two looks, on the worker, at whether the attempt was cancelled.
CANCEL_POLL = 0.1

# The watchdog: reads "+PGID" / "-PGID" lines; at EOF (the worker is gone) kills what is left.
_REAPER_SOURCE = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    try:
        pgid = int(line[1:])
    except ValueError:
        continue
    if line[0] == "+":
        groups.add(pgid)
    else:
        groups.discard(pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Reaper:
    """The watchdog process of this worker process (see the module's docstring)."""

    def __init__(self) -> None:
        read_fd, self._write_fd = os.pipe()  # both close-on-exec: tasks never hold them
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-S", "-c", _REAPER_SOURCE],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_fd)
        self._lock = threading.Lock()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")

    def _send(self, line: str) -> None:
        with self._lock:
            os.write(self._write_fd, line.encode())


_reaper: _Reaper | None = None
_reaper_lock = threading.Lock()


def _the_reaper() -> _Reaper:
    global _reaper
    with _reaper_lock:
        if _reaper is None or _reaper.process.poll() is not None:
            _reaper = _Reaper()
        return _reaper


def run_attempt(spec: ProcessSpec, topic: str) -> ProcessResult | None:
    """Run one attempt on this worker; None when the engine cancelled it (nobody waits for a
    result then). Always tells the engine, on ``topic``, when the attempt's group is gone."""
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()
    reaper = _the_reaper()
    groups: list[int] = []

    def started(pgid: int) -> None:
        groups.append(pgid)
        reaper.watch(pgid)

    def cancelled() -> bool:
        state = worker.state.tasks.get(key)
        return state is None or state.state == "cancelled"

    worker.log_event(topic, {"key": str(key), "phase": "started"})
    try:
        return anyio.run(_supervised, replace(spec, on_start=started), cancelled)
    finally:
        for pgid in groups:
            reaper.forget(pgid)
        worker.log_event(topic, {"key": str(key), "phase": "done"})


async def _supervised(spec: ProcessSpec, cancelled: Callable[[], bool]) -> ProcessResult | None:
    """The local executor's run, its group stopped once ``cancelled()`` turns true."""
    from psr_engine.executors.local import LocalExecutor

    result: ProcessResult | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while not cancelled():
                await anyio.sleep(CANCEL_POLL)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        result = await LocalExecutor().run(spec)
        group.cancel_scope.cancel()
    return result
