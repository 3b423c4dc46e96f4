"""Secret scanning speed: psr-engine's SecretScanner against detect-secrets on the same tree.

Default tree: this Python's standard library, its test suites left out (as in the unit test).
psr-engine walks the tree itself (honouring ignore files, skipping binaries and files over
1 MB); detect-secrets (all 27 default plugins, its Python API) is handed the list of files
psr-engine read, so its time leaves out a tree walk: the comparison favours detect-secrets.
Both use every core this process may use; psr-engine single-process is shown too.

    python benchmarks/secrets_bench.py [--root PATH] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sysconfig
import time
from pathlib import Path

from psr_engine.gates.secret_walk import iter_files, read_text
from psr_engine.gates.secrets import SecretScanner

STDLIB_EXCLUDES = ["test/", "tests/", "idlelib/idle_test/", "site-packages/", "__pycache__/"]


def run_psr(root: Path, workers: int, exclude: list[str]) -> tuple[float, int, int, int]:
    start = time.perf_counter()
    report = SecretScanner(workers=workers, exclude=exclude).scan_tree(root)
    wall = time.perf_counter() - start
    return wall, report.files_scanned, report.lines_scanned, len(report.findings)


def scanned_files(root: Path, exclude: list[str], max_bytes: int = 1_000_000) -> list[str]:
    """The files SecretScanner reads (ignored, binary and oversized files left out)."""
    files = []
    for path, rel, size in iter_files(root, exclude=exclude):
        if size <= max_bytes and read_text(path, max_bytes=max_bytes)[0] is not None:
            files.append(rel)
    return files


def run_detect_secrets(root: Path, files: list[str], workers: int) -> tuple[float, int]:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    start = time.perf_counter()
    with default_settings():
        collection = SecretsCollection(root=str(root))
        collection.scan_files(*files, num_processors=workers)
    wall = time.perf_counter() - start
    return wall, sum(len(secrets) for _, secrets in collection.data.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    exclude = STDLIB_EXCLUDES if args.root == Path(sysconfig.get_paths()["stdlib"]) else []

    files = scanned_files(args.root, exclude)
    one = run_psr(args.root, 1, exclude)
    many = run_psr(args.root, args.workers, exclude)
    ds_wall, ds_findings = run_detect_secrets(args.root, files, args.workers)

    print(f"tree: {args.root} ({len(files)} text files; {args.workers} workers)")
    print(f"{'scanner':<32}{'files':>8}{'lines':>10}{'findings':>10}{'wall s':>9}")
    print(f"{'psr-engine (1 process)':<32}{one[1]:>8}{one[2]:>10}{one[3]:>10}{one[0]:>9.2f}")
    label = f"psr-engine ({args.workers} processes)"
    print(f"{label:<32}{many[1]:>8}{many[2]:>10}{many[3]:>10}{many[0]:>9.2f}")
    label = f"detect-secrets ({args.workers} processes)"
    print(f"{label:<32}{len(files):>8}{many[2]:>10}{ds_findings:>10}{ds_wall:>9.2f}")
    best = min(one[0], many[0])
    print(f"speed ratio: psr-engine is {ds_wall / best:.1f}x faster than detect-secrets")


if __name__ == "__main__":
    main()
