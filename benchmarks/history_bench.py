"""What the history sink costs: W1 (N no-op tasks at concurrency 2) with and without it.

    .venv/bin/python benchmarks/history_bench.py [-n 1000] [--rounds 3]

Each round runs the same plan twice with the local executor, `run: "true"` per task: once
with no sink, once with the history sink writing runs.db (a fresh state folder each time).
Rounds are interleaved; figures are medians. Target: with/without <= 1.10.
Besides wall time, CPU time (this process + its children, getrusage) is shown: on a shared
machine it is the steadier figure. A third line runs the fake executor (no processes), which
isolates the sink's own cost per task.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from psr_engine.executors.fake import FakeExecutor
from psr_engine.plan.model import Plan
from psr_engine.run.engine import WorkflowEngine
from psr_engine.run.resume import history_sink
from psr_engine.store import RunStore
from workloads import cpu_seconds, w1_plan

CONCURRENCY = 2


def one_run(plan: Plan, state: Path, *, history: bool, fake: bool) -> tuple[float, float]:
    sinks = [history_sink(plan, state_dir=str(state))] if history else []
    engine = WorkflowEngine(
        sinks=sinks,
        state_dir=str(state),
        executor=FakeExecutor() if fake else None,
        concurrency=CONCURRENCY,
    )
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = engine.run_sync(plan)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    assert result.status == "succeeded", result.status
    if history:
        with RunStore.open(str(state)) as store:
            recorded = store.task_counts([result.run_id])[result.run_id]
        assert recorded == {"succeeded": len(plan.tasks)}, recorded
    return wall, cpu


def measure(plan: Plan, root: Path, rounds: int, *, fake: bool) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {k: [] for k in ("wall0", "cpu0", "wall1", "cpu1")}
    for number in range(rounds):
        for history in (False, True):
            state = root / f"state-{'fake' if fake else 'local'}-{number}-{int(history)}"
            wall, cpu = one_run(plan, state, history=history, fake=fake)
            figures[f"wall{int(history)}"].append(wall)
            figures[f"cpu{int(history)}"].append(cpu)
    return {k: [statistics.median(v)] for k, v in figures.items()}


def report(label: str, n: int, figures: dict[str, list[float]]) -> float:
    wall0, cpu0 = figures["wall0"][0], figures["cpu0"][0]
    wall1, cpu1 = figures["wall1"][0], figures["cpu1"][0]
    ratio = wall1 / wall0
    print(
        f"{label:<28} without {wall0:7.3f}s (cpu {cpu0:6.3f}s)   with history "
        f"{wall1:7.3f}s (cpu {cpu1:6.3f}s)   ratio {ratio:5.3f}   "
        f"+{(wall1 - wall0) / n * 1e6:6.1f} us/task wall, +{(cpu1 - cpu0) / n * 1e6:6.1f} "
        "us/task cpu"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="tasks (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="psr-history-bench-") as tmp:
        root = Path(tmp)
        plan = w1_plan(args.n, root)
        print(f"W1: {args.n} no-op tasks at concurrency {CONCURRENCY}, {args.rounds} rounds")
        ratio = report("local executor (W1)", args.n, measure(plan, root, args.rounds, fake=False))
        report("fake executor (sink only)", args.n, measure(plan, root, args.rounds, fake=True))
    verdict = "ok" if ratio <= 1.10 else "OVER the 10% budget"
    print(f"history sink on W1: {(ratio - 1) * 100:+.1f}% ({verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
