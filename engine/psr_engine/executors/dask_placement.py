"""Where Dask may run an attempt: the task's resources that some worker declares, and the
workers a `dask-workers` label pins it to (docs/features/dask.md, Placement)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psr_engine.errors import ExecutionError
from psr_engine.executors.base import ProcessSpec

# Seconds the engine keeps what the scheduler said of its workers' resources.
WORKERS_TTL = 2.0
# A task label naming the workers (names, addresses or hosts, comma-separated) it must run on.
WORKERS_LABEL = "dask-workers"


def placement_of(spec: ProcessSpec, workers: Mapping[str, Any]) -> dict[str, Any]:
    """submit()'s placement arguments: the task's resources that some worker declares (Dask
    keeps a task off workers lacking one; cpu and memory that no worker declares are left to
    Dask's threads), and the workers a `dask-workers` label pins it to.

    A gpu request, or any declared resource asked beyond every worker's amount, would wait
    forever in Dask: ExecutionError at once instead."""
    placement: dict[str, Any] = {}
    wanted = spec.resources
    if wanted is not None and workers:
        declared = [dict(w.get("resources") or {}) for w in workers.values()]
        names = {name for d in declared for name in d}
        asked = {
            name: amount
            for name, amount in (
                ("cpu", wanted.cpu),
                ("memory", wanted.memory),
                ("gpu", wanted.gpu),
            )
            if amount and (name in names or name == "gpu")
        }
        if asked:
            if not any(all(d.get(n, 0) >= a for n, a in asked.items()) for d in declared):
                have = "; ".join(
                    ", ".join(f"{n}={v:g}" for n, v in d.items()) or "none" for d in declared
                )
                raise ExecutionError(
                    f"no worker of the Dask cluster has {_format(asked)} (workers declare: "
                    f"{have or 'no workers'}); start workers with --resources, e.g. "
                    "dask worker ADDRESS --resources gpu=1"
                )
            placement["resources"] = asked
    pinned = spec.labels.get(WORKERS_LABEL)
    if pinned:
        placement["workers"] = [w.strip() for w in pinned.split(",") if w.strip()]
        placement["allow_other_workers"] = False
    return placement


def _format(asked: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={amount:g}" for name, amount in asked.items())
