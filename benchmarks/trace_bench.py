"""What tracing costs: W1 (N no-op tasks at concurrency 2) with tracing off and on.

    .venv/bin/python benchmarks/trace_bench.py [-n 1000] [--rounds 7] [--exporter none]

Each round runs the same plan twice with the local executor, `run: "true"` per task: once
without the otel sink, once with it exporting every span over OTLP/HTTP to a receiver on
127.0.0.1 (a separate process that reads and acknowledges each request, as a local collector
would), or with `--exporter none` making the spans and dropping them (the cost without the
export itself). Rounds alternate which goes first; figures are medians, the ratio the
median of each round's on/off ratio.
In one process, the exporter process (see psr_engine/tracing/shipping.py) starts with each
traced run, as a fresh interpreter, so its start-up (~60 ms of CPU loading its libraries)
falls inside the measured run; `psr-engine apply` starts it before compiling the plan, as a
fork of the engine (~10 ms, see psr_engine/tracing/forked_exporter.py). The issue's measure
is therefore exec_bench.py --trace (fresh processes, as users run it); this one isolates the
parts.
CPU time (this process + its children, the exporter process included) is shown too. A second
line uses the fake executor (no processes), which isolates the sink's own cost per task;
there the ratio is large by construction (a fake task costs microseconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from psr_engine.executors.fake import FakeExecutor
from psr_engine.plan.model import Plan
from psr_engine.run.engine import WorkflowEngine
from psr_engine.tracing import OtelSink, resolve_config
from workloads import cpu_seconds, w1_plan

CONCURRENCY = 2
RECEIVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    class H(BaseHTTPRequestHandler):
        spans = 0
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        def log_message(self, *a):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


def one_run(
    plan: Plan, state: Path, endpoint: str | None, *, fake: bool, exporter: str = "otlp"
) -> tuple[float, float]:
    sinks = []
    if endpoint:
        config = resolve_config(
            None,
            workflow=plan.workflow,
            environ={},
            overrides={"endpoint": endpoint, "exporter": exporter},
        )
        sinks.append(OtelSink(plan, config=config))
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
    return wall, cpu


def measure(
    plan: Plan, root: Path, rounds: int, endpoint: str, *, fake: bool, exporter: str
) -> dict[str, float]:
    """Medians over rounds of (off, on) pairs; `ratio` is the median of the pairs' own ratios,
    which cancels most of the drift of a shared machine between rounds."""
    figures: dict[str, list[float]] = {k: [] for k in ("wall0", "cpu0", "wall1", "cpu1", "ratio")}
    for number in range(rounds):
        pair = []
        for traced in (False, True) if number % 2 == 0 else (True, False):
            state = root / f"state-{'fake' if fake else 'local'}-{number}-{int(traced)}"
            wall, cpu = one_run(
                plan, state, endpoint if traced else None, fake=fake, exporter=exporter
            )
            figures[f"wall{int(traced)}"].append(wall)
            figures[f"cpu{int(traced)}"].append(cpu)
            pair.append((traced, wall))
        on = next(w for t, w in pair if t)
        off = next(w for t, w in pair if not t)
        figures["ratio"].append(on / off)
    return {k: statistics.median(v) for k, v in figures.items()}


def report(label: str, n: int, f: dict[str, float]) -> float:
    print(
        f"{label:<28} off {f['wall0']:7.3f}s (cpu {f['cpu0']:6.3f}s)   on {f['wall1']:7.3f}s "
        f"(cpu {f['cpu1']:6.3f}s)   paired ratio {f['ratio']:5.3f}   "
        f"+{(f['wall1'] - f['wall0']) / n * 1e6:6.1f} us/task wall, "
        f"+{(f['cpu1'] - f['cpu0']) / n * 1e6:6.1f} us/task cpu "
        f"({(f['cpu1'] / f['cpu0'] - 1) * 100:+.1f}%)"
    )
    return f["ratio"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="tasks (1000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (7)")
    parser.add_argument(
        "--exporter", choices=("otlp", "none"), default="otlp", help="span exporter (otlp)"
    )
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert receiver.stdout is not None
        endpoint = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory(prefix="psr-trace-bench-") as tmp:
            root = Path(tmp)
            plan = w1_plan(args.n, root)
            print(
                f"W1: {args.n} no-op tasks at concurrency {CONCURRENCY}, {args.rounds} rounds, "
                f"exporter {args.exporter}"
            )
            local = measure(plan, root, args.rounds, endpoint, fake=False, exporter=args.exporter)
            ratio = report("local executor (W1)", args.n, local)
            report(
                "fake executor (sink only)",
                args.n,
                measure(plan, root, args.rounds, endpoint, fake=True, exporter=args.exporter),
            )
    finally:
        receiver.terminate()
        receiver.wait()
    print(
        f"tracing on W1, in one process: {(ratio - 1) * 100:+.1f}% wall time "
        "(the exporter process's start-up included; the 5% target is exec_bench.py --trace's)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
