"""The local executor's spawning threads: calls run off the loop, overlap, and come back."""

from __future__ import annotations

import threading

import anyio
import pytest

from psr_engine.executors.spawn_pool import SpawnPool


def test_a_call_runs_in_another_thread_and_its_result_comes_back() -> None:
    async def main() -> tuple[int, str]:
        return await SpawnPool().run(lambda x: (x + 1, threading.current_thread().name), 41)

    value, thread = anyio.run(main)
    assert value == 42
    assert thread == "psr-spawn"


def test_an_exception_in_the_call_is_raised_to_the_caller() -> None:
    def fails() -> None:
        raise OSError("no such thing")

    async def main() -> None:
        await SpawnPool().run(fails)

    with pytest.raises(OSError, match="no such thing"):
        anyio.run(main)


def test_calls_made_together_run_at_once() -> None:
    """Two spawns in flight each have a thread: the second does not wait for the first."""
    both = threading.Barrier(2, timeout=5)

    async def main() -> list[int]:
        pool = SpawnPool()
        results: list[int] = []

        async def one(i: int) -> None:
            results.append(await pool.run(lambda: both.wait() * 0 + i))

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 1)
            tg.start_soon(one, 2)
        return sorted(results)

    assert anyio.run(main) == [1, 2]


def test_an_idle_thread_is_reused_rather_than_another_started() -> None:
    async def main() -> set[int]:
        pool = SpawnPool()
        return {await pool.run(threading.get_ident) for _ in range(20)}

    assert len(anyio.run(main)) == 1


def test_a_forked_child_gets_a_pool_of_its_own_and_its_calls_run() -> None:
    """The parent's threads do not survive a fork; a child that inherited their count would
    queue its calls for them and wait forever (100 forked applies hung so)."""
    import os

    pool = SpawnPool()

    async def once() -> int:
        return await pool.run(os.getpid)

    assert anyio.run(once) == os.getpid()  # the parent now has an idle thread
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its call came back from a thread of its own
        code = 1
        try:
            done = threading.Event()

            def child_run() -> None:
                nonlocal code
                code = 0 if anyio.run(once) == os.getpid() else 1
                done.set()

            threading.Thread(target=child_run, daemon=True).start()
            code = code if done.wait(10) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
