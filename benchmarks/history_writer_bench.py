"""The history writer's own CPU: W1's events (N quick tasks at concurrency 2) written into a
fresh runs.db in the batches the writer thread takes, without the engine around it.

    PYTHONPATH=engine .venv/bin/python benchmarks/history_writer_bench.py [-n 1000] [--runs 15]
        [--batch 60] [--vs OTHER_ENGINE_FOLDER]

The events are what the scheduler emits for a `run: "true"` task (task.started with its log
path, task.finished with its usage), two tasks running at a time, cut into batches of
`--batch` events (a real W1 run's writer takes about 60 at a time at the 50 ms window). Each
run is a fresh process and database; the figure is the thread CPU of `HistorySink._write`
over all batches, `run.started` (the run's row and its N pending task rows) shown apart.
`--vs FOLDER` runs the same in alternation with another checkout's engine folder (e.g. one
made by `git worktree add`), so both are measured side by side on a machine whose speed drifts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ONE_RUN = r"""
import os, sys, tempfile, time
from psr_engine.events.model import Event
from psr_engine.events.sinks.history import HistorySink
from psr_engine.store import TaskDigest

n, size = int(sys.argv[1]), int(sys.argv[2])
run, ts = "20260101-000000-bench", 1_800_000_000.0
folder = f"/state/runs/{run}"
events = []
for i in range(n + 1):  # task i starts as task i - 2 ends: two at a time
    if i < n:
        events.append(Event("task.started", run, "bench", ts=ts + i, task=f"t{i}", attempt=1,
                            status="running", log_path=f"{folder}/t{i}.1.log"))
    if i >= 1:
        j = i - 1
        events.append(Event("task.finished", run, "bench", ts=ts + i + 0.5, task=f"t{j}",
                            attempt=1, status="succeeded", exit_code=0, duration_s=0.003,
                            attempt_duration_s=0.003, cpu_user_s=0.001, cpu_sys_s=0.001,
                            max_rss_bytes=4096, log_path=f"{folder}/t{j}.1.log"))
started = Event("run.started", run, "bench", ts=ts, data={"runDir": folder})
finished = Event("run.finished", run, "bench", ts=ts + n + 1, status="succeeded",
                 data={"counts": {"succeeded": n}})
batches = [events[k:k + size] for k in range(0, len(events), size)]
batches[-1].append(finished)
tasks = [TaskDigest(f"t{i}", f"t{i}", "0" * 32) for i in range(n)]
with tempfile.TemporaryDirectory() as tmp:
    sink = HistorySink(os.path.join(tmp, "runs.db"), tasks=tasks)
    begin = time.thread_time()
    sink._write([started])
    middle = time.thread_time()
    for batch in batches:
        sink._write(batch)
    end = time.thread_time()
    sink._store.close()
print(middle - begin, end - middle)
"""


def one_run(engine: str, n: int, size: int) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": engine}
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(n), str(size)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="tasks (default 1000)")
    parser.add_argument("--runs", type=int, default=15, help="runs per engine (default 15)")
    parser.add_argument("--batch", type=int, default=60, help="events per batch (default 60)")
    parser.add_argument("--vs", help="another checkout's engine folder, run in alternation")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent.parent / "engine")
    engines = {"this": os.environ.get("PYTHONPATH") or here}
    if args.vs:
        engines["vs"] = args.vs
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    for number in range(args.runs):
        names = list(engines) if number % 2 == 0 else list(engines)[::-1]
        for name in names:
            figures[name].append(one_run(engines[name], args.n, args.batch))
    events = 2 * args.n + 2
    for name, rows in figures.items():
        begin = statistics.median(r[0] for r in rows) * 1000
        tasks = statistics.median(r[1] for r in rows) * 1000
        print(
            f"{name} ({engines[name]}): {events} events in batches of {args.batch}: "
            f"{tasks:.1f} ms thread CPU ({tasks / args.n * 1000:.1f} us a task), "
            f"run.started {begin:.1f} ms (medians of {len(rows)} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
