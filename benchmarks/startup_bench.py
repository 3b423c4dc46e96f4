"""Start-up of the everyday commands (issue 15): `psr-engine --version` and `psr-engine validate`
of manifests/examples/daily-etl.yaml, as a user runs them (the console script), against
`python -c pass` in the same interleaved rounds. Targets: --version under 30 ms, validate under
120 ms (wall, median, on a quiet 2-core machine with .pyc files present).

CPU time (user+sys of the child, from getrusage) is shown beside wall time: on a shared
machine it is the steadier figure. With `--before DIR` (the `engine/` folder's parent of
another commit, e.g. `git worktree add --detach /tmp/before <commit>`), that tree is timed in
the same rounds, and the ratios printed. Each tree runs with its own engine on PYTHONPATH;
compile first (`python -m compileall -q engine`) so that both load .pyc files.

    .venv/bin/python benchmarks/startup_bench.py [--rounds 15] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "manifests/examples/daily-etl.yaml"


def _commands(trees: dict[str, Path]) -> dict[str, tuple[list[str], dict[str, str]]]:
    script = str(Path(sys.executable).with_name("psr-engine"))
    launcher = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "psr_engine"]
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {"python -c pass": ([sys.executable, "-c", "pass"], base)}
    for label, tree in trees.items():
        env = {**base, "PYTHONPATH": str(tree / "engine")}
        commands[f"{label} --version"] = ([*launcher, "--version"], env)
        commands[f"{label} validate"] = ([*launcher, "validate", MANIFEST], env)
    return commands


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU ms, wall ms) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu * 1000, wall * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description="start-up of --version and validate")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another tree, timed in the same rounds")
    args = parser.parse_args()
    trees = {"before": args.before.resolve()} if args.before else {}
    trees["this tree"] = ROOT
    commands = _commands(trees)
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.rounds + 1):
        for name, (argv, env) in commands.items():
            spent, took = _time(argv, env)
            if round_:  # the first round warms caches (and the kept compiled schema)
                cpu[name].append(spent)
                wall[name].append(took)
    print(f"{args.rounds} interleaved rounds; load {os.getloadavg()[0]:.1f}; ms")
    print(f"{'':22s} {'CPU med':>8s} {'CPU min':>8s} {'wall med':>9s} {'wall min':>9s}")
    for name in commands:
        print(
            f"{name:22s} {statistics.median(cpu[name]):8.1f} {min(cpu[name]):8.1f} "
            f"{statistics.median(wall[name]):9.1f} {min(wall[name]):9.1f}"
        )
    if args.before:
        for what in ("--version", "validate"):
            old, new = f"before {what}", f"this tree {what}"
            ratio = statistics.median(cpu[new]) / statistics.median(cpu[old])
            walls = statistics.median(wall[new]) / statistics.median(wall[old])
            print(f"{what}: this tree / before, CPU median {ratio:.2f}, wall median {walls:.2f}")


if __name__ == "__main__":
    main()
