"""Schema-valid mapping -> Manifest: defaults merged, units parsed, paths made absolute.

The schema has already checked the shape; this module adds what a schema cannot say without
knowing the whole document (a task asking for a secret nobody declared, an onExit task named
like a main task, a near miss of a plug-in's name...). Checks that need the DAG (needs,
cycles, expression references), the capacity planned for (a request larger than it) or a
plug-in's own option check belong to the planner. Every problem is collected and reported
at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from psr_engine.errors import Diagnostic, ManifestError
from psr_engine.manifest.model import (
    CacheSpec,
    GateSpec,
    JsonPath,
    Manifest,
    MatrixSpec,
    ParamSpec,
    SecretSpec,
    Source,
    TaskKind,
    TaskSpec,
)
from psr_engine.settings import (
    BudgetSettings,
    CostRates,
    CostSettings,
    Limits,
    PluginConfig,
    TracingSettings,
)
from psr_engine.units import Resources, RetryPolicy, parse_cpu, parse_duration, parse_memory

KINDS: tuple[TaskKind, ...] = ("run", "python", "script", "workflow", "gate")
# Task fields whose mappings merge key by key with spec.defaults (the task's keys win).
# A jsonl sink without a path writes here, relative to the manifest's folder (the schema says so).
DEFAULT_EVENTS_JSONL = ".psr/events.jsonl"

MERGED_FIELDS = ("retries", "resources", "env", "labels")
# Fields that only mean something for some task kinds.
KIND_FIELDS = {
    "args": ("python", "script"),
    "with": ("workflow",),
    "shell": ("run",),
    "interpreter": ("python", "script"),
}
GATE_TYPE_FIELDS = {
    "tools": ("code",),
    "requirements": ("dependencies",),
    "osvDb": ("dependencies",),
    "online": ("dependencies",),
    "apiUrl": ("dependencies",),
    "unscoredAs": ("dependencies",),
}
T = TypeVar("T")
# What a `script:` holding a file's name instead of Python source looks like.
_SCRIPT_FILE_NAME = re.compile(r"[\w./-]+\.py")


def build_manifest(data: Mapping[str, Any], source: Source) -> Manifest:
    """The Manifest for a mapping that passed the schema; ManifestError lists every problem."""
    return _ManifestBuilder(source).manifest(data)


class _ManifestBuilder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.base = os.path.dirname(os.path.abspath(source.path))
        self.problems: list[Diagnostic] = []

    # -- reporting -----------------------------------------------------------------------
    def report(self, path: JsonPath, message: str, hint: str = "") -> None:
        from psr_engine.manifest.schema import dotted

        where = self.source.position(path)
        self.problems.append(
            Diagnostic(self.source.path, where.line, where.column, message, dotted(path), hint)
        )

    def parse(self, parser: Callable[[Any], T], value: Any, path: JsonPath) -> T | None:
        """A unit parser's result, or None after reporting its ValueError at the field."""
        try:
            return parser(value)
        except ValueError as exc:
            self.report(path, str(exc))
            return None

    def absolute(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.base, path))

    # -- the document --------------------------------------------------------------------
    def manifest(self, data: Mapping[str, Any]) -> Manifest:
        metadata, spec = data["metadata"], data.get("spec", {})
        secrets = self.secrets(spec.get("secrets", {}))
        capacity = (
            self.resources(spec["capacity"], ("spec", "capacity")) if "capacity" in spec else None
        )
        defaults = dict(spec.get("defaults", {}))
        tasks = self.tasks(spec.get("tasks", {}), defaults, on_exit=False)
        on_exit = self.tasks(spec.get("onExit", {}), defaults, on_exit=True)
        manifest = Manifest(
            api_version=data["apiVersion"],
            kind=data["kind"],
            name=metadata["name"],
            source=self.source,
            description=metadata.get("description", ""),
            labels=_texts(metadata.get("labels", {})),
            params=self.params(spec.get("params", {})),
            env=_texts(spec.get("env", {})),
            secrets=secrets,
            concurrency=spec.get("concurrency"),
            capacity=capacity,
            gates=self.gates(spec.get("gates", [])),
            tasks=tasks,
            on_exit=on_exit,
            sinks=tuple(self.sink(s) for s in spec.get("sinks", [])),
            tracing=TracingSettings.from_options(spec["tracing"]) if "tracing" in spec else None,
            cost=self.cost(spec["cost"]) if "cost" in spec else None,
            executor=PluginConfig.from_dict(spec.get("executor", {"type": "local"})),
            provenance=spec.get("provenance", True),
            limits=Limits.from_options(spec.get("limits", {})),
        )
        self.check(manifest, spec)
        if self.problems:
            self.problems.sort(key=lambda d: (d.line, d.column, d.message))
            raise ManifestError(self.problems)
        return manifest

    def check(self, manifest: Manifest, spec: Mapping[str, Any]) -> None:
        """Whole-document rules the schema cannot express."""
        for secret in manifest.secrets:
            self.check_plugin("secrets", secret.provider, ("spec", "secrets", secret.name))
        for index, sink in enumerate(manifest.sinks):
            self.check_plugin("sinks", sink.type, ("spec", "sinks", index))
        self.check_plugin("executors", manifest.executor.type, ("spec", "executor"))
        declared = {secret.name for secret in manifest.secrets}
        every = (*manifest.tasks, *manifest.on_exit)
        for task in every:
            section = "onExit" if task.is_on_exit else "tasks"
            self.check_secrets(task, declared, ("spec", section, task.name, "secrets"))
            self.check_script_is_source(task, ("spec", section, task.name))
        for name in spec.get("onExit", {}):
            if name in spec.get("tasks", {}):
                self.report(
                    ("spec", "onExit", name),
                    f"onExit task {name!r} has the name of a task in spec.tasks",
                    "task names must be unique across tasks and onExit",
                )

    def check_plugin(self, group: str, name: str, path: JsonPath) -> None:
        """A secret provider or sink type the schema cannot list (plug-ins add names): one
        that is not registered here but is close to a known name is a typo, caught with its
        line; any other is taken as a plug-in's (a lint job need not install every plug-in;
        `apply` says so if it is missing). Entry points are read only for a name that is
        not built in."""
        from psr_engine import plugins
        from psr_engine.manifest.schema import suggest

        if name in plugins.BUILTIN[group]:
            return
        known = plugins.names(group)
        close = None if name in known else suggest(name, known)
        if close is None:
            return
        what = {"secrets": "secret provider", "sinks": "sink type", "executors": "executor"}[group]
        field = "provider" if group == "secrets" else "type"
        self.report(
            (*path, field),
            f"unknown {what} {name!r}",
            f"did you mean {close!r}? known: {', '.join(known)} (plug-ins add theirs under "
            f"the entry-point group psr_engine.{group})",
        )

    def check_script_is_source(self, task: TaskSpec, path: JsonPath) -> None:
        """A one-line `script:` that is only a file name is inline source that cannot run."""
        name = task.command.strip()
        if task.kind == "script" and _SCRIPT_FILE_NAME.fullmatch(name):
            self.report(
                (*path, "script"),
                f"task {task.name!r}: script: takes inline Python source, and {name!r} is a "
                "file name",
                f"to run a file, write `python: {name}`; for inline code, `script: |` and the "
                "code on the lines below",
            )

    def check_secrets(self, task: TaskSpec, declared: set[str], path: JsonPath) -> None:
        from psr_engine.manifest.schema import suggest

        for index, name in enumerate(task.secrets):
            if name not in declared:
                close = suggest(name, declared)
                self.report(
                    (*path, index),
                    f"task {task.name!r} asks for secret {name!r}, which spec.secrets does not "
                    "declare",
                    f"did you mean {close!r}?" if close else "declare it under spec.secrets",
                )

    # -- sections ------------------------------------------------------------------------
    def params(self, raw: Mapping[str, Any]) -> tuple[ParamSpec, ...]:
        from psr_engine.manifest.params import coerce_param

        out = []
        for name, item in raw.items():
            spec = ParamSpec(
                name=name,
                type=item["type"],
                default=item.get("default"),
                has_default="default" in item,
                description=item.get("description", ""),
                items=item.get("items", {}).get("type"),
                enum=tuple(item.get("enum", ())),
            )
            if "items" in item and spec.type != "array":
                self.report(("spec", "params", name, "items"), "only array params take items")
            for index, allowed in enumerate(spec.enum):
                try:
                    coerce_param(ParamSpec(name, spec.type, items=spec.items), allowed)
                except ValueError as exc:
                    self.report(("spec", "params", name, "enum", index), f"enum value: {exc}")
            if spec.has_default:
                try:
                    coerce_param(spec, spec.default)
                except ValueError as exc:
                    self.report(("spec", "params", name, "default"), f"default: {exc}")
            out.append(spec)
        return tuple(out)

    def secrets(self, raw: Mapping[str, Any]) -> tuple[SecretSpec, ...]:
        out = []
        for name, ref in raw.items():
            options = {k: v for k, v in ref.items() if k != "provider"}
            if ref["provider"] == "file" and "path" in options:
                options["path"] = self.absolute(options["path"])
            out.append(SecretSpec(name=name, provider=ref["provider"], options=options))
        return tuple(out)

    def gates(self, raw: list[Mapping[str, Any]]) -> tuple[GateSpec, ...]:
        seen: set[str] = set()
        out = []
        for index, item in enumerate(raw):
            if item["name"] in seen:
                self.report(
                    ("spec", "gates", index, "name"), f"two gates are named {item['name']!r}"
                )
            seen.add(item["name"])
            out.append(self.gate(item["name"], item, ("spec", "gates", index)))
        return tuple(out)

    def gate(self, name: str, raw: Mapping[str, Any], path: JsonPath) -> GateSpec:
        kind = raw["type"]
        for field, kinds in GATE_TYPE_FIELDS.items():
            if field in raw and kind not in kinds:
                self.report(
                    (*path, field),
                    f"{field} only applies to {' and '.join(kinds)} gates, not {kind}",
                )
        known = {"name", "type", "failOn", "paths", "tools", "requirements", "baseline", "sarif"}
        options = {k: v for k, v in raw.items() if k not in known}
        if "osvDb" in options:
            options["osvDb"] = self.absolute(options["osvDb"])
        return GateSpec(
            name=name,
            type=kind,
            fail_on=raw.get("failOn", "high"),
            paths=tuple(self.absolute(p) for p in raw.get("paths", ["."])),
            tools=tuple(raw.get("tools", ("bandit", "semgrep") if kind == "code" else ())),
            requirements=tuple(self.absolute(p) for p in raw.get("requirements", ())),
            baseline=self.absolute(raw["baseline"]) if "baseline" in raw else None,
            sarif=self.absolute(raw["sarif"]) if "sarif" in raw else None,
            options=options,
        )

    def tasks(
        self, raw: Mapping[str, Any], defaults: Mapping[str, Any], *, on_exit: bool
    ) -> tuple[TaskSpec, ...]:
        section = "onExit" if on_exit else "tasks"
        return tuple(
            self.task(name, item, defaults, ("spec", section, name), on_exit=on_exit)
            for name, item in raw.items()
        )

    def task(
        self,
        name: str,
        own: Mapping[str, Any],
        defaults: Mapping[str, Any],
        path: JsonPath,
        *,
        on_exit: bool,
    ) -> TaskSpec:
        kind = next(k for k in KINDS if k in own)
        for field, kinds in KIND_FIELDS.items():
            if field in own and kind not in kinds:
                self.report(
                    (*path, field),
                    f"{field} only applies to {' and '.join(kinds)} tasks; this is a {kind} task",
                )
        raw = merge_defaults(defaults, own)

        def at(field: str) -> JsonPath:
            return (*path, field) if field in own else ("spec", "defaults", field)

        needs = own.get("needs", ())
        return TaskSpec(
            name=name,
            kind=kind,
            command=self.command(kind, name, own),
            description=own.get("description", ""),
            args=tuple(_text(a) for a in own.get("args", ())),
            shell=raw.get("shell") if kind == "run" else None,
            interpreter=raw.get("interpreter") if kind in ("python", "script") else None,
            with_=dict(own.get("with", {})),
            gate=self.gate(name, own["gate"], (*path, "gate")) if kind == "gate" else None,
            needs=(needs,) if isinstance(needs, str) else tuple(needs),
            when=own.get("when"),
            trigger=raw.get("trigger", "all_success"),
            env=_texts(raw.get("env", {})),
            secrets=tuple(raw.get("secrets", ())),
            workdir=self.absolute(raw["workdir"]) if "workdir" in raw else self.base,
            timeout=self.parse(parse_duration, raw["timeout"], at("timeout"))
            if "timeout" in raw
            else None,
            kill_grace=self.parse(parse_duration, raw.get("killGrace", 10), at("killGrace")) or 0.0,
            retries=self.retries(raw.get("retries", {}), at("retries")),
            resources=self.resources(raw.get("resources", {}), at("resources")),
            matrix=self.matrix(own["matrix"]) if "matrix" in own else None,
            max_parallel=raw.get("maxParallel"),
            continue_on_error=bool(raw.get("continueOnError", False)),
            outputs=tuple(own.get("outputs", ())),
            inputs=tuple(own.get("inputs", ())),
            artifacts=tuple(own.get("artifacts", ())),
            # A cache that names no files of its own keys on the task's inputs and checks its
            # artifacts.
            cache=CacheSpec(
                inputs=tuple(own["cache"].get("inputs", own.get("inputs", ()))),
                outputs=tuple(own["cache"].get("outputs", own.get("artifacts", ()))),
            )
            if "cache" in own
            else None,
            labels=_texts(raw.get("labels", {})),
            is_on_exit=on_exit,
        )

    def command(self, kind: str, name: str, own: Mapping[str, Any]) -> str:
        if kind in ("python", "workflow"):
            return self.absolute(own[kind])
        if kind == "gate":
            return name
        return str(own[kind])

    def retries(self, raw: Mapping[str, Any], path: JsonPath) -> RetryPolicy:
        delay = self.parse(parse_duration, raw.get("delay", 1), (*path, "delay"))
        max_delay = (
            self.parse(parse_duration, raw["maxDelay"], (*path, "maxDelay"))
            if "maxDelay" in raw
            else None
        )
        return RetryPolicy(
            limit=int(raw.get("limit", 0)),
            backoff=raw.get("backoff", "fixed"),
            delay=1.0 if delay is None else delay,
            max_delay=max_delay,
            jitter=bool(raw.get("jitter", False)),
            on=tuple(int(code) for code in raw.get("on", ())),
            on_timeout=bool(raw.get("onTimeout", False)),
        )

    def resources(self, raw: Mapping[str, Any], path: JsonPath) -> Resources:
        cpu = self.parse(parse_cpu, raw.get("cpu", 0), (*path, "cpu"))
        memory = self.parse(parse_memory, raw.get("memory", 0), (*path, "memory"))
        return Resources(cpu=cpu or 0.0, memory=memory or 0, gpu=float(raw.get("gpu", 0)))

    def matrix(self, raw: Mapping[str, Any]) -> MatrixSpec:
        axes = tuple(
            (name, value if isinstance(value, str) else tuple(value))
            for name, value in raw.items()
            if name not in ("include", "exclude")
        )
        return MatrixSpec(
            axes=axes,
            include=tuple(dict(x) for x in raw.get("include", ())),
            exclude=tuple(dict(x) for x in raw.get("exclude", ())),
        )

    def sink(self, raw: Mapping[str, Any]) -> PluginConfig:
        options = {k: v for k, v in raw.items() if k != "type"}
        if raw["type"] == "jsonl":
            # The schema's documented default, beside the manifest like every sink path.
            options.setdefault("path", DEFAULT_EVENTS_JSONL)
        if isinstance(options.get("path"), str):
            options["path"] = self.absolute(options["path"])
        return PluginConfig(raw["type"], options)

    def cost(self, raw: Mapping[str, Any]) -> CostSettings:
        budget, rates = raw.get("budget"), raw.get("rates")
        own = None
        if rates:
            if "vcpuHour" in rates and "gibHour" in rates:
                own = CostRates(float(rates["vcpuHour"]), float(rates["gibHour"]))
            else:
                self.report(
                    ("spec", "cost", "rates"),
                    "spec.cost.rates needs both vcpuHour and gibHour (prices per hour of one "
                    "vCPU and of one GiB of memory)",
                )
        return CostSettings(
            provider=raw.get("provider"),
            region=raw.get("region"),
            instance_type=raw.get("instanceType"),
            rates=own,
            budget=BudgetSettings(
                limit=float(budget["limit"]),
                currency=budget.get("currency", "USD"),
                action=budget.get("action", "warn"),
                scope=budget.get("scope", "run"),
            )
            if budget
            else None,
        )


def merge_defaults(defaults: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    """The task's fields over spec.defaults; retries, resources, env and labels key by key."""
    merged = {k: _retries_mapping(k, v) for k, v in defaults.items()}
    for key, value in task.items():
        value = _retries_mapping(key, value)
        if key in MERGED_FIELDS and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _retries_mapping(key: str, value: Any) -> Any:
    # `retries: 3` is short for `retries: {limit: 3}`.
    return {"limit": value} if key == "retries" and isinstance(value, int) else value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _texts(values: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): _text(v) for k, v in values.items()}
