"""Coverage by package, from the combined data of `make coverage` (`coverage report` gives it
by file): statements and the share covered of each psr_engine package, and overall."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def by_package(report: dict) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, data in report["files"].items():
        parts = Path(path).parts
        inner = parts[parts.index("psr_engine") + 1 :]
        package = inner[0] if len(inner) > 1 else inner[0].removesuffix(".py")
        summary = data["summary"]
        totals[package][0] += summary["num_statements"]
        totals[package][1] += summary["covered_lines"]
    return {name: (total, covered) for name, (total, covered) in sorted(totals.items())}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "coverage.json"
        subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(out)], check=True)
        report = json.loads(out.read_text())
    rows = by_package(report)
    width = max(len(name) for name in rows)
    for name, (total, covered) in rows.items():
        print(f"{name.ljust(width)}  {total:6d} statements  {100 * covered / max(total, 1):5.1f}%")
    total = sum(t for t, _ in rows.values())
    covered = sum(c for _, c in rows.values())
    print(f"{'overall'.ljust(width)}  {total:6d} statements  {100 * covered / max(total, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
