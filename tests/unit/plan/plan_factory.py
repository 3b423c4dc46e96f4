"""Test helpers (imported as ``plan_factory``; conftest.py puts this folder on sys.path).

Manifests made directly with the model's constructors, so the planner's tests need no
loader. Every task gets made-up but distinct source lines, so tests can check where a
diagnostic points: task i (0-based, main tasks then onExit) sits at line 10 * (i + 1), and its
fields at fixed offsets below it (FIELD_LINE)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psr_engine.manifest.model import (
    GateSpec,
    Manifest,
    MatrixSpec,
    ParamSpec,
    Position,
    SecretSpec,
    Source,
    TaskSpec,
)
from psr_engine.plan import Plan, compile_plan
from psr_engine.units import Resources

FIELD_LINE = {
    "needs": 1,
    "matrix": 2,
    "resources": 3,
    "when": 4,
    "run": 5,
    "env": 6,
    "args": 7,
    "secrets": 8,
    "with": 9,
}
FILE = "/wf/workflow.yaml"
CAPACITY = Resources(cpu=4, memory=8 * 2**30)


def task(
    name: str,
    *,
    run: str = "echo hi",
    kind: str = "run",
    needs: Sequence[str] = (),
    matrix: Mapping[str, Any] | None = None,
    **fields: Any,
) -> TaskSpec:
    """A task; ``matrix`` is a plain mapping like the YAML (axes, plus include/exclude)."""
    spec = None
    if matrix is not None:
        axes = tuple(
            (k, v if isinstance(v, str) else tuple(v))
            for k, v in matrix.items()
            if k not in ("include", "exclude")
        )
        spec = MatrixSpec(
            axes=axes,
            include=tuple(matrix.get("include", ())),
            exclude=tuple(matrix.get("exclude", ())),
        )
    fields.setdefault("workdir", "/wf")
    return TaskSpec(name=name, kind=kind, command=run, needs=tuple(needs), matrix=spec, **fields)  # type: ignore[arg-type]


def task_line(index: int, field: str | None = None) -> int:
    return 10 * (index + 1) + (FIELD_LINE[field] if field else 0)


def manifest(
    *tasks: TaskSpec,
    on_exit: Sequence[TaskSpec] = (),
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    capacity: Resources | None = CAPACITY,
    concurrency: int | None = 2,
    gates: Sequence[GateSpec] = (),
    name: str = "wf",
) -> Manifest:
    """A manifest of these tasks; ``params`` maps names to defaults (types guessed)."""
    exits = tuple(
        TaskSpec(**{**{f: getattr(t, f) for f in TaskSpec.__slots__}, "is_on_exit": True})  # type: ignore[arg-type]
        for t in on_exit
    )
    positions: dict[tuple[str | int, ...], Position] = {(): Position(1, 1)}
    for i, t in enumerate((*tasks, *exits)):
        section = "onExit" if t.is_on_exit else "tasks"
        base = ("spec", section, t.name)
        positions[base] = Position(task_line(i), 3)
        for field, offset in FIELD_LINE.items():
            key = t.kind if field == "run" else field
            positions[(*base, key)] = Position(task_line(i) + offset, 5)
    param_specs = tuple(
        ParamSpec(name=k, type=_type_of(v), default=v, has_default=True)
        for k, v in (params or {}).items()
    )
    return Manifest(
        api_version="psr-engine/v1",
        kind="Workflow",
        name=name,
        source=Source(path=FILE, digest="0" * 64, positions=positions),
        params=param_specs,
        env=dict(env or {}),
        secrets=tuple(SecretSpec(s, "env", {"name": s}) for s in secrets),
        concurrency=concurrency,
        capacity=capacity,
        gates=tuple(gates),
        tasks=tuple(tasks),
        on_exit=exits,
    )


def defaults(m: Manifest) -> dict[str, Any]:
    return {p.name: p.default for p in m.params}


def plan_of(m: Manifest, **kwargs: Any) -> Plan:
    return compile_plan(m, defaults(m), **kwargs)


def _type_of(value: Any) -> Any:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def ids(plan: Plan) -> list[str]:
    """Instance ids of a plan's main tasks, in plan order."""
    return [t.id for t in plan.tasks]
