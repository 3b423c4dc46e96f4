"""Per-task cost of `psr-engine apply` against plain-Python loops, doit and make -j2 spawning the
same processes.

Workloads (each a fresh process, timed as a whole, median of --repeat runs):
  S1  one `run: "true"` task                 (start-up; beside it, the runtime floor: python
      with asyncio and anyio, awaiting one spawned `true`, the part no engine on it avoids)
  W1  1,000 independent `true` tasks, concurrency 2
  W2  a chain of 300 `true` tasks
  W3  5,000 independent `true` tasks, concurrency 2
The engine runs `true` as `bash -eo pipefail -c true` with stdout/stderr to a log file per
attempt; the baselines spawn exactly that, also into one file per spawn, each run's in a new
folder as the engine's are (--reused-logs: the same files rewritten every run, which creates
no file after the warm-up; on this project's VM a new file costs 25 to 850 us of CPU, and the
plain thread loop took 1.29-1.37x the wall time with new files, see docs/features/running.md):
  threads  a pool of 2 threads calling subprocess.run (the fastest plain loop here)
  asyncio  asyncio.create_subprocess_exec under a Semaphore(2)
and the peers, each as its users run it:
  doit     `doit -n 2 -P thread` of a dodo.py whose tasks' action is that argv (no shell);
           doit captures the output through pipes, keeps its dependency db in a file
  make     `make -j2` of a Makefile whose recipes are `bash -eo pipefail -c true` (make execs
           such a recipe directly, without /bin/sh); make writes no log files
All five peers of a workload run interleaved, round after round (the one going first rotates),
so every ratio compares runs made side by side on a machine whose speed drifts.
Marginal cost per task = (T(W) - T(S1)) / (tasks - 1). Printed: ms per task and the ratio of
the engine's to each peer's. The engine's plan cache is warmed first (an untimed run), as it is
for any repeated `apply` of an unchanged manifest; doit and make are warmed the same way.

    python benchmarks/exec_bench.py [--quick] [--repeat N] [--history] [--trace]
                                    [--provenance] [--pairs N] [--only S1,W1] [--dask N]
                                    [--reused-logs]
doit comes with the `bench` extra (`pip install -e '.[bench]'`); without it, that column is
left out.

--dask N: the Dask rows instead: a `dask scheduler` and two one-thread `dask worker` processes
(started as tests/support/dask_cluster.py starts them), D1 (one task) and DN (N independent
tasks) run by the engine's dask executor (default: no shared filesystem; and
sharedFilesystem: true) and by a plain loop, `client.submit(subprocess.run, ARGV)` for each
task then `client.gather`, in a fresh process on the same cluster, interleaved. The engine's
`concurrency` is N there: like the loop, it has every ready task submitted, and the workers'
two threads bound how many run. Marginal cost
per task = (T(DN) - T(D1)) / (N - 1), with the ratio engine / plain loop.

--history, --trace and --provenance compare W1 with the feature on and off in alternating pairs
of runs (the one going first alternates too) and report the median of the pairs' on/off ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workloads import manifest

ARGV = ["bash", "-eo", "pipefail", "-c", "true"]

THREADS = """
import subprocess, sys, os, time
from concurrent.futures import ThreadPoolExecutor
n, chain, out = int(sys.argv[1]), sys.argv[2] == "chain", sys.argv[3]
if sys.argv[4:] != ["reuse"]:  # a folder of new files per run, as the engine's run folder
    out = os.path.join(out, f"{os.getpid()}-{time.time_ns()}")
    os.mkdir(out)
