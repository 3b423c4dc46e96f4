"""The workloads the benchmarks share: W1-style manifests of no-op tasks, and CPU accounting.

Benchmarks run as scripts (`python benchmarks/x.py`), so this folder is on sys.path and
`import workloads` finds this module.
"""

from __future__ import annotations

import resource
import textwrap
from pathlib import Path

from psr_engine import api
from psr_engine.plan.model import Plan


def manifest(n: int, chain: bool = False, *, extra: str = "") -> str:
    """`n` tasks running `true`, independent (W1, W3) or each needing the previous (W2)."""
    lines = [
        "apiVersion: psr-engine/v1",
        "kind: Workflow",
        "metadata: {name: bench}",
        "spec:",
        "  concurrency: 2",
        "  capacity: {cpu: 64, memory: 64Gi}",
    ]
    lines += [f"  {line}" for line in textwrap.dedent(extra).strip().splitlines() if line]
    lines.append("  tasks:")
    for i in range(n):
        needs = f", needs: [t{i - 1}]" if chain and i else ""
        lines.append(f'    t{i}: {{run: "true"{needs}}}')
    return "\n".join(lines) + "\n"


def w1_plan(n: int, folder: Path) -> Plan:
    """W1 compiled: `n` independent no-op tasks, the manifest written in `folder`."""
    path = folder / "workflow.yaml"
    path.write_text(manifest(n))
    # make_plan (api.compile before it) so that the same script times an older engine too.
    make_plan = getattr(api, "make_plan", None) or api.compile  # type: ignore[attr-defined]
    plan: Plan = make_plan(str(path))
    return plan


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
