"""Runs' events (the `--events-jsonl` files) as an OpenMetrics text exposition.

What GitLab's `artifacts:reports:metrics` reads and compares between a merge request and its
target branch: one sample per (metric, labels). Each events file is one run, labelled with its
position (`run="1"`, `run="2"`, ...) so a benchmark of N runs gives N comparable samples.

The text follows the OpenMetrics 1.0 rules a strict parser checks (prometheus_client's
`openmetrics.parser` is the one the tests use): `# TYPE` (and `# UNIT`, matching the name's
suffix) before a family's samples, each family's samples together, label values escaped,
and `# EOF` last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psr_engine.errors import DiagnosedError, Diagnostic


@dataclass(frozen=True, slots=True)
class RunFigures:
    """What one run's events say about its cost: the run's and each task's seconds."""

    workflow: str
    status: str
    duration: float
    tasks: tuple[tuple[str, str, float], ...] = field(default=())  # (task, status, seconds)


@dataclass(frozen=True, slots=True)
class _Family:
    name: str
    help: str
    unit: str = ""


_RUN_SECONDS = _Family("psr_run_duration_seconds", "Wall-clock seconds of a run.", "seconds")
_TASK_SECONDS = _Family(
    "psr_task_duration_seconds", "Wall-clock seconds of a task's last attempt.", "seconds"
)
_RUN_TASKS = _Family("psr_run_tasks", "Tasks of a run that ended in each status.")


def read_run_figures(path: str | os.PathLike[str]) -> RunFigures:
    """The figures of the run an events JSONL file recorded (its last run when several)."""
    workflow, status, duration = "", "unfinished", 0.0
    tasks: dict[str, tuple[str, float]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DiagnosedError(
            Diagnostic(str(path), 0, 0, f"cannot read events file: {exc.strerror or exc}")
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise DiagnosedError(
                Diagnostic(str(path), number, 1, f"not a JSON event: {exc}")
            ) from None
        kind = event.get("type")
        if kind == "run.started":
            workflow, status, duration, tasks = str(event.get("workflow", "")), "running", 0.0, {}
        elif kind == "run.finished":
            status = str(event.get("status") or status)
            duration = float(event.get("durationS") or 0.0)
        elif kind in ("task.finished", "task.skipped") and event.get("task"):
            seconds = float(event.get("durationS") or 0.0)
            tasks[str(event["task"])] = (str(event.get("status") or ""), seconds)
    return RunFigures(
        workflow=workflow,
        status=status,
        duration=duration,
        tasks=tuple((task, st, seconds) for task, (st, seconds) in tasks.items()),
    )


def openmetrics_text(runs: Sequence[RunFigures]) -> str:
    """The exposition of ``runs`` (run i labelled ``run="i"``, from 1), ending in `# EOF`."""
    out: list[str] = []
    _family(
        out,
        _RUN_SECONDS,
        ((_labels(r.workflow, i), r.duration) for i, r in enumerate(runs, start=1)),
    )
    _family(
        out,
        _TASK_SECONDS,
        (
            (_labels(r.workflow, i, task=task), seconds)
            for i, r in enumerate(runs, start=1)
            for task, status, seconds in r.tasks
            if status != "skipped"
        ),
    )
    counts: list[tuple[str, float]] = []
    for i, r in enumerate(runs, start=1):
        tally: dict[str, int] = {}
        for _, status, _seconds in r.tasks:
            tally[status] = tally.get(status, 0) + 1
        counts.extend(
            (_labels(r.workflow, i, status=status), float(n)) for status, n in sorted(tally.items())
        )
    _family(out, _RUN_TASKS, counts)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _family(out: list[str], family: _Family, samples: Iterable[tuple[str, float]]) -> None:
    out.append(f"# TYPE {family.name} gauge")
    if family.unit:
        out.append(f"# UNIT {family.name} {family.unit}")
    out.append(f"# HELP {family.name} {family.help}")
    out.extend(f"{family.name}{labels} {_number(value)}" for labels, value in samples)


def _labels(workflow: str, run: int, **more: str) -> str:
    pairs = {"workflow": workflow, "run": str(run), **more}
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(round(value, 6)) if value != int(value) else f"{int(value)}"
