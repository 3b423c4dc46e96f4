"""100 `psr-engine apply` of a two-task workflow started at once on one state folder: how long
until every one has ended, and whether every run and task is in the history.

    python benchmarks/crowd_bench.py [-n 100]

The plan cache is warmed first (one untimed apply) and the history is then removed, so its
creation and first migration race too, as in tests/e2e/history/test_concurrency.py. Target:
all recorded, in under 30 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from psr_engine.store import RunStore

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: crowd}
spec:
  tasks:
    a: {run: "echo a"}
    b: {needs: [a], run: "echo b"}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="applies started at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "workflow.yaml").write_text(MANIFEST)
        argv = [sys.executable, "-m", "psr_engine", "apply", "-q"]
        subprocess.run(argv, cwd=folder, check=True, capture_output=True)
        state = folder / ".psr"
        for name in os.listdir(state):
            if name.startswith("runs.db"):
                os.unlink(state / name)
        start = time.perf_counter()
        procs = [
            subprocess.Popen(argv, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(args.n)
        ]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - start
        errors = [p.stderr.read().decode()[-300:] for p in procs if p.stderr is not None]
        for p in procs:
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
        with RunStore.open(str(state)) as store:
            runs = store.runs(limit=None)
            counts = store.task_counts([r.id for r in runs])
        complete = sum(1 for r in runs if counts[r.id] == {"succeeded": 2})
        print(
            f"{args.n} concurrent applies: {wall:.1f} s wall; exit 0: {codes.count(0)}; "
            f"runs recorded: {len(runs)}, with both tasks succeeded: {complete}; "
            f"'locked' in stderr: {sum('locked' in e for e in errors)}"
        )


if __name__ == "__main__":
    main()
