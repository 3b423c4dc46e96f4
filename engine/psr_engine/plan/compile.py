"""Manifest -> Plan: matrix expansion, the needs DAG, expression checks, levels, capacity.

Pure: the same manifest and params give the same Plan, byte for byte in JSON. The only I/O is
the machine probe, used when neither the manifest nor the caller says what capacity to plan for.
Every problem of the manifest is collected first and raised together, as one PlanError (a
CycleError when needs form a cycle), each a Diagnostic at the line of the field at fault.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from psr_engine.errors import CycleError, Diagnostic, ExpressionError, PlanError
from psr_engine.manifest.model import GateSpec, JsonPath, Manifest, TaskSpec
from psr_engine.plan import graph as dag
from psr_engine.plan.checks import ExpressionChecker, as_expression
from psr_engine.plan.machine import machine_capacity, machine_concurrency
from psr_engine.plan.matrix import (
    MatrixError,
    combinations_at_most,
    expand_matrix,
    instance_id,
)
from psr_engine.plan.model import Plan, PlannedGate, PlannedTask, SecretRequest
from psr_engine.plan.secret_refs import shell_references, withheld_variables
from psr_engine.plugins import SELF_PLACING_EXECUTORS
from psr_engine.settings import PluginConfig
from psr_engine.units import Resources, capacity_problems

# The capacity of a plan whose executor places work itself.
UNBOUNDED = Resources(cpu=float(1 << 40), memory=1 << 62, gpu=float(1 << 40))


def compile_plan(
    manifest: Manifest,
    params: Mapping[str, Any],
    *,
    capacity: Resources | None = None,
    concurrency: int | None = None,
) -> Plan:
    """The Plan of ``manifest`` run with ``params`` (already resolved and typed by the caller).

    ``capacity`` and ``concurrency`` apply when the manifest does not set them; when neither
    does, this machine's cores and memory are used. Raises PlanError (or CycleError) with
    every problem found.
    """
    return _Compiler(manifest, dict(params)).compile(capacity=capacity, concurrency=concurrency)


class _Compiler:
    def __init__(self, manifest: Manifest, params: dict[str, Any]) -> None:
        self.manifest = manifest
        self.params = params
        self.diagnostics: list[Diagnostic] = []
        self.cycles: list[tuple[str, ...]] = []
        every = (*manifest.tasks, *manifest.on_exit)
        self.index = {task.name: i for i, task in reversed(list(enumerate(every)))}
        self.prefix: dict[str, JsonPath] = {}
        for task in every:
            section = "onExit" if task.is_on_exit else "tasks"
            self.prefix.setdefault(task.name, ("spec", section, task.name))

    # -- the steps ---------------------------------------------------------------------------

    def compile(self, *, capacity: Resources | None, concurrency: int | None) -> Plan:
        m = self.manifest
        self._check_settings()
        main_graph, main_order = self._dag(m.tasks, other=m.on_exit, main=True)
        exit_graph, exit_order = self._dag(m.on_exit, other=m.tasks, main=False)
        main_up = dag.Ancestry(main_graph, main_order)
        exit_up = dag.Ancestry(exit_graph, exit_order)
        exits = {t.name for t in m.on_exit}

        def is_upstream(candidate: str, of: str) -> bool:
            ancestry = exit_up if of in exits else main_up
            return ancestry.is_upstream(candidate, of=of)

        checker = ExpressionChecker(m, is_upstream=is_upstream)
        for key, value in m.env.items():
            if "${{" in value:
                self._add_all(checker.check_plain(("spec", "env", key), value))
        combos = self._expand_all(checker)
        secrets: dict[str, tuple[str, ...]] = {}
        for task in (*m.tasks, *m.on_exit):
            found = checker.check_task(task, self.prefix[task.name])
            self._add_all(found.problems)
            for placed in found.placed:
                self._add(placed.path, placed.message, placed.hint, at=(placed.text, placed.offset))
            secrets[task.name] = self._task_secrets(task, found.secrets, checker)
        plan_capacity = m.capacity or capacity or machine_capacity()
        whose = (
            "spec.capacity's"
            if m.capacity
            else ("the given capacity's" if capacity else "this machine's")
        )
        if m.executor.type in SELF_PLACING_EXECUTORS:
            # The cluster places work by resources itself; no machine's ledger applies.
            plan_capacity = UNBOUNDED
        for task in (*m.tasks, *m.on_exit):
            self._check_capacity(task, plan_capacity, whose)
        self._raise_if_any()
        assert main_order is not None and exit_order is not None  # no cycles, or we raised
        builder = _Instances(self, combos, secrets)
        main = builder.tasks(m.tasks, main_graph, main_order)
        on_exit = builder.tasks(m.on_exit, exit_graph, exit_order)
        weight = {t.name: t.timeout or 1.0 for t in m.tasks}
        chain = dag.critical_path(main_graph, main_order, weight, self.index)
        used = set().union(*secrets.values()) if secrets else set()
        return Plan(
            workflow=m.name,
            manifest_path=os.path.abspath(m.source.path),
            manifest_digest=m.source.digest,
            params=_plain(self.params),
            tasks=main,
            levels=_levels(main),
            critical_path=tuple(builder.groups[name][0] for name in chain),
            groups=builder.groups,
            on_exit=on_exit,
            description=m.description,
            labels=dict(m.labels),
            env=dict(m.env),
            # A secret no task receives is not resolved at all: fewer reads of the vault,
            # and nothing to leak.
            secrets=tuple(
                SecretRequest(s.name, s.provider, s.options) for s in m.secrets if s.name in used
            ),
            withheld=withheld_variables(m.secrets),
            concurrency=m.concurrency or concurrency or machine_concurrency(),
            capacity=plan_capacity,
            gates=tuple(_gate(g) for g in m.gates),
            sinks=m.sinks,
            tracing=m.tracing,
            cost=m.cost,
            executor=m.executor,
            provenance=m.provenance,
            limits=m.limits,
        )

    def _dag(
        self, tasks: tuple[TaskSpec, ...], *, other: tuple[TaskSpec, ...], main: bool
    ) -> tuple[Any, list[str] | None]:
        if main:
            why = "it is an onExit task, which runs after every task: no task may need it"
        else:
            why = "onExit tasks run after every task of spec.tasks; they may need onExit tasks only"
        valid, problems = dag.check_needs(
            {t.name: t.needs for t in tasks}, elsewhere={t.name: why for t in other}
        )
        for problem in problems:
            self._add((*self.prefix[problem.task], "needs"), problem.message, problem.hint)
        graph = dag.build_dag(valid)
        cycles = dag.find_cycles(graph, self.index)
        for cycle in cycles:
            self._add(
                (*self.prefix[cycle[0]], "needs"),
                f"needs form a cycle: {' -> '.join(cycle)}",
                "each task in it needs the next: remove one of these needs",
            )
        self.cycles.extend(cycles)
        return graph, None if cycles else dag.topological_order(graph, self.index)

    def _expand_all(self, checker: ExpressionChecker) -> dict[str, list[dict[str, Any]]]:
        """Every task's instances, refusing a plan larger than spec.limits.instances before it
        is built (a matrix driven by a param could otherwise exhaust memory)."""
        m = self.manifest
        combos: dict[str, list[dict[str, Any]]] = {}
        total = 0
        for task in (*m.tasks, *m.on_exit):
            if total > m.limits.instances:
                combos[task.name] = []  # reported once, below; expand no further
                continue
            combos[task.name] = self._expand(task, checker)
            total += len(combos[task.name])
        if total > m.limits.instances:
            where: JsonPath = ("spec", "limits", "instances")
            if where not in m.source.positions:
                where = ("spec", "tasks")
            self._add(
                where,
                f"the plan has more than {m.limits.instances:,} task instances "
                f"(spec.limits.instances), counting every matrix",
                "shrink the matrices (or the params that drive them), or raise "
                "spec.limits.instances",
            )
        return combos

    def _expand(self, task: TaskSpec, checker: ExpressionChecker) -> list[dict[str, Any]]:
        if task.matrix is None:
            return [{}]
        prefix = (*self.prefix[task.name], "matrix")
        axes: list[tuple[str, tuple[Any, ...]]] = []
        ok = True
        for name, values in task.matrix.axes:
            if isinstance(values, str):
                evaluated = self._evaluate_axis((*prefix, name), values, checker)
                ok = ok and evaluated is not None
                axes.append((name, evaluated or ()))
            else:
                axes.append((name, tuple(values)))
        if not ok:
            return []
        limit = self.manifest.limits.matrix_instances
        count = combinations_at_most(axes, task.matrix.include)
        if count > limit:
            sizes = " x ".join(f"{name} {len(values)}" for name, values in axes)
            self._add(
                prefix,
                f"the matrix of task '{task.name}' has {count:,} combinations ({sizes}"
                f"{f' + {len(task.matrix.include)} include' if task.matrix.include else ''}), "
                f"more than spec.limits.matrixInstances ({limit:,})",
                "shrink its axes (or the params that drive them), or raise "
                "spec.limits.matrixInstances",
            )
            return []
        try:
            combos = expand_matrix(axes, include=task.matrix.include, exclude=task.matrix.exclude)
        except MatrixError as error:
            self._add((*prefix, "exclude"), str(error))
            return []
        if not combos:
            self._add(
                self.prefix[task.name],
                f"the matrix of task '{task.name}' expands to no combination",
                "check its axes and its exclude entries",
            )
        ids = Counter(instance_id(task.name, c) for c in combos)
        twice = [i for i, n in ids.items() if n > 1]
        if twice:
            self._add(
                prefix,
                f"the matrix of task '{task.name}' gives the same instance twice: {twice[0]}",
                "values must differ as text (1 and '1' do not)",
            )
        return combos

    def _evaluate_axis(
        self, path: JsonPath, text: str, checker: ExpressionChecker
    ) -> tuple[Any, ...] | None:
        from psr_engine import expressions

        text = as_expression(text)
        problems = checker.check_plain(path, text)
        if problems:
            self._add_all(problems)
            return None
        context = {
            "params": self.params,
            "env": dict(self.manifest.env),
            "workflow": {"name": self.manifest.name, "labels": dict(self.manifest.labels)},
        }
        found = _list_at(text, context)
        if found is not None:
            return found
        try:
            value = expressions.evaluate(text, context)
        except ExpressionError as error:
            self._add_all((path, d.message) for d in error.diagnostics)
            return None
        if not isinstance(value, list | tuple):
            self._add(
                path,
                f"matrix axis '{path[-1]}' must be a list, but {text.strip()} "
                f"gave {type(value).__name__} {value!r}",
                "give a list literal, or an expression whose value is a list (e.g. an array param)",
            )
            return None
        return tuple(value)

    def _task_secrets(
        self, task: TaskSpec, referenced: set[str], checker: ExpressionChecker
    ) -> tuple[str, ...]:
        """The secrets a task receives, in spec.secrets order.

        Least privilege: a task receives only the secrets it names, in its own expressions
        (command, args, env, with, when: ``referenced``) or in workflow env values it inherits,
        as shell references ``$NAME`` in shell code (see secret_refs), plus those it lists in
        ``secrets:``. It never receives the workflow's other secrets.
        """
        declared = [s.name for s in self.manifest.secrets]
        names = set(referenced) | set(task.secrets) | shell_references(task, declared)
        for key, value in self.manifest.env.items():
            if key not in task.env and "${{" in value:
                names |= checker.secrets_of(value)
        # A name spec.secrets does not declare is the builder's error; none gets here.
        return tuple(name for name in declared if name in names)

    def _check_capacity(self, task: TaskSpec, capacity: Resources, whose: str) -> None:
        """A request larger than the whole capacity: the task could never start. Reported at
        the task's own resources, or at spec.defaults' when it has none of its own."""
        where: JsonPath = (*self.prefix[task.name], "resources")
        if where not in self.manifest.source.positions:
            where = ("spec", "defaults", "resources")
        for field, message, hint in capacity_problems(
            task.name, task.resources, capacity, whose=whose
        ):
            self._add((*where, field), message, hint)

    def _check_settings(self) -> None:
        """Each sink's and the executor's own options, by the plug-in's validator (one
        registered beside its factory), and whether spec.cost can be priced."""
        from psr_engine import plugins

        m = self.manifest
        entries: list[tuple[JsonPath, str, PluginConfig]] = [
            (("spec", "sinks", index), "sinks", sink) for index, sink in enumerate(m.sinks)
        ]
        entries.append((("spec", "executor"), "executors", m.executor))
        for path, group, config in entries:
            for option, message in plugins.check_options(group, config.type, config.options):
                self._add((*path, option) if option else path, message)
        if m.cost is not None:
            for field, message in m.cost.problems():
                self._add(("spec", "cost", field) if field else ("spec", "cost"), message)

    # -- diagnostics -------------------------------------------------------------------------

    def _add(
        self, path: JsonPath, message: str, hint: str = "", *, at: tuple[str, int] | None = None
    ) -> None:
        """A diagnostic at the node ``path``, or at the character ``at`` = (the node's text,
        an offset in it)."""
        source = self.manifest.source
        where = source.position(path) if at is None else source.position_in(path, *at)
        self.diagnostics.append(
            Diagnostic(
                file=self.manifest.source.path,
                line=where.line,
                column=where.column,
                message=message,
                path=".".join(str(p) for p in path),
                hint=hint,
            )
        )

    def _add_all(self, problems: Any) -> None:
        for path, message in problems:
            self._add(path, message)

    def _raise_if_any(self) -> None:
        if not self.diagnostics:
            return
        found = sorted(self.diagnostics, key=lambda d: (d.line, d.column))
        if self.cycles:
            raise CycleError(found, cycle=list(self.cycles[0]))
        raise PlanError(found)


class _Instances:
    """Turns checked tasks into PlannedTasks, instance by instance, in topological order."""

    def __init__(
        self,
        compiler: _Compiler,
        combos: Mapping[str, list[dict[str, Any]]],
        secrets: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.compiler = compiler
        self.combos = combos
        self.secrets = secrets
        self.groups: dict[str, tuple[str, ...]] = {
            name: tuple(instance_id(name, c) for c in combos[name])
            for name in sorted(combos, key=compiler.index.__getitem__)
        }

    def tasks(
        self, specs: tuple[TaskSpec, ...], graph: Any, order: list[str]
    ) -> tuple[PlannedTask, ...]:
        by_name = {t.name: t for t in specs}
        level = dag.levels(graph, order)
        planned: list[PlannedTask] = []
        for name in order:
            task = by_name[name]
            # Shared by every instance of the task: one tuple and one dict, not thousands.
            needs = tuple(i for need in graph.predecessors(name) for i in self.groups[need])
            env = {**self.compiler.manifest.env, **task.env}
            common = self._common(task, env=env, needs=needs, level=level[name])
            for combo, task_id in zip(self.combos[name], self.groups[name], strict=True):
                planned.append(PlannedTask(id=task_id, matrix=_plain(combo), **common))
        return tuple(planned)

    def _common(
        self, task: TaskSpec, *, env: dict[str, str], needs: tuple[str, ...], level: int
    ) -> dict[str, Any]:
        position = self.compiler.manifest.source.position(self.compiler.prefix[task.name])
        return {
            "task": task.name,
            "kind": task.kind,
            "command": task.command,
            "args": tuple(task.args),
            "shell": task.shell,
            "interpreter": task.interpreter,
            "with_": _plain(task.with_),
            "gate": None if task.gate is None else _gate(task.gate),
            "needs": needs,
            "when": task.when,
            "trigger": task.trigger,
            "env": env,
            "secrets": self.secrets[task.name],
            "workdir": task.workdir,
            "timeout": task.timeout,
            "kill_grace": task.kill_grace,
            "retries": task.retries,
            "resources": task.resources,
            "max_parallel": task.max_parallel,
            "continue_on_error": task.continue_on_error,
            "outputs": tuple(task.outputs),
            "inputs": tuple(task.inputs),
            "artifacts": tuple(task.artifacts),
            "cache": None
            if task.cache is None
            else {"inputs": tuple(task.cache.inputs), "outputs": tuple(task.cache.outputs)},
            "labels": dict(task.labels),
            "level": level,
            "on_exit": task.is_on_exit,
            "line": position.line,
        }


def _levels(tasks: tuple[PlannedTask, ...]) -> tuple[tuple[str, ...], ...]:
    by_level: dict[int, list[str]] = {}
    for task in tasks:
        by_level.setdefault(task.level, []).append(task.id)
    return tuple(tuple(by_level[i]) for i in sorted(by_level))


def _gate(gate: GateSpec) -> PlannedGate:
    return PlannedGate(
        name=gate.name,
        type=gate.type,
        fail_on=gate.fail_on,
        paths=tuple(gate.paths),
        tools=tuple(gate.tools),
        requirements=tuple(gate.requirements),
        baseline=gate.baseline,
        sarif=gate.sarif,
        options=gate.options,
    )


def _plain(value: Any) -> Any:
    """Dicts and lists all the way down: what JSON gives back, so a Plan round-trips equal."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _list_at(text: str, context: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The list a matrix axis names, when the axis is one name path (``${{ params.regions }}``)
    and every key of it is in the mappings: what Jinja's evaluation gives then, without
    importing Jinja. None for anything else, which Jinja evaluates (and explains)."""
    from psr_engine.expressions import simple
    from psr_engine.expressions.scan import Expr, split

    try:
        parts = [p for p in split(text) if not (isinstance(p, str) and not p.strip())]
    except ExpressionError:
        return None
    tree = simple.parse(parts[0].source) if len(parts) == 1 and isinstance(parts[0], Expr) else None
    path = simple.path_of(tree) if tree is not None else None
    if path is None:
        return None
    value: Any = context
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return tuple(value) if isinstance(value, list | tuple) else None