def one(i):
    with open(os.path.join(out, f"{i}.log"), "wb") as log:
        subprocess.run(ARGV, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
if chain:
    for i in range(n): one(i)
else:
    with ThreadPoolExecutor(2) as pool: list(pool.map(one, range(n)))
"""

ASYNCIO = """
import asyncio, sys, os, time
n, chain, out = int(sys.argv[1]), sys.argv[2] == "chain", sys.argv[3]
if sys.argv[4:] != ["reuse"]:
    out = os.path.join(out, f"{os.getpid()}-{time.time_ns()}")
    os.mkdir(out)
async def one(i, sem):
    async with sem:
        with open(os.path.join(out, f"{i}.log"), "wb") as log:
            proc = await asyncio.create_subprocess_exec(*ARGV, stdout=log, stderr=log,
                                                        stdin=asyncio.subprocess.DEVNULL)
            await proc.wait()
async def main():
    sem = asyncio.Semaphore(1 if chain else 2)
    if chain:
        for i in range(n): await one(i, sem)
    else:
        await asyncio.gather(*(one(i, sem) for i in range(n)))
asyncio.run(main())
"""


# S1 only, not a peer: the interpreter with asyncio and anyio imported, spawning and awaiting
# one `true`. Every engine on this runtime pays it before any work of its own, so S1 minus this
# is what the engine's own code costs a start.
FLOOR = """
import anyio
async def main():
    process = await anyio.open_process(["true"])
    await process.wait()
anyio.run(main)
"""

LAST_CPU = [0.0]  # CPU seconds (user + system) of the latest timed() command and its children


DASK_LOOP = """
import subprocess, sys
from distributed import Client
n, address = int(sys.argv[1]), sys.argv[2]
with Client(address) as client:
    futures = [client.submit(subprocess.run, ARGV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, pure=False) for _ in range(n)]
    assert all(r.returncode == 0 for r in client.gather(futures))
"""


def dask_rows(n: int, repeat: int) -> None:
    """The Dask rows: our executor vs a plain client.submit loop on the same cluster."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
    from dask_cluster import DaskCluster

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with DaskCluster.start(root / "cluster", workers=2) as cluster:
            rows: dict[str, dict[str, float]] = {}
            cpu: dict[str, dict[str, float]] = {}
            for name, count in (("D1", 1), (f"D{n}", n)):
                argvs: dict[str, tuple[list[str], str]] = {}
                for label, extra in (("engine", ""), ("engine-shared", ", sharedFilesystem: true")):
                    folder = root / f"{name}-{label}"
                    folder.mkdir()
                    # In flight: every ready task, as the plain loop submits them all at once;
                    # the cluster's two worker threads are what bounds how many run.
                    text = manifest(count).replace("concurrency: 2", f"concurrency: {count}")
                    text = text.replace(
                        "spec:\n",
                        f'spec:\n  executor: {{type: dask, address: "{cluster.address}"{extra}}}\n',
                    )
                    (folder / "workflow.yaml").write_text(text)
                    argvs[label] = (
                        [sys.executable, "-m", "psr_engine", "apply", "-q"],
                        str(folder),
                    )
                program = f"ARGV = {ARGV!r}\n" + DASK_LOOP
                argvs["submit"] = (
                    [sys.executable, "-c", program, str(count), cluster.address],
                    tmp,
                )
                for argv, cwd in argvs.values():
                    timed(argv, cwd)  # warm: plan caches, the workers' imports
                groups = {p.pid for p in cluster.processes}
                times: dict[str, list[float]] = {label: [] for label in argvs}
                spent: dict[str, list[float]] = {label: [] for label in argvs}
                labels = list(argvs)
                for round_ in range(repeat):
                    shift = round_ % len(labels)
                    for label in labels[shift:] + labels[:shift]:
                        before = _cluster_cpu(groups)
                        times[label].append(timed(*argvs[label]))
                        spent[label].append(_cluster_cpu(groups) - before)
                rows[name] = {p: statistics.median(v) for p, v in times.items()}
                cpu[name] = {p: statistics.median(v) for p, v in spent.items()}
            peers = list(rows["D1"])
            print(f"{'':6} " + " ".join(f"{p:>14}" for p in peers) + f"   (s, median of {repeat})")
            for name in rows:
                print(f"{name:6} " + " ".join(f"{rows[name][p]:14.3f}" for p in peers))
            big = f"D{n}"
            m = {p: (rows[big][p] - rows["D1"][p]) / (n - 1) * 1000 for p in peers}
            print(
                "marginal ms/task: "
                + ", ".join(f"{p} {m[p]:.2f}" for p in peers)
                + "\n  "
                + ", ".join(f"{p}/submit {m[p] / m['submit']:.2f}x" for p in peers if p != "submit")
            )
            c = {p: (cpu[big][p] - cpu["D1"][p]) / (n - 1) * 1000 for p in peers}
            print(
                "cluster CPU ms/task (scheduler, nannies, workers, their reaped tasks): "
                + ", ".join(f"{p} {c[p]:.2f}" for p in peers)
            )


def _cluster_cpu(groups: set[int]) -> float:
    """CPU seconds so far of every process in the cluster's process groups, with the children
    they reaped (the tasks)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # pgrp
            ticks += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str], cwd: str, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run of `argv`; its CPU seconds are left in LAST_CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        argv,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall


DODO = """
ARGV = {argv!r}
N, CHAIN = {n}, {chain}
def task_bench():
    for i in range(N):
        yield {{"basename": f"t{{i}}", "actions": [ARGV], "verbosity": 0,
               "task_dep": [f"t{{i - 1}}"] if CHAIN and i else []}}
"""


def doit_available() -> bool:
    try:
        import doit  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(
    root: Path, name: str, n: int, chain: bool, *, reuse_logs: bool = False
) -> dict[str, tuple[list[str], str]]:
    """Each peer's command line and working folder for one workload, warmed once (untimed).
    The plain loops write each run's logs into a folder of new files, as the engine writes
    each run's into a new run folder (`reuse_logs`: over the same files every run, as before
    December 2026, when a run past the warm-up created no file at all)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "workflow.yaml").write_text(manifest(n, chain))
    argvs: dict[str, tuple[list[str], str]] = {}
    for label, code in (("threads", THREADS), ("asyncio", ASYNCIO)):
        out = folder / f"{label}-logs"
        out.mkdir()
        program = f"ARGV = {ARGV!r}\n" + code
        argvs[label] = (
            [sys.executable, "-c", program, str(n), "chain" if chain else "set", str(out)]
            + (["reuse"] if reuse_logs else []),
            str(root),
        )
    argvs["engine"] = ([sys.executable, "-m", "psr_engine", "apply", "-q"], str(folder))
    if n == 1:
        argvs["floor"] = ([sys.executable, "-c", FLOOR], str(folder))
    if doit_available():
        (folder / "dodo.py").write_text(DODO.format(argv=ARGV, n=n, chain=chain))
        argvs["doit"] = (
            [
                sys.executable,
                "-m",
                "doit",
                "-f",
                "dodo.py",
                "--db-file",
                ".doit.db",
                "-n",
                "2",
                "-P",
                "thread",
            ],
            str(folder),
        )
    recipe = " ".join(ARGV)
    targets = [f"t{i}" for i in range(n)]
    rules = [f".PHONY: all {' '.join(targets)}", f"all: {' '.join(targets)}"]
    for i, target in enumerate(targets):
        need = f"t{i - 1}" if chain and i else ""
        rules.append(f"{target}: {need}\n\t@{recipe}")
    (folder / "Makefile").write_text("\n".join(rules) + "\n")
    argvs["make"] = (["make", "-s", "-j2", "-f", "Makefile"], str(folder))
    for argv, cwd in argvs.values():
        timed(argv, cwd)  # warms the plan cache, doit's db, the page cache
    return argvs


