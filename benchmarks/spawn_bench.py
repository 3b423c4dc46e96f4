"""How close the local executor gets to the floor cost of spawning a process.

N no-op processes (`true`) at parallelism 2, each writing to its own log file, by:
  (a) a ThreadPoolExecutor(2) calling subprocess.run(["true"], stdout=file)   -- the floor
  (b) asyncio.create_subprocess_exec under a Semaphore(2)
  (c) LocalExecutor under anyio with a CapacityLimiter(2) (default: spawns on the event loop
      while they are quick there, from worker threads while they are not: spawn_placement.py)
and, for information, the executor's other paths:
  (c1) adaptive=False: spawns that overlap another always from worker threads
  (c2) spawn_in_thread=False: os.posix_spawn on the event loop
  (c3) output through the pipe and a filter
Rounds are interleaved; each figure is the median over rounds. Target: (c) <= 1.2 x (a).
--busy N runs N CPU-bound processes beside it all along (a busy machine: the placement then
spawns from threads; compare (c) with (c1)).
Besides wall time, CPU time per spawn (this process + its children, from getrusage) is shown:
on a shared machine it is the steadier figure, as wall time then mostly measures the queue for
a CPU, and a single-threaded event loop gets half the share of two threads under contention.

    .venv/bin/python benchmarks/spawn_bench.py [-n 1000] [--rounds 3] [--busy N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio

from psr_engine.executors import ProcessSpec
from psr_engine.executors.local import LocalExecutor

PARALLEL = 2
TRUE = shutil.which("true") or "/bin/true"


def threads_subprocess_run(n: int, logs: Path) -> None:
    def one(i: int) -> None:
        with open(logs / f"a-{i}.log", "wb") as log:
            subprocess.run([TRUE], stdout=log, stderr=subprocess.STDOUT, check=True)

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, range(n)))


def asyncio_subprocess(n: int, logs: Path) -> None:
    async def main() -> None:
        gate = asyncio.Semaphore(PARALLEL)

        async def one(i: int) -> None:
            async with gate:
                with open(logs / f"b-{i}.log", "wb") as log:
                    proc = await asyncio.create_subprocess_exec(
                        TRUE, stdout=log, stderr=subprocess.STDOUT
                    )
                    await proc.wait()

        await asyncio.gather(*(one(i) for i in range(n)))

    asyncio.run(main())


def local_executor(
    *, spawn_in_thread: bool = True, adaptive: bool = True, **spec_options: object
) -> Callable[[int, Path], None]:
    def bench(n: int, logs: Path) -> None:
        async def main() -> None:
            executor = LocalExecutor(spawn_in_thread=spawn_in_thread, adaptive=adaptive)
            limiter = anyio.CapacityLimiter(PARALLEL)
            env = dict(os.environ)
            workdir = os.getcwd()

            async def one(i: int) -> None:
                async with limiter:
                    spec = ProcessSpec(
                        argv=("true",),
                        env=env,
                        cwd=workdir,
                        log_path=str(logs / f"c-{i}.log"),
                        timeout=600.0,  # tasks usually have one: include its cancel scope
                        **spec_options,  # type: ignore[arg-type]
                    )
                    result = await executor.run(spec)
                    assert result.exit_code == 0, result

            async with anyio.create_task_group() as tg:
                for i in range(n):
                    tg.start_soon(one, i)

        anyio.run(main, backend="asyncio")

    return bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="spawns per variant (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--busy", type=int, default=0, help="CPU-bound processes running beside it (default 0)"
    )
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        wall, cpu = _measure(args.n, args.rounds)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    floor = "(a) threads + subprocess.run"
    wall_floor, cpu_floor = statistics.median(wall[floor]), statistics.median(cpu[floor])
    print(f"{args.n} spawns of `true` at parallelism {PARALLEL}, median of {args.rounds} rounds")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}, {args.busy} CPU-bound processes beside it"
    )
    print(f"  {'':34} {'wall ms/spawn':>14} {'vs (a)':>7} {'cpu ms/spawn':>13} {'vs (a)':>7}")
    for name in wall:
        ms, cpu_ms = statistics.median(wall[name]), statistics.median(cpu[name])
        ratios = f"{ms / wall_floor:6.2f}x {cpu_ms:13.3f} {cpu_ms / cpu_floor:6.2f}x"
        print(f"  {name:34} {ms:14.3f} {ratios}")


def _measure(n: int, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each variant's wall and CPU ms per spawn, one figure per round, rounds interleaved. The
    CPU is this process's and its children's: the CPU-bound processes beside it are not."""
    with tempfile.TemporaryDirectory(prefix="psr-spawn-bench-") as tmp:
        variants: dict[str, Callable[[int, Path], None]] = {
            "(a) threads + subprocess.run": threads_subprocess_run,
            "(b) asyncio subprocess": asyncio_subprocess,
            "(c) LocalExecutor": local_executor(),
            "(c1) LocalExecutor, from threads": local_executor(adaptive=False),
            "(c2) LocalExecutor, spawn on loop": local_executor(spawn_in_thread=False),
            "(c3) LocalExecutor, piped": local_executor(output_filter=lambda line: line),
        }
        wall: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, bench in variants.items():
                logs = Path(tmp) / "logs"
                shutil.rmtree(logs, ignore_errors=True)
                logs.mkdir()
                cpu_start = _cpu_seconds()
                start = time.perf_counter()
                bench(n, logs)
                wall[name].append((time.perf_counter() - start) / n * 1000)
                cpu[name].append((_cpu_seconds() - cpu_start) / n * 1000)
    return wall, cpu


def _cpu_seconds() -> float:
    """CPU time of this process and of its reaped children, user and system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
