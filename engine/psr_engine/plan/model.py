"""The Plan: what the runner executes. Frozen, JSON round-trips, knows nothing of manifest/.

A Plan is a manifest with its matrix expanded into task instances, its params resolved,
its needs turned into instance ids, and its tasks in topological order with their levels.
Command lines, env values and ``when`` stay expression source text: they may reference
``tasks.<name>.outputs``, which only exist at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from psr_engine.settings import (
    EMPTY,
    LOCAL_EXECUTOR,
    CostSettings,
    Limits,
    PluginConfig,
    TracingSettings,
    freeze,
)
from psr_engine.units import Resources, RetryPolicy

# 2: settings are typed records (sinks, executor: {type, ...options}; tracing and cost by
# their fields). A Plan of another format is not decoded: the plan cache compiles afresh.
PLAN_FORMAT = 2


@dataclass(frozen=True, slots=True)
class SecretRequest:
    name: str  # env var name, and secrets.<name>
    provider: str
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # read-only

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", freeze(self.options))


@dataclass(frozen=True, slots=True)
class PlannedGate:
    name: str
    type: str  # code | secrets | dependencies
    fail_on: str = "high"
    paths: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    baseline: str | None = None
    sarif: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # read-only

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", freeze(self.options))


@dataclass(frozen=True, slots=True)
class PlannedTask:
    id: str  # instance name: "extract" or "transform[region=eu,size=large]"
    task: str  # the manifest's task name
    kind: str  # run | python | script | workflow | gate
    command: str  # see TaskSpec.command; expression text, rendered at run time
    args: tuple[str, ...] = ()
    shell: str | None = None
    interpreter: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    gate: PlannedGate | None = None
    matrix: dict[str, Any] = field(default_factory=dict)  # this instance's values, manifest order
    needs: tuple[str, ...] = ()  # instance ids
    when: str | None = None
    trigger: str = "all_success"
    env: dict[str, str] = field(default_factory=dict)  # workflow env merged with the task's
    secrets: tuple[str, ...] = ()  # names of the secrets this task receives
    workdir: str = ""
    timeout: float | None = None
    kill_grace: float = 10.0
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    resources: Resources = field(default_factory=Resources)
    max_parallel: int | None = None  # across the instances of one matrix task
    continue_on_error: bool = False
    outputs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()  # globs relative to workdir: files the task reads
    artifacts: tuple[str, ...] = ()  # globs relative to workdir: files it writes for others
    cache: dict[str, tuple[str, ...]] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    level: int = 0
    on_exit: bool = False
    line: int = 0  # the task's line in the manifest, for messages at run time
    # Not an argument: made on first use and kept (plan/digest.py); replace() starts afresh.
    digest: str = field(default="", init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Plan:
    workflow: str
    manifest_path: str
    manifest_digest: str
    params: dict[str, Any]
    tasks: tuple[PlannedTask, ...]  # topological order, ties in manifest order
    levels: tuple[tuple[str, ...], ...] = ()  # instance ids by topological level
    critical_path: tuple[str, ...] = ()  # longest chain by timeout (or 1 per task when unset)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task -> instance ids
    on_exit: tuple[PlannedTask, ...] = ()
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[SecretRequest, ...] = ()
    # Variables of the engine's environment no task inherits: every declared secret's name
    # and the variables secrets are read from (plan/secret_refs.py).
    withheld: tuple[str, ...] = ()
    concurrency: int = 1
    capacity: Resources = field(default_factory=Resources)
    gates: tuple[PlannedGate, ...] = ()
    sinks: tuple[PluginConfig, ...] = ()  # spec.sinks, options checked by each plug-in
    tracing: TracingSettings | None = None
    cost: CostSettings | None = None
    executor: PluginConfig = LOCAL_EXECUTOR
    # spec.provenance: write the run's in-toto statement and its audit-trail entries.
    provenance: bool = True
    limits: Limits = field(default_factory=Limits)  # spec.limits (workflowDepth at run time)
    format: int = PLAN_FORMAT

    def task(self, task_id: str) -> PlannedTask:
        for task in (*self.tasks, *self.on_exit):
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def to_dict(self, *, compact: bool = False) -> dict[str, Any]:
        """The Plan's JSON form. `compact` leaves out every task field at its default (the
        plan cache's form): a task of a plain `run:` is then a tenth of the text, and a
        1,000-task plan decodes several times faster. Both forms decode alike."""
        encoded: dict[str, Any] = _encode(self, compact=compact)
        return encoded

    def to_json(self, *, indent: int | None = None, compact: bool = False) -> str:
        return json.dumps(self.to_dict(compact=compact), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return _decode_plan(data)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))


_WITH_OWN_FORM = (RetryPolicy, Resources, PluginConfig, TracingSettings, CostSettings, Limits)
_RECORDS = (Plan, PlannedTask, PlannedGate, SecretRequest)


def _encode(value: Any, *, compact: bool = False) -> Any:
    if isinstance(value, _WITH_OWN_FORM):
        return value.to_dict()
    if compact and isinstance(value, PlannedTask):
        defaults = _task_defaults()
        out = {}
        for name in _init_names(PlannedTask):
            encoded = _encode(getattr(value, name))
            # Left out only when equal in type too: 10 == 10.0, yet a task's digest hashes
            # its fields' JSON, where they differ.
            default = defaults.get(name, MISSING)
            if type(encoded) is not type(default) or encoded != default:
                out[name] = encoded
        return out
    if isinstance(value, _RECORDS):
        # Fields that are not __init__ arguments (a task's digest) are not part of the form.
        return {n: _encode(getattr(value, n), compact=compact) for n in _init_names(type(value))}
    if isinstance(value, tuple | list):
        return [_encode(v, compact=compact) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    return value


_NAMES: dict[type, dict[str, None]] = {}


def _init_names(record: type) -> dict[str, None]:
    """A record's __init__ fields in order (a dict: ordered, and `in` is a lookup), found once
    per type: fields() for every decoded task cost ~10 us a task."""
    names = _NAMES.get(record)
    if names is None:
        names = _NAMES[record] = dict.fromkeys(f.name for f in fields(record) if f.init)
    return names


_TASK_DEFAULTS: dict[str, Any] = {}


def _task_defaults() -> dict[str, Any]:
    """The encoded default of each PlannedTask field that has one (for the compact form)."""
    if not _TASK_DEFAULTS:
        for f in fields(PlannedTask):
            if not f.init:
                continue
            if f.default is not MISSING:
                _TASK_DEFAULTS[f.name] = _encode(f.default)
            elif f.default_factory is not MISSING:
                _TASK_DEFAULTS[f.name] = _encode(f.default_factory())
    return _TASK_DEFAULTS


def _tuple(values: Any) -> tuple[Any, ...]:
    return tuple(values or ())


def _stored_names(record: type, data: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON with its fields' own (snake_case) names: as the plan cache stores it,
    or in camelCase as `plan -o json` prints it (the CLI's one convention, docs/cli.md)."""
    names = _init_names(record)
    out: dict[str, Any] = {}
    for key, value in data.items():
        snake = key if key in names else _CAPITAL.sub(lambda m: "_" + m.group(0).lower(), key)
        if snake not in names and snake + "_" in names:
            snake += "_"  # `with` is `with_`
        out[snake if snake in names else key] = value
    return out


