"""The audit and provenance sinks' own cost for a W1-sized run, without the noise of spawning
1,000 processes: a plan of N no-op tasks, its run's events fed to the two sinks as the engine
would (run.started, task.started and task.finished per task, run.finished), timed in CPU
(every thread of this process) and wall time, median of --repeat.

    python benchmarks/provenance_bench.py [--tasks 1000] [--repeat 10]

`exec_bench.py --provenance` measures the same end to end (W1 on and off, in pairs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from psr_engine import api
from psr_engine.events.model import Event
from psr_engine.plan.model import Plan
from workloads import manifest


async def one_run(plan: Plan) -> tuple[float, float]:
    sinks = api.provenance_sinks(plan)
    cpu, wall = time.process_time(), time.perf_counter()
    for sink in sinks:
        await sink.start()
    run_id = f"bench-{time.time_ns()}"
    events = [Event("run.started", run_id, plan.workflow, data={"params": {}})]
    for task in plan.tasks:
        events.append(Event("task.started", run_id, plan.workflow, task=task.id))
        events.append(
            Event("task.finished", run_id, plan.workflow, task=task.id, status="succeeded")
        )
    events.append(Event("run.finished", run_id, plan.workflow, status="succeeded"))
    for event in events:
        for sink in sinks:
            sink.emit(event)
    for sink in sinks:
        await sink.aclose()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workflow.yaml"
        path.write_text(manifest(args.tasks))
        plan = api.make_plan(str(path))
        anyio.run(one_run, plan)  # warm: imports, first file creation
        results = [anyio.run(one_run, plan) for _ in range(args.repeat)]
    cpu = statistics.median(r[0] for r in results) * 1000
    wall = statistics.median(r[1] for r in results) * 1000
    print(
        f"audit + provenance sinks, {args.tasks} tasks: {cpu:.1f} ms CPU, {wall:.1f} ms wall "
        f"(median of {args.repeat}; the wall time includes the audit entry's fsync, which a "
        "real run overlaps with its tasks)"
    )


if __name__ == "__main__":
    main()
