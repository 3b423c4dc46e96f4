"""psr-engine's secret scan against detect-secrets on a real tree: CPU, memory, findings.

Default tree: this venv's site-packages (code nobody here wrote). Each scanner runs in a child
process of its own (psr-engine: ``SecretScanner.scan_tree``, which walks the tree itself and
spreads big trees over a process pool; detect-secrets: all its default plugins through its
Python API, ``num_processors`` workers, handed the list of files psr-engine reads, so its run
leaves out a tree walk). Per run:

- CPU seconds of the whole process tree: user + system time of the child and of every process
  under it. psutil samples each one every 50 ms and its last-seen time counts (a forkserver's
  pool workers are not the child's children, so ``getrusage(RUSAGE_CHILDREN)`` alone misses
  them); ``RUSAGE_CHILDREN`` is the floor when it says more (a process that lived under 50 ms);
- peak RSS summed over the tree: the same samples' resident sets added up, the highest sum kept
  (a sample can miss a peak shorter than 50 ms);
- the number of findings.

Runs alternate (psr, detect-secrets, psr, detect-secrets, ...) so that load from elsewhere on a
shared machine falls on both; the ratios printed are medians over the pairs.

detect-secrets needs ~20 CPU-minutes for a whole site-packages; ``--sample K`` copies every K-th
file psr-engine would read (in path order, so every kind of file is in it) into a temporary
tree, and both scanners scan that instead.

    python benchmarks/scanners_bench.py [--root PATH] [--workers N] [--repeat PAIRS] [--sample K]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class Run:
    scanner: str
    cpu_s: float
    wall_s: float
    peak_rss_mb: float
    findings: int


# -- the children ------------------------------------------------------------------------------


def child_psr(root: str, workers: int) -> int:
    from psr_engine.gates.secrets import SecretScanner

    return len(SecretScanner(workers=workers).scan_tree(root).findings)


def child_detect_secrets(root: str, workers: int, file_list: str) -> int:
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    files = Path(file_list).read_text(encoding="utf-8").splitlines()
    with default_settings():
        collection = SecretsCollection(root=root)
        collection.scan_files(*files, num_processors=workers)
    return sum(len(secrets) for _, secrets in collection.data.items())


def scanned_files(root: Path) -> list[str]:
    """The files psr-engine reads (ignored, binary and oversized files left out)."""
    from psr_engine.gates.secret_walk import iter_files, read_text

    return [
        rel
        for path, rel, size in iter_files(root)
        if size <= MAX_FILE_BYTES and read_text(path, max_bytes=MAX_FILE_BYTES)[0] is not None
    ]


# -- measuring -----------------------------------------------------------------------------------


def _sample(process, cpu: dict[tuple[int, float], float]) -> int:
    """Record each process's CPU time so far (keyed by pid and start); return the tree's RSS."""
    import psutil

    rss = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                cpu[(proc.pid, proc.create_time())] = times.user + times.system
                rss += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss


def measure(scanner: str, argv: list[str], env: dict[str, str]) -> Run:
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
    process = psutil.Process(child.pid)
    peak = 0
    sampled: dict[tuple[int, float], float] = {}
    while child.poll() is None:
        try:
            peak = max(peak, _sample(process, sampled))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out, _ = child.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        raise SystemExit(f"{scanner} failed with exit code {child.returncode}")
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(sum(sampled.values()), reaped)
    return Run(scanner, cpu, wall, peak / 1e6, int(json.loads(out)["findings"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeat", type=int, default=3, help="alternating pairs (default 3)")
    parser.add_argument(
        "--sample", type=int, default=1, metavar="K", help="scan every K-th file (default 1: all)"
    )
    parser.add_argument("--child", choices=("psr", "detect-secrets"), help=argparse.SUPPRESS)
    parser.add_argument("--file-list", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "psr":
        print(json.dumps({"findings": child_psr(str(args.root), args.workers)}))
        return
    if args.child == "detect-secrets":
        found = child_detect_secrets(str(args.root), args.workers, args.file_list)
        print(json.dumps({"findings": found}))
        return

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both scanners run from compiled .pyc
    files = sorted(scanned_files(args.root))
    root, sample_dir = args.root, None
    if args.sample > 1:
        files = files[:: args.sample]
        root = Path(sample_dir := tempfile.mkdtemp(prefix="scanners-bench-"))
        for rel in files:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.root / rel, root / rel)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(files) + "\n")
    base = [sys.executable, __file__, "--root", str(root), "--workers", str(args.workers)]
    runs: list[tuple[Run, Run]] = []
    try:
        for pair in range(args.repeat):
            ours = measure("psr-engine", [*base, "--child", "psr"], env)
            theirs = measure(
                "detect-secrets",
                [*base, "--child", "detect-secrets", "--file-list", listing.name],
                env,
            )
            runs.append((ours, theirs))
            print(f"pair {pair + 1}: {ours}\n        {theirs}", file=sys.stderr)
    finally:
        os.unlink(listing.name)
        if sample_dir:
            shutil.rmtree(sample_dir)

    size = sum((args.root / rel).stat().st_size for rel in files) / 1e6
    sampled = f"every {args.sample}th file of " if args.sample > 1 else ""
    print(
        f"tree: {sampled}{args.root} ({len(files)} text files, {size:.0f} MB; "
        f"{args.workers} workers; {args.repeat} alternating pairs; "
        f"load average at the end {os.getloadavg()[0]:.1f})"
    )
    print(f"{'scanner':<16}{'CPU s':>10}{'wall s':>10}{'peak RSS MB':>13}{'findings':>10}")
    for index, name in enumerate(("psr-engine", "detect-secrets")):
        chosen = [pair[index] for pair in runs]
        print(
            f"{name:<16}{statistics.median(r.cpu_s for r in chosen):>10.1f}"
            f"{statistics.median(r.wall_s for r in chosen):>10.1f}"
            f"{statistics.median(r.peak_rss_mb for r in chosen):>13.0f}"
            f"{statistics.median(r.findings for r in chosen):>10.0f}"
        )
    cpu = statistics.median(t.cpu_s / o.cpu_s for o, t in runs)
    rss = statistics.median(t.peak_rss_mb / o.peak_rss_mb for o, t in runs)
    wall = statistics.median(t.wall_s / o.wall_s for o, t in runs)
    print(
        f"detect-secrets / psr-engine, median of pairs: CPU {cpu:.1f}x, "
        f"peak RSS {rss:.1f}x, wall {wall:.1f}x"
    )


if __name__ == "__main__":
    main()