_CAPITAL = re.compile(r"[A-Z]")


def _snaked(data: Any, *, keep: tuple[str, ...] = ()) -> Any:
    """Settings' JSON with snake_case keys, at every level but the mappings named in `keep`
    (the user's own names): read back from `plan -o json`'s camelCase as from the cache."""
    if not isinstance(data, Mapping):
        return data
    out = {}
    for key, value in data.items():
        name = _CAPITAL.sub(lambda m: "_" + m.group(0).lower(), key)
        out[name] = value if name in keep else _snaked(value, keep=keep)
    return out


def _decode_gate(data: dict[str, Any] | None) -> PlannedGate | None:
    if data is None:
        return None
    data = _stored_names(PlannedGate, data)
    return PlannedGate(
        **{
            **data,
            "paths": _tuple(data.get("paths")),
            "tools": _tuple(data.get("tools")),
            "requirements": _tuple(data.get("requirements")),
        }
    )


def _decode_task(data: dict[str, Any]) -> PlannedTask:
    data = _stored_names(PlannedTask, data)
    # Only what is there is converted: a field the compact form left out takes its default.
    for name, convert in _TASK_FIELD_DECODERS.items():
        if name in data:
            data[name] = convert(data[name])
    return PlannedTask(**data)


def _decode_cache(cache: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]] | None:
    return None if cache is None else {k: _tuple(v) for k, v in cache.items()}


_TASK_FIELD_DECODERS: dict[str, Callable[[Any], Any]] = {
    "args": _tuple,
    "gate": _decode_gate,
    "needs": _tuple,
    "secrets": _tuple,
    "retries": lambda data: RetryPolicy.from_dict(data or {}),
    "resources": lambda data: Resources.from_dict(data or {}),
    "outputs": _tuple,
    "inputs": _tuple,
    "artifacts": _tuple,
    "cache": _decode_cache,
}


def _decode_plan(data: dict[str, Any]) -> Plan:
    if data.get("format") != PLAN_FORMAT:
        raise ValueError(f"a plan of format {data.get('format')}, not {PLAN_FORMAT}")
    # `plan -o json` adds the run's cost projection: shown, not part of the Plan.
    data = {k: v for k, v in _stored_names(Plan, data).items() if k != "costProjection"}
    return Plan(
        **{
            **data,
            "tasks": tuple(_decode_task(t) for t in data["tasks"]),
            "on_exit": tuple(_decode_task(t) for t in data.get("on_exit", ())),
            "levels": tuple(tuple(level) for level in data.get("levels", ())),
            "critical_path": _tuple(data.get("critical_path")),
            "groups": {k: tuple(v) for k, v in data.get("groups", {}).items()},
            "secrets": tuple(
                SecretRequest(**_stored_names(SecretRequest, s)) for s in data.get("secrets", ())
            ),
            "withheld": _tuple(data.get("withheld")),
            "capacity": Resources.from_dict(data.get("capacity") or {}),
            "gates": tuple(g for g in (_decode_gate(g) for g in data.get("gates", ())) if g),
            "sinks": tuple(PluginConfig.from_dict(s) for s in data.get("sinks", ())),
            "tracing": _maybe(
                TracingSettings.from_dict,
                _snaked(data.get("tracing"), keep=("headers", "resource_attributes")),
            ),
            "cost": _maybe(CostSettings.from_dict, _snaked(data.get("cost"))),
            "executor": PluginConfig.from_dict(data.get("executor") or {"type": "local"}),
            "limits": Limits.from_dict(_snaked(data.get("limits")) or {}),
        }
    )


def _maybe(decode: Any, data: Mapping[str, Any] | None) -> Any:
    return None if data is None else decode(data)


__all__ = ["PLAN_FORMAT", "Plan", "PlannedGate", "PlannedTask", "SecretRequest"]
