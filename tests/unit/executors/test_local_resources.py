"""LocalExecutor: rusage figures, and many concurrent runs without leaking descriptors."""

from __future__ import annotations

import gc
import os
import resource
import sys

import anyio
import pytest

pytestmark = pytest.mark.anyio

MiB = 1 << 20


async def test_cpu_time_is_measured_for_a_busy_child(executor, spec_for):
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    result = await executor.run(spec_for(sys.executable, "-c", burn))
    assert result.exit_code == 0
    assert result.cpu_user + result.cpu_sys >= 0.2
    assert result.duration > 0 and result.started_at > 0


async def test_cpu_time_includes_reaped_grandchildren(run_bash):
    # bash waits for (reaps) its child, so the child's CPU counts in bash's rusage.
    burn = "import time\\nend = time.process_time() + 0.3\\nwhile time.process_time() < end: pass"
    result = await run_bash(f"printf '{burn}' | {sys.executable} -")
    assert result.exit_code == 0
    assert result.cpu_user + result.cpu_sys >= 0.2


async def test_max_rss_grows_for_a_child_allocating_100_mib(executor, spec_for):
    # Linux gives a child at least its parent's peak RSS (exec inherits the high-water mark),
    # so allocate 100 MiB beyond this test process's own peak to see the child's own.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    size = floor + 100 * MiB
    hungry = await executor.run(
        spec_for(
            sys.executable,
            "-c",
            f"block = bytearray({size}); block[::4096] = b'x' * len(block[::4096])",
        )
    )
    assert hungry.exit_code == 0
    assert hungry.max_rss >= size


async def test_200_concurrent_runs_all_end_right_without_leaking_fds(executor, spec_for, tmp_path):
    limiter = anyio.CapacityLimiter(8)
    codes: dict[int, int] = {}
    fds_before = _own_fds()

    async def one(index: int) -> None:
        async with limiter:
            spec = spec_for(
                "sh",
                "-c",
                f"echo task {index}; exit {index % 7}",
                log_path=str(tmp_path / f"task-{index}.log"),
                # every third run takes the pipe path, so both paths share the load
                **({"output_filter": lambda line: line} if index % 3 == 0 else {}),
            )
            codes[index] = (await executor.run(spec)).exit_code

    async with anyio.create_task_group() as tg:
        for index in range(200):
            tg.start_soon(one, index)

    assert codes == {index: index % 7 for index in range(200)}
    for index in (0, 1, 199):
        assert (tmp_path / f"task-{index}.log").read_text() == f"task {index}\n"
    await executor.aclose()  # its keeper's pipe is the one descriptor it keeps while open
    assert _own_fds() == fds_before


@pytest.mark.parametrize("piped", [False, True])
async def test_descriptors_do_not_leak_into_children(executor, spec_for, tmp_path, piped):
    # Only stdin, stdout and stderr (and the fd listing itself) are open in the child.
    probe = "import os; print(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))"
    extra = {"output_filter": lambda line: line} if piped else {}
    spec = spec_for(sys.executable, "-c", probe, **extra)
    await executor.run(spec)
    assert (tmp_path / "task.log").read_text() == "[0, 1, 2, 3]\n"


def _own_fds() -> list[str]:
    """This process's descriptors except sockets: what the executor could leak is a pidfd, a
    pipe or a log file, while servers other tests leave running (a Dask cluster, HTTP stand-ins)
    open and close sockets in their own threads at any time. Garbage from earlier tests (a
    pipe of a process object nobody closed) is collected first, so it is not closed mid-test."""
    gc.collect()
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed between listdir and readlink
        if not target.startswith("socket:"):
            targets.append(target)
    return sorted(targets)


async def test_a_child_below_the_engines_own_peak_reports_no_peak(executor, spec_for):
    # `true` stays far below this test process's peak: the kernel's figure would be ours.
    small = await executor.run(spec_for("true"))
    assert small.exit_code == 0
    assert small.max_rss == 0