def interleaved(
    argvs: dict[str, tuple[list[str], str]], repeat: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """`repeat` runs of each peer, run round after round, the first rotating: (wall seconds,
    CPU seconds) of each run, by peer."""
    times: dict[str, list[float]] = {label: [] for label in argvs}
    cpus: dict[str, list[float]] = {label: [] for label in argvs}
    labels = list(argvs)
    for round_ in range(repeat):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            times[label].append(timed(*argvs[label]))
            cpus[label].append(LAST_CPU[0])
    return times, cpus


def noise(values: list[float]) -> float:
    """The spread of one peer's runs, (max - min) / median, in percent."""
    return (max(values) - min(values)) / statistics.median(values) * 100


def _otlp_receiver() -> str:
    """A local OTLP/HTTP endpoint that accepts every export (trace_bench's), for the process's
    lifetime: tracing is measured against a live collector, not a dead port."""
    import atexit

    sys.path.insert(0, str(Path(__file__).parent))
    from trace_bench import RECEIVER

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True, env=env
    )
    atexit.register(receiver.kill)
    assert receiver.stdout is not None
    return f"http://127.0.0.1:{receiver.stdout.readline().strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="W1 with 300 tasks, no W3")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--history",
        action="store_true",
        help="also W1 with the run-history sink off (PSR_HISTORY=0) vs on",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also W1 with tracing on (OTLP to a local receiver) vs off",
    )
    parser.add_argument(
        "--provenance",
        action="store_true",
        help="also W1 with provenance and the audit trail on (the default) vs off "
        "(PSR_PROVENANCE=0)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=20,
        help="on/off pairs for --history, --trace and --provenance (default 20)",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="S1,W1,...",
        help="run only these workloads (S1 is always run: marginal costs need it)",
    )
    parser.add_argument(
        "--reused-logs",
        action="store_true",
        help="the plain loops rewrite the same log files every run (the yardstick of the "
        "figures before December 2026) rather than creating new ones as the engine does",
    )
    parser.add_argument(
        "--dask",
        type=int,
        default=0,
        metavar="N",
        help="the Dask rows instead (N tasks): our executor vs a plain client.submit loop",
    )
    args = parser.parse_args()
    if args.dask:
        dask_rows(args.dask, args.repeat)
        return
    w1 = 300 if args.quick else 1000
    workloads = [("S1", 1, False), ("W1", w1, False), ("W2", 300, True)]
    if not args.quick:
        workloads.append(("W3", 5000, False))
    if args.only:
        wanted = {"S1", *args.only.split(",")}
        workloads = [w for w in workloads if w[0] in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows: dict[str, dict[str, float]] = {}
        spreads: dict[str, dict[str, float]] = {}
        cpu_rows: dict[str, dict[str, float]] = {}
        for name, n, chain in workloads:
            times, cpus = interleaved(
                prepare(root, name, n, chain, reuse_logs=args.reused_logs), args.repeat
            )
            rows[name] = {p: statistics.median(values) for p, values in times.items()}
            cpu_rows[name] = {p: statistics.median(values) for p, values in cpus.items()}
            spreads[name] = {p: noise(values) for p, values in times.items()}
        floor = (rows["S1"].pop("floor"), cpu_rows["S1"].pop("floor"), spreads["S1"].pop("floor"))
        peers = list(rows["S1"])
        print(
            f"{'':4} {'tasks':>6} "
            + " ".join(f"{p:>9}" for p in peers)
            + f"   (seconds, median of {args.repeat}, interleaved)"
        )
        for name, n, _ in workloads:
            print(f"{name:4} {n:>6} " + " ".join(f"{rows[name][p]:9.3f}" for p in peers))
        print(
            "noise, (max - min) / median: "
            + "; ".join(
                f"{name} " + " ".join(f"{spreads[name][p]:.0f}%" for p in peers)
                for name, _, _ in workloads
            )
        )
        s1 = rows["S1"]
        print(
            "\nstart-up (S1): "
            + ", ".join(f"{p} {s1[p] * 1000:.0f} ms" for p in peers)
            + "\n  engine/"
            + ", engine/".join(f"{p} {s1['engine'] / s1[p]:.2f}x" for p in peers if p != "engine")
        )
        others = [p for p in peers if p != "engine"]
        print(
            f"\n{'marginal ms/task':17} "
            + " ".join(f"{p:>8}" for p in peers)
            + "  "
            + " ".join(f"{'/' + p:>9}" for p in others)
            + "  (engine / peer)"
        )
        marginal = {}
        for name, n, _ in workloads[1:]:
            m = {k: (rows[name][k] - rows["S1"][k]) / (n - 1) * 1000 for k in rows[name]}
            marginal[name] = m
            print(
                f"{name:17} "
                + " ".join(f"{m[p]:8.3f}" for p in peers)
                + "  "
                + " ".join(f"{m['engine'] / m[p]:8.2f}x" for p in others)
            )
        # CPU (user + system of the command and its children): on a shared machine the steadier
        # figure, since wall time then mostly measures the queue for a CPU.
        print(f"\n{'marginal CPU ms/task':20} " + " ".join(f"{p:>8}" for p in peers))
        for name, n, _ in workloads[1:]:
            c = {k: (cpu_rows[name][k] - cpu_rows["S1"][k]) / (n - 1) * 1000 for k in peers}
            print(
                f"{name:20} "
                + " ".join(f"{c[p]:8.3f}" for p in peers)
                + "  "
                + " ".join(f"{c['engine'] / c[p]:8.2f}x" for p in others)
            )
        print("S1 CPU ms: " + ", ".join(f"{p} {cpu_rows['S1'][p] * 1000:.0f}" for p in peers))
        print(
            f"S1 runtime floor (python + asyncio + anyio, one `true` awaited): "
            f"{floor[0] * 1000:.0f} ms wall, {floor[1] * 1000:.0f} ms CPU (noise {floor[2]:.0f}%); "
            f"the engine's own start: {(rows['S1']['engine'] - floor[0]) * 1000:.0f} ms wall, "
            f"{(cpu_rows['S1']['engine'] - floor[1]) * 1000:.0f} ms CPU"
        )
        if "W3" in marginal and "W1" in marginal:
            ratio = marginal["W3"]["engine"] / marginal["W1"]["engine"]
            print(f"\nW3 per-task cost / W1 per-task cost (engine): {ratio:.2f}")
        endpoint = _otlp_receiver() if args.trace else ""
        for flag, label, on_env, extra, off_env in (
            (args.history, "history", {}, "", {"PSR_HISTORY": "0"}),
            (args.provenance, "provenance", {}, "", {"PSR_PROVENANCE": "0"}),
            (
                args.trace,
                "tracing",
                {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
                "tracing: {enabled: true}",
                {},
            ),
        ):
            if flag:
                report_paired(root, label, w1, args.pairs, on_env, extra, off_env)


def report_paired(
    root: Path,
    label: str,
    n: int,
    pairs: int,
    on_env: dict[str, str],
    extra: str,
    off_env: dict[str, str],
) -> None:
    """W1 with `label` on and off, in alternating pairs (which goes first alternates too):
    the VM's speed drifts by up to 30% within minutes, so only runs made side by side are
    compared. The overhead is the median of the pairs' on/off ratios."""
    on_dir, off_dir = root / f"W1-{label}-on", root / f"W1-{label}-off"
    for folder, text in ((on_dir, manifest(n, extra=extra)), (off_dir, manifest(n))):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "workflow.yaml").write_text(text)
    argv = [sys.executable, "-m", "psr_engine", "apply", "-q"]
    timed(argv, str(on_dir), on_env)  # warm both plan caches
    timed(argv, str(off_dir), off_env)
    ons: list[float] = []
    offs: list[float] = []
    ratios: list[float] = []
    cpu: dict[Path, list[float]] = {on_dir: [], off_dir: []}
    cpu_ratios: list[float] = []
    for i in range(pairs):
        order = [(on_dir, on_env, ons), (off_dir, off_env, offs)]
        for folder, env, into in order if i % 2 else order[::-1]:
            into.append(timed(argv, str(folder), env))
            cpu[folder].append(LAST_CPU[0])
        ratios.append(ons[-1] / offs[-1])
        cpu_ratios.append(cpu[on_dir][-1] / cpu[off_dir][-1])
    median = statistics.median
    spread = ", ".join(f"{(r - 1) * 100:+.1f}" for r in sorted(ratios))
    print(
        f"\nW1 with {label} {median(ons):.3f}s, without {median(offs):.3f}s (medians of "
        f"{pairs} alternating pairs): {(median(ratios) - 1) * 100:+.1f}% wall time "
        f"(median of the pairs' ratios; each pair, sorted: {spread}); "
        f"CPU {median(cpu[on_dir]):.3f}s vs {median(cpu[off_dir]):.3f}s: "
        f"{(median(cpu_ratios) - 1) * 100:+.1f}% (median of the pairs' ratios)"
    )


if __name__ == "__main__":
    main()
