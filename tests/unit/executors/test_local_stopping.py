"""LocalExecutor: timeouts, cancellation, kill grace and leftovers reach the whole group."""

from __future__ import annotations

import signal

import anyio
import pytest

pytestmark = pytest.mark.anyio

# Every piped variant must behave like the fast path: the pipe changes where output goes,
# never how the process group is stopped.
PATHS = {
    "fast": {},
    "piped": {"output_filter": lambda line: line},
}


@pytest.fixture(params=list(PATHS))
def output(request: pytest.FixtureRequest) -> dict:
    return PATHS[request.param]


async def test_timeout_kills_the_grandchild_too(run_bash, procs, tmp_path, output):
    script = "sleep 100 & echo $! > grandchild.pid; sleep 100"
    result = await run_bash(script, timeout=1.0, **output)
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert result.timed_out
    assert (result.exit_code, result.signal) == (128 + signal.SIGTERM, signal.SIGTERM)
    assert procs.wait_gone(grandchild)
    assert procs.is_reaped(result.pid)


async def test_no_timeout_when_the_process_ends_in_time(run_bash):
    result = await run_bash("exit 4", timeout=60.0)
    assert (result.exit_code, result.timed_out) == (4, False)


async def test_cancellation_kills_the_group_reaps_and_propagates(run_bash, procs, tmp_path, output):
    script = "echo $$ > leader.pid; sleep 100 & echo $! > grandchild.pid; wait"
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: run_bash(script, **output))
            await procs.wait_for_file(tmp_path / "grandchild.pid")
            scope.cancel()
    assert scope.cancelled_caught  # the run did not swallow the cancellation
    leader = int((tmp_path / "leader.pid").read_text())
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert procs.is_reaped(leader)
    assert not procs.is_running(leader)
    assert procs.wait_gone(grandchild)


async def test_child_that_ignores_term_is_killed_after_the_grace(run_bash, tmp_path, output):
    # The trap proves TERM was delivered first; surviving it, the shell is then KILLed.
    script = 'trap "echo got TERM" TERM; while :; do sleep 0.05; done'
    result = await run_bash(script, timeout=1.0, kill_grace=0.5, **output)
    assert result.timed_out
    assert (result.exit_code, result.signal) == (128 + signal.SIGKILL, signal.SIGKILL)
    assert "got TERM" in (tmp_path / "task.log").read_text()


async def test_child_that_exits_on_term_does_not_wait_the_grace(run_bash):
    # A grace of an hour: waiting it would hit the fail_after and fail the test.
    with anyio.fail_after(60):
        result = await run_bash("sleep 100", timeout=0.5, kill_grace=3600.0)
    assert (result.timed_out, result.signal) == (True, signal.SIGTERM)


async def test_cancellation_during_the_grace_still_kills(run_bash, procs, tmp_path):
    script = 'echo $$ > leader.pid; trap "" TERM; sleep 100'
    with anyio.move_on_after(1.0):
        await run_bash(script, kill_grace=0.5)
    leader = int((tmp_path / "leader.pid").read_text())
    assert procs.is_reaped(leader)
    assert not procs.is_running(leader)


async def test_leftover_background_processes_are_killed(run_bash, procs, tmp_path, output):
    result = await run_bash("sleep 100 & echo $! > leftover.pid; echo done", **output)
    leftover = int((tmp_path / "leftover.pid").read_text())
    assert result.exit_code == 0
    assert procs.wait_gone(leftover)
    assert (tmp_path / "task.log").read_text() == "done\n"
