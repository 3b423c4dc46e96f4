"""The keeper's life seen from the engine: dismissed without waiting, reaped later."""

from __future__ import annotations

import os
import time

import anyio

from psr_engine.executors import keeper
from psr_engine.executors.local import LocalExecutor


def _zombie_children() -> list[int]:
    me = str(os.getpid())
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and fields[1] == me:
            found.append(int(name))
    return found


def test_closing_an_executor_does_not_wait_for_its_keeper_to_exit(spec_for):
    """A run's end used to wait for the keeper to read its bye: up to its 0.2 s read batch
    plus its start-up, on every apply."""
    executor = LocalExecutor()

    async def one_task_then_close() -> float:
        result = await executor.run(spec_for("sleep", "0.3"))  # the keeper is up and reading
        assert result.exit_code == 0
        await anyio.sleep(0.05)  # it has read the task's end alone and sleeps out its batch
        started = time.monotonic()
        await executor.aclose()
        return time.monotonic() - started

    assert anyio.run(one_task_then_close) < 0.05


def test_dismissed_keepers_are_reaped_by_later_ones_and_never_pile_up():
    for _ in range(5):
        shared = keeper.acquire()
        assert shared is not None
        keeper.release(shared)
    time.sleep(keeper.keeper_process.BATCH_S + 0.3)  # each has read its bye and exited
    keeper.release(keeper.acquire())  # type: ignore[arg-type]
    assert len(_zombie_children()) <= 1  # at most the one just dismissed, not yet seen
