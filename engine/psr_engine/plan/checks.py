"""Static checks of the ``${{ }}`` expressions in a manifest, task by task.

Each expression is checked against the names it may see from where it sits: the task's
upstream tasks (transitively, via needs), its matrix keys, the workflow's params, env and
secrets. Checks are cached by (text, the part of the scope the text can tell apart), so a
10,000-task manifest whose tasks share a few command shapes checks each shape once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from psr_engine.errors import ExpressionError
from psr_engine.manifest.model import JsonPath, Manifest, TaskSpec

OPEN = "${{"


def has_expression(text: str) -> bool:
    """The cheap test run on every string field; only texts that pass reach the expressions."""
    return OPEN in text


def as_expression(when: str) -> str:
    """``when`` may be bare (``tasks.a.status == 'succeeded'``) or wrapped in ``${{ }}``."""
    return when if has_expression(when) else f"{OPEN} {when} }}}}"


def expression_fields(task: TaskSpec, prefix: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """(JSON path, text) of every field of the task that holds an expression, matrix excepted."""
    if has_expression(task.command):
        yield (*prefix, task.kind), task.command
    for i, arg in enumerate(task.args):
        if has_expression(arg):
            yield (*prefix, "args", i), arg
    for key, value in task.env.items():
        if isinstance(value, str) and has_expression(value):
            yield (*prefix, "env", key), value
    if task.when is not None:
        yield (*prefix, "when"), as_expression(task.when)
    yield from _strings(task.with_, (*prefix, "with"))


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        if has_expression(value):
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


@dataclass(frozen=True, slots=True)
class PlacedProblem:
    """A problem at one character of a field's text (an expression in a ``run:`` command)."""

    path: JsonPath
    text: str
    offset: int
    message: str
    hint: str


@dataclass
class TaskFindings:
    """What checking one task's expressions found."""

    problems: list[tuple[JsonPath, str]] = field(default_factory=list)
    placed: list[PlacedProblem] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)


class ExpressionChecker:
    """Checks the expressions of one manifest; ``is_upstream(x, of=t)`` answers for needs."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        is_upstream: Callable[[str, str], bool],
    ) -> None:
        self._is_upstream = is_upstream
        self._main = frozenset(t.name for t in manifest.tasks)
        self._all_tasks = self._main | frozenset(t.name for t in manifest.on_exit)
        self._params = frozenset(p.name for p in manifest.params)
        self._env = frozenset(manifest.env)
        self._secrets = frozenset(s.name for s in manifest.secrets)
        self._param_types = {p.name: p.type for p in manifest.params}
        # Only tasks that declare outputs: are held to them; others may write any.
        self._outputs = {
            t.name: frozenset(t.outputs) for t in (*manifest.tasks, *manifest.on_exit) if t.outputs
        }
        self._references: dict[str, list[Any] | str] = {}
        self._checked: dict[tuple[Any, ...], list[str]] = {}
        self._module: Any = None

    def check_task(self, task: TaskSpec, prefix: JsonPath) -> TaskFindings:
        """Problems in the task's expressions, and the secrets they read."""
        found = TaskFindings()
        matrix_keys = _matrix_keys(task)
        for path, text in expression_fields(task, prefix):
            refs = self._refs(text)
            if isinstance(refs, str):
                found.problems.append((path, refs))
                continue
            named = {r.path[0] for r in refs if r.root == "tasks" and r.path}
            if task.is_on_exit:
                # onExit tasks run after every main task, so any of them may be read; among
                # onExit tasks the usual upstream rule holds.
                visible = frozenset(
                    n for n in named if n in self._main or self._is_upstream(n, task.name)
                )
            else:
                visible = frozenset(n for n in named if self._is_upstream(n, task.name))
                if any(r.root == "run" and r.path[:1] == ("status",) for r in refs):
                    found.problems.append(
                        (
                            path,
                            "run.status is only known once every task has ended: "
                            "read it in an onExit task",
                        )
                    )
            found.problems.extend((path, m) for m in self._check(text, matrix_keys, visible))
            found.secrets.update(r.path[0] for r in refs if r.root == "secrets" and r.path)
        if task.kind == "run" and has_expression(task.command):
            # Where each value lands in the shell command: some places no quoting makes safe.
            path = (*prefix, "run")
            found.placed.extend(
                PlacedProblem(path, task.command, p.offset, p.message, p.hint)
                for p in self._expressions.check_command(task.command, task.shell)
            )
        return found

    def check_plain(self, path: JsonPath, text: str) -> list[tuple[JsonPath, str]]:
        """A field outside any task (workflow env, matrix axes): params, env and secrets only."""
        refs = self._refs(text)
        if isinstance(refs, str):
            return [(path, refs)]
        return [(path, m) for m in self._check(text, frozenset(), frozenset())]

    def secrets_of(self, text: str) -> set[str]:
        refs = self._refs(text)
        if isinstance(refs, str):
            return set()
        return {r.path[0] for r in refs if r.root == "secrets" and r.path}

    @property
    def _expressions(self) -> Any:
        # Imported on first use: a manifest without expressions never needs the module.
        if self._module is None:
            from psr_engine import expressions

            self._module = expressions
        return self._module

    def _refs(self, text: str) -> list[Any] | str:
        """The text's references, or the message of its syntax error."""
        if text not in self._references:
            try:
                self._references[text] = list(self._expressions.references(text))
            except ExpressionError as error:
                self._references[text] = "; ".join(d.message for d in error.diagnostics)
        return self._references[text]

    def _check(self, text: str, matrix: frozenset[str], tasks: frozenset[str]) -> list[str]:
        key = (text, matrix, tasks)
        if key not in self._checked:
            scope = self._expressions.Scope(
                params=self._params,
                env=self._env,
                secrets=self._secrets,
                matrix=matrix,
                tasks=tasks,
                all_tasks=self._all_tasks,
                param_types=self._param_types,
                outputs=self._outputs,
            )
            self._checked[key] = list(self._expressions.check(text, scope))
        return self._checked[key]


def _matrix_keys(task: TaskSpec) -> frozenset[str]:
    if task.matrix is None:
        return frozenset()
    keys = {name for name, _ in task.matrix.axes}
    for entry in task.matrix.include:
        keys.update(entry)
    return frozenset(keys)
