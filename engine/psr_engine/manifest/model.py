"""The Manifest: a validated workflow.yaml as frozen, typed values.

Built by ``manifest/builder.py`` from a mapping that already passed the JSON Schema, so
nothing after ``manifest/`` ever sees a dict of dicts. Defaults from ``spec.defaults`` are
already merged into every task; durations and quantities are already numbers. Expressions
(``${{ }}``) are kept as their source text: they are checked and rendered by later stages.

Mapping fields are plain dicts typed as ``Mapping``: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from psr_engine.settings import (
    LOCAL_EXECUTOR,
    CostSettings,
    Limits,
    PluginConfig,
    TracingSettings,
)
from psr_engine.units import Resources, RetryPolicy

TaskKind = Literal["run", "python", "script", "workflow", "gate"]
Trigger = Literal[
    "all_success", "all_done", "all_failed", "one_failed", "one_success", "none_failed", "always"
]
Severity = Literal["low", "medium", "high", "critical"]
FailOn = Literal["low", "medium", "high", "critical", "never"]
ParamType = Literal["string", "integer", "number", "boolean", "array", "object"]

# A JSON path into the raw document: ("spec", "tasks", "extract", "retries", "limit").
JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class TextStart:
    """Where the text of a string value starts in the file, so that a character inside it
    (an expression in a 40-line ``run: |``) can be pointed at."""

    line: int  # 1-based, of the text's first character
    column: int  # 1-based
    block: bool  # a literal block (|): each line of the text is a line of the file
    one_line: bool  # the text is written on one line: offsets are columns


@dataclass(frozen=True, slots=True)
class Source:
    """Where a manifest came from, and where each of its nodes sits in that file."""

    path: str  # as the user named it (used in messages)
    digest: str  # sha256 of the file's bytes
    positions: Mapping[JsonPath, Position] = field(default_factory=dict, repr=False)
    texts: Mapping[JsonPath, TextStart] = field(default_factory=dict, repr=False)

    def position_in(self, path: JsonPath, text: str, offset: int) -> Position:
        """The position of ``text[offset]``, where ``text`` is the string value at ``path``;
        the value's start (or the node's position) when the way it is written hides it."""
        start = self.texts.get(tuple(path))
        if start is None:
            return self.position(path)
        if start.block:
            before = text[:offset]
            line_start = before.rfind("\n") + 1
            return Position(start.line + before.count("\n"), start.column + offset - line_start)
        if start.one_line:
            return Position(start.line, start.column + offset)
        return Position(start.line, start.column)

    def position(self, path: JsonPath) -> Position:
        """The node's position, or its nearest ancestor's, or 1:1."""
        probe = tuple(path)
        while probe:
            found = self.positions.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return self.positions.get((), Position(1, 1))


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    type: ParamType
    default: Any = None
    has_default: bool = False
    description: str = ""
    items: ParamType | None = None  # element type of an array
    enum: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class SecretSpec:
    """A reference to a secret; ``name`` is the env var (and ``secrets.<name>``) it becomes."""

    name: str
    provider: str  # env | file | vault | aws | azure | gcp | any registered provider
    options: Mapping[str, Any]  # the provider's own fields (path, key, mount, ...)


@dataclass(frozen=True, slots=True)
class GateSpec:
    name: str
    type: Literal["code", "secrets", "dependencies"]
    fail_on: FailOn = "high"
    paths: tuple[str, ...] = ()  # absolute
    tools: tuple[str, ...] = ()  # code gate: bandit, semgrep
    requirements: tuple[str, ...] = ()  # dependencies gate: absolute paths
    baseline: str | None = None  # absolute path
    sarif: str | None = None  # absolute path
    options: Mapping[str, Any] = field(default_factory=dict)  # any further gate fields


@dataclass(frozen=True, slots=True)
class MatrixSpec:
    """Axes in manifest order; an axis is a list of values or one expression giving a list."""

    axes: tuple[tuple[str, tuple[Any, ...] | str], ...]
    include: tuple[Mapping[str, Any], ...] = ()
    exclude: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CacheSpec:
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    name: str
    kind: TaskKind
    # run: the shell command; python: the script path (absolute); script: Python source;
    # workflow: the sub-manifest path (absolute); gate: the gate's name.
    command: str
    args: tuple[str, ...] = ()
    shell: str | None = None  # run: the shell; None means bash -eo pipefail -c
    interpreter: str | None = None  # python/script: None means the engine's interpreter
    with_: Mapping[str, Any] = field(default_factory=dict)  # workflow: params of the child
    gate: GateSpec | None = None  # gate tasks
    needs: tuple[str, ...] = ()
    when: str | None = None
    trigger: Trigger = "all_success"
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # secret names the task asks for explicitly
    workdir: str = ""  # absolute; the manifest's folder unless the task says otherwise
    timeout: float | None = None  # seconds
    kill_grace: float = 10.0  # seconds between TERM and KILL
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    resources: Resources = field(default_factory=Resources)
    matrix: MatrixSpec | None = None
    max_parallel: int | None = None
    continue_on_error: bool = False
    outputs: tuple[str, ...] = ()
    # Globs (relative to workdir) of the files the task reads, and of those it writes for
    # later tasks: what an executor without a shared folder ships to and from its workers.
    inputs: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    cache: CacheSpec | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    is_on_exit: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Manifest:
    api_version: str
    kind: str
    name: str
    source: Source
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    params: tuple[ParamSpec, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[SecretSpec, ...] = ()
    concurrency: int | None = None
    capacity: Resources | None = None
    gates: tuple[GateSpec, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()  # manifest order
    on_exit: tuple[TaskSpec, ...] = ()
    sinks: tuple[PluginConfig, ...] = ()
    tracing: TracingSettings | None = None
    cost: CostSettings | None = None
    executor: PluginConfig = LOCAL_EXECUTOR
    provenance: bool = True  # spec.provenance: the run's statement and audit entries
    limits: Limits = field(default_factory=Limits)

    @property
    def base_dir(self) -> str:
        """The manifest's folder: relative paths in it are relative to this."""
        import os

        return os.path.dirname(os.path.abspath(self.source.path))

    def task(self, name: str) -> TaskSpec:
        for task in (*self.tasks, *self.on_exit):
            if task.name == name:
                return task
        raise KeyError(name)
