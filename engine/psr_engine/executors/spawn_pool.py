"""Worker threads that run a blocking call (a spawn) for the event loop, and hand it back.

The local executor spawns from worker threads (so that spawns overlap and the loop never waits
for an exec). Per spawn that is one hand-off to a thread and one back. anyio.to_thread costs
about 130 us of CPU for the round trip on this project's 2-core VM (a checkpoint, its capacity
limiter, idle-worker bookkeeping, a cancel scope); a queue and ``call_soon_threadsafe`` cost
about 45 us: on 1,000 no-op tasks that is most of a task's share of the engine's own CPU.

Threads start when every one is busy (up to ``MAX_THREADS``; beyond it calls queue) and end
after ``IDLE_S`` without work. asyncio only: another backend goes through anyio.to_thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

if TYPE_CHECKING:  # imported when first used: by then the event loop has imported it
    import asyncio

T = TypeVar("T")

MAX_THREADS = 32
IDLE_S = 10.0

# (loop, future, function, arguments)
_Call = tuple[
    "asyncio.AbstractEventLoop", "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]
]


class SpawnPool:
    """``await pool.run(fn, *args)``: fn(*args) in a worker thread. Not cancellable: the
    caller shields it (a child being born must not be abandoned)."""

    def __init__(self) -> None:
        self._reset()
        # A forked child has none of the parent's threads but would inherit their count (and
        # a lock one of them may hold): it would queue its spawns for threads that are not
        # there and wait forever. It starts with an empty pool of its own instead.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: SimpleQueue[_Call] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._free = 0  # threads neither busy nor promised a call already queued
        self._backlog = 0  # queued calls no thread was promised to (all MAX_THREADS busy)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio
            return await anyio.to_thread.run_sync(fn, *args)
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._free:
                self._free -= 1
            elif self._threads < MAX_THREADS:
                self._threads += 1
                threading.Thread(target=self._work, name="psr-spawn", daemon=True).start()
            else:
                self._backlog += 1
        self._queue.put((loop, future, fn, args))
        return await future

    def _work(self) -> None:
        queue = self._queue
        while True:
            try:
                loop, future, fn, args = queue.get(timeout=IDLE_S)
            except Empty:
                with self._lock:
                    if self._free:  # idle, and no call is on its way to it: end
                        self._free -= 1
                        self._threads -= 1
                        return
                continue
            settle: Callable[[asyncio.Future[Any], Any], None]
            try:
                value = fn(*args)
                settle = _succeed
            except BaseException as error:  # handed to the awaiting task
                value, settle = error, _fail
            # Free before the result is handed back: the caller's next call then finds this
            # thread rather than starting another.
            with self._lock:
                if self._backlog:
                    self._backlog -= 1  # the queued call nobody was promised is ours
                else:
                    self._free += 1
            _hand_back(loop, settle, future, value)


def _hand_back(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    try:  # noqa: SIM105 -- once per spawn: a plain try is cheaper than contextlib.suppress
        loop.call_soon_threadsafe(settle, future, value)
    except RuntimeError:  # the loop is closed: nobody waits any more
        pass


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: Any) -> None:
    if not future.done():
        future.set_exception(error)
