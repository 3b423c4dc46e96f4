"""Validate+plan time and peak memory of psr-engine against a plain YAML parse of the same file.

Three shapes at 100, 1,000 and 10,000 tasks (``--quick``: 100 and 1,000 only):
  chain    t0 <- t1 <- ... each reading its predecessor's output in an expression
  fanout   one root, N-2 leaves that need it, one task that needs every leaf
  matrix   a root, one task with two sqrt(N)-value axes (100x100 at 10,000), and a fan-in

Each measurement runs in a fresh subprocess (so caches start cold and one case's garbage does
not inflate the next), which times the work alone after its imports and reports its peak RSS
(ru_maxrss): the real memory high-water mark of the whole process, interpreter and imports
included, without the slowdown tracemalloc would add to the timed part. psr-engine's one-off
first-call costs (lazy imports, building the schema validator) are measured on a one-task
manifest first and shown apart as "startup"; "psr s" is the case itself.
The baseline is ``yaml.safe_load`` (PyYAML) of the same file, or ruamel's safe loader if PyYAML
is missing. One table on stdout.

    python benchmarks/plan_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (100, 1_000, 10_000)
SHAPES = ("chain", "fanout", "matrix")

HEADER = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: bench}
spec:
  params:
    day: {type: string, default: "2026-11-25"}
  env: {LOG_LEVEL: info}
  defaults:
    timeout: 10m
    resources: {cpu: 1, memory: 64Mi}
  capacity: {cpu: 4, memory: 8Gi}
  concurrency: 4
  tasks:
"""


def manifest_text(shape: str, n: int) -> str:
    lines = [HEADER]
    add = lines.append
    if shape == "chain":
        add('    t0: {run: "echo ${{ params.day }}"}\n')
        for i in range(1, n):
            add(
                f"    t{i}:\n      needs: [t{i - 1}]\n"
                f'      env: {{ROWS: "${{{{ tasks.t{i - 1}.outputs.rows }}}}"}}\n'
                f'      run: "echo step {i}"\n'
            )
    elif shape == "fanout":
        add('    root: {run: "echo ${{ params.day }}"}\n')
        for i in range(n - 2):
            add(f'    leaf{i}: {{needs: [root], run: "echo ${{{{ params.day }}}} {i}"}}\n')
        add("    merge:\n      needs: [" + ", ".join(f"leaf{i}" for i in range(n - 2)) + "]\n")
        add('      run: "echo merged"\n')
    elif shape == "matrix":
        side = round(math.sqrt(n))
        values = ", ".join(str(v) for v in range(side))
        add('    root: {run: "echo ${{ params.day }}"}\n')
        add("    grid:\n      needs: [root]\n")
        add(f"      matrix: {{x: [{values}], y: [{values}]}}\n")
        add('      run: "echo ${{ matrix.x }} ${{ matrix.y }}"\n')
        add('    merge: {needs: [grid], run: "echo merged"}\n')
    else:
        raise ValueError(shape)
    return "".join(lines)


# -- one measurement, in its own process ------------------------------------------------------


def measure(mode: str, path: str) -> dict[str, float]:
    import resource

    if mode == "psr":
        from psr_engine.manifest import load_manifest, resolve_params
        from psr_engine.plan import compile_plan

        def validate_and_plan(target: str) -> int:
            manifest = load_manifest(target)
            params = resolve_params(manifest.params, {}, source=target)
            return len(compile_plan(manifest, params).tasks)

        # The first call pays the one-off costs (imports of ruamel, jsonschema, jinja2 and
        # networkx, building the schema validator): timed apart, as "startup".
        tiny = str(Path(path).with_name("tiny.yaml"))
        Path(tiny).write_text(manifest_text("chain", 1), encoding="utf-8")
        start = time.perf_counter()
        validate_and_plan(tiny)
        startup = time.perf_counter() - start
        start = time.perf_counter()
        instances = validate_and_plan(path)
        seconds = time.perf_counter() - start
    else:
        try:
            import yaml

            start = time.perf_counter()
            with open(path, encoding="utf-8") as handle:
                yaml.safe_load(handle)
        except ImportError:
            from ruamel.yaml import YAML

            start = time.perf_counter()
            with open(path, encoding="utf-8") as handle:
                YAML(typ="safe").load(handle)
        seconds = time.perf_counter() - start
        instances = 0
        startup = 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"seconds": seconds, "peak": peak, "instances": instances, "startup": startup}


def run_case(mode: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", mode, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} on {path} failed:\n{done.stderr}")
    return json.loads(done.stdout)


# -- the table --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 100 and 1,000 tasks")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    sizes = SIZES[:2] if args.quick else SIZES
    columns = ("shape", "tasks", "instances", "yaml s", "psr s", "ratio", "yaml MiB", "psr MiB")
    columns += ("startup s",)
    print(
        f"{columns[0]:<7} {columns[1]:>6} {columns[2]:>9} "
        + " ".join(f"{c:>9}" for c in columns[3:])
    )
    cost: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory(prefix="psr-plan-bench-") as folder:
        for shape in SHAPES:
            for n in sizes:
                path = Path(folder, f"{shape}-{n}.yaml")
                path.write_text(manifest_text(shape, n), encoding="utf-8")
                base = run_case("parse", path)
                psr = run_case("psr", path)
                cost[shape, n] = psr["seconds"]
                print(
                    f"{shape:<7} {n:>6} {int(psr['instances']):>9} "
                    f"{base['seconds']:>9.3f} {psr['seconds']:>9.3f} "
                    f"{psr['seconds'] / base['seconds']:>9.2f} "
                    f"{base['peak'] / 2**20:>9.1f} {psr['peak'] / 2**20:>9.1f} "
                    f"{psr['startup']:>9.3f}",
                    flush=True,
                )
    if not args.quick:
        growth = ", ".join(f"{s} {cost[s, 10_000] / cost[s, 1_000]:.1f}x" for s in SHAPES)
        worst = max(cost[s, 10_000] for s in SHAPES)
        print(
            f"\n10k vs 1k: {growth} (target <= ~12x); slowest 10k case {worst:.2f}s (target < 3s)"
        )


if __name__ == "__main__":
    main()
