"""A spawning thread waits a little for its child (LINGER_MS): a quick one is reaped there and
comes back to the loop with its ending; a slower one is handed over and supervised as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from psr_engine.executors.local import LINGER_MS, LocalExecutor

pytestmark = pytest.mark.anyio


@pytest.fixture
def threaded() -> Iterator[LocalExecutor]:
    local = LocalExecutor(alone_on_loop=False, adaptive=False)  # every spawn from a thread
    yield local
    anyio.run(local.aclose)


async def test_a_quick_child_reaped_by_its_thread_leaves_no_empty_private_file(
    threaded, spec_for, tmp_path: Path, procs
):
    """Failed before: the empty $PSR_OUTPUT file stayed for its reader to find empty and remove."""
    empty, written = tmp_path / "a.out", tmp_path / "b.out"
    quiet = await threaded.run(spec_for("true", private_files=(str(empty),)))
    writes = await threaded.run(
        spec_for("bash", "-c", f"echo k=v >> {written}; exit 3", private_files=(str(written),))
    )
    assert (quiet.exit_code, writes.exit_code) == (0, 3)
    assert procs.is_reaped(quiet.pid) and procs.is_reaped(writes.pid)
    assert not empty.exists()
    assert quiet.private_files_gone and not writes.private_files_gone  # what the reader skips
    assert written.read_text() == "k=v\n"  # read and removed by take_outputs, not here
    assert oct(written.stat().st_mode & 0o777) == "0o600"


async def test_an_attempt_without_private_files_never_says_they_are_gone(threaded, spec_for):
    """The dask worker runs attempts with no private files: its $PSR_OUTPUT is the engine's to
    read all the same (an empty tuple must not read as "all removed")."""
    result = await threaded.run(spec_for("true"))
    assert result.exit_code == 0 and not result.private_files_gone


async def test_quick_children_in_parallel_each_get_their_own_ending(threaded, spec_for, tmp_path):
    specs = [
        spec_for("bash", "-c", f"echo {i}; exit {i}", log_path=str(tmp_path / f"{i}.log"))
        for i in range(8)
    ]
    results: dict[int, int] = {}

    async def one(i: int) -> None:
        results[i] = (await threaded.run(specs[i])).exit_code

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)
    assert results == {i: i for i in range(8)}
    assert [(tmp_path / f"{i}.log").read_text() for i in range(8)] == [f"{i}\n" for i in range(8)]


async def test_a_timeout_counts_from_the_spawn_not_from_the_hand_over(threaded, spec_for):
    timeout = LINGER_MS / 1000 * 40
    result = await threaded.run(spec_for("sleep", "30", timeout=timeout, kill_grace=0.2))
    assert result.timed_out
    assert timeout <= result.duration < timeout + 2.0


async def test_a_cancellation_during_the_wait_is_delivered_with_the_attempt_charged(
    threaded, spec_for, procs
):
    """The child ends (and is reaped) while the run is cancelled: the cancellation still goes
    on, after on_cancelled has been given what the attempt cost, as _supervise does."""
    charged = []
    spec = spec_for("true", on_cancelled=charged.append)
    finished = []

    async def attempt() -> None:
        finished.append(await threaded.run(spec))

    async with anyio.create_task_group() as tg:
        tg.start_soon(attempt)
        await anyio.sleep(0)  # the spawn is handed to a thread
        tg.cancel_scope.cancel()
    assert finished == []
    assert len(charged) == 1 and charged[0].pid > 0
    assert procs.is_reaped(charged[0].pid)


async def test_a_child_reaped_by_its_thread_is_not_announced_to_on_start(threaded, spec_for, procs):
    """Its pid is free once reaped: a watchdog registered with it could later kill another
    process's group. A slower child, still running when handed over, is announced."""
    started: list[int] = []
    quick = await threaded.run(spec_for("true", on_start=started.append))
    assert procs.is_reaped(quick.pid)
    assert started == []
    slow = await threaded.run(
        spec_for("sleep", str(LINGER_MS / 1000 * 20), on_start=started.append)
    )
    assert started == [slow.pid]
