"""WorkflowEngine: runs a Plan and streams its events. One async core; `run_sync` wraps it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from psr_engine import expressions
from psr_engine.errors import PsrError, StateNotWritable
from psr_engine.events.bus import EventBus, Sink
from psr_engine.events.hooks import AttemptEnvHook, RunTraceHook
from psr_engine.events.model import Event
from psr_engine.executors.base import Connectable, Executor
from psr_engine.plan.model import Plan, PlannedGate, PlannedTask, SecretRequest
from psr_engine.run import attempt as attempts
from psr_engine.run.context import build_context
from psr_engine.run.gating import GateOutcome, GateRunner
from psr_engine.run.hooks import TaskEndHook
from psr_engine.run.masking import event_masker, run_masker
from psr_engine.run.results import TaskResult, WorkflowResult
from psr_engine.run.scheduler import Scheduler
from psr_engine.run.shared import RunShared
from psr_engine.run.subworkflows import NestedSink, check_depth, render_inputs
from psr_engine.status import RunStatus
from psr_engine.store.paths import run_dir as run_folder
from psr_engine.store.paths import state_dir_for_manifest
from psr_engine.store.private import make_private_dirs, tighten

if TYPE_CHECKING:
    from psr_engine.secrets.masker import Masker

SecretsResolver = Callable[[Sequence[SecretRequest]], Awaitable[Mapping[str, str]]]
# (path of a child manifest, its params) -> its Plan. Given by the facade, which knows the
# manifest stage: the runtime itself never reads manifests.
PlanLoader = Callable[[str, Mapping[str, Any]], Plan]


@dataclass(frozen=True, slots=True)
class ExecutionOrder:
    """Task ids by level: every task's needs are in earlier levels."""

    levels: tuple[tuple[str, ...], ...]

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(task for level in self.levels for task in level)


def new_run_id() -> str:
    """Sortable and readable: 20261126-134511-a3f9c2."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{os.urandom(3).hex()}"  # what secrets.token_hex does, without its imports


class WorkflowEngine:
    def __init__(
        self,
        *,
        executor: Executor | None = None,
        sinks: Iterable[Sink] = (),
        state_dir: str | None = None,
        environ: Mapping[str, str] | None = None,
        secrets_resolver: SecretsResolver | None = None,
        plan_loader: PlanLoader | None = None,
        handle_signals: bool = False,
        concurrency: int | None = None,
        log_events: bool = False,
        gate_runner: GateRunner | None = None,
        task_hooks: Sequence[TaskEndHook] = (),
        masked: Iterable[str] = (),
        run_dir: str | None = None,
        lineage: Sequence[str] = (),
        depth_limit: int | None = None,
    ) -> None:
        """``masked``: values masked on top of the run's own secrets. A sub-workflow's engine
        gets every value its parent masks: masking is per run tree, so a parent secret passed
        through ``with:`` is masked in the child's logs and events too.

        ``run_dir``: the folder the run's logs and outputs go in, instead of the state folder's
        `runs/<run id>`; a sub-workflow's engine gets a sub-folder of its parent's.

        ``lineage``: the workflows above this one (a sub-workflow's), root first, and
        ``depth_limit`` the root's spec.limits.workflowDepth, which holds for the whole tree."""
        self._executor = executor
        self._sinks = list(sinks)
        self._state_dir = state_dir
        self._environ = dict(os.environ if environ is None else environ)
        self._masked = tuple(masked)
        self._run_dir = run_dir
        self._lineage = tuple(lineage)
        self._depth_limit = depth_limit
        self._resolve_secrets = secrets_resolver
        self._plan_loader = plan_loader
        self._handle_signals = handle_signals
        self._concurrency = concurrency
        self._gate_runner = gate_runner
        self._task_hooks = tuple(task_hooks)
        # task.log events cost a pipe and a line split per task: only when asked for.
        self._log_events = log_events
        self.bus = EventBus(self._sinks)
        self.interrupted: int | None = None
        self._current: tuple[Scheduler, anyio.CancelScope] | None = None
        self._stopped_by: str | None = None

    # -- the public surface ------------------------------------------------------------------

    async def run(
        self,
        plan: Plan,
        *,
        run_id: str | None = None,
        reuse: Mapping[str, TaskResult] | None = None,
    ) -> WorkflowResult:
        """Run the plan. `reuse` (resume): results of an earlier run's succeeded tasks, which
        are recorded with their outputs and not run again."""
        executor = self._executor or _executor_for(plan)
        if isinstance(executor, Connectable):
            # Before anything is recorded: an unreachable cluster is a setting to fix (exit 2).
            try:
                await executor.connect()
            except BaseException:
                if self._executor is None:
                    with anyio.CancelScope(shield=True):
                        await executor.aclose()
                raise
        run_id = run_id or new_run_id()
        secret_values = await self._secrets(plan)
        masker = run_masker(secret_values, self._masked)
        self.bus.set_mask(
            event_masker(masker), text=masker.mask_text if masker is not None else None
        )
        # Commit, then announce: a run whose history cannot be written stops, rather than
        # running on with nothing recorded (and a resume that would run it all again).
        self.bus.on_durable_failure(lambda: self.stop(_HISTORY_STOPPED))
        await self.bus.start()
        try:
            return await self._execute(plan, run_id, executor, secret_values, masker, reuse or {})
        finally:
            with anyio.CancelScope(shield=True):
                await self.bus.aclose()
                if self._executor is None:
                    await executor.aclose()
            if self.bus.durable_failed:
                raise StateNotWritable(_history_failed(self.bus.durable_error)) from None

    async def refuse(self, plan: Plan, *, reason: str, run_id: str | None = None) -> WorkflowResult:
        """Record a run refused before it starts (a `fail` budget the projection is over): it
        begins and ends `blocked` with `reason`, nothing resolved, connected or started, as a
        run a gate blocks is recorded."""
        run_id = run_id or new_run_id()
        started = time.time()
        await self.bus.start()
        try:
            self.bus.emit(_run_started(plan, run_id, started, **self._trace()))
            return self._blocked(plan, run_id, started, reason, {"counts": {}})
        finally:
            with anyio.CancelScope(shield=True):
                await self.bus.aclose()

    def _trace(self) -> dict[str, str]:
        """run.started's `traceId` when the run is traced: a sink that traces draws the id
        now, so the run's spans and its history record the same."""
        for sink in self._sinks:
            if isinstance(sink, RunTraceHook):
                trace_id = sink.run_trace_id()
                if trace_id:
                    return {"traceId": trace_id}
        return {}

    def stop(self, reason: str) -> None:
        """Stop the run from inside (a budget sink, say): nothing more starts, running attempts
        are killed, every task not ended is cancelled with this reason, onExit still runs.
        Call it from the run's event loop (sinks' emit is)."""
        if self._current is not None:
            scheduler, scope = self._current
            self._stopped_by = reason
            scheduler.stop(reason)
            scope.cancel()

    def run_sync(self, plan: Plan, **options: Any) -> WorkflowResult:
        out: list[WorkflowResult] = []

        async def main() -> None:
            # Not the main task's result: asyncio's runner formats that (repr and all) into
            # a message it discards when it puts SIGINT's handler back (api.run says more).
            out.append(await self.run(plan, **options))

        anyio.run(main)
        return out[0]

    async def stream_events(self, plan: Plan) -> AsyncIterator[Event]:
        """Run the plan, yielding every event as it happens (after masking)."""
        send, receive = anyio.create_memory_object_stream[Event](max_buffer_size=10_000)
        unlisten = self.bus.listen(send.send_nowait)

        async def _drive() -> None:
            try:
                await self.run(plan)
            finally:
                unlisten()
                send.close()

        async with anyio.create_task_group() as tg:
            tg.start_soon(_drive)
            async with receive:
                async for event in receive:
                    yield event

    def resolve_dependencies(self, tasks: Sequence[PlannedTask]) -> ExecutionOrder:
        """Levels by Kahn's algorithm over the tasks' needs (needs outside `tasks` ignored)."""
        from psr_engine.errors import CycleError

        ids = {t.id for t in tasks}
        remaining = {t.id: {n for n in t.needs if n in ids} for t in tasks}
        levels: list[tuple[str, ...]] = []
        while remaining:
            level = tuple(t.id for t in tasks if t.id in remaining and not remaining[t.id])
            if not level:
                raise CycleError("tasks depend on each other in a cycle", sorted(remaining))
            levels.append(level)
            for task_id in level:
                del remaining[task_id]
            for needs in remaining.values():
                needs.difference_update(level)
        return ExecutionOrder(tuple(levels))

    async def execute_parallel(
        self, tasks: Sequence[PlannedTask], *, plan: Plan | None = None
    ) -> list[TaskResult]:
        """Run the given tasks at once (their needs among them still respected)."""
        base = plan or Plan(
            workflow="adhoc",
            manifest_path=os.path.join(os.getcwd(), "adhoc"),
            manifest_digest="",
            params={},
            tasks=(),
        )
        ids = {t.id for t in tasks}
        chosen = tuple(replace(t, needs=tuple(n for n in t.needs if n in ids)) for t in tasks)
        groups: dict[str, tuple[str, ...]] = {}
        for task in chosen:
            groups[task.task] = (*groups.get(task.task, ()), task.id)
        result = await self.run(replace(base, tasks=chosen, on_exit=(), groups=groups))
        return [result.tasks[t.id] for t in chosen]

    # -- one run ----------------------------------------------------------------------------

    async def _secrets(self, plan: Plan) -> dict[str, str]:
        if plan.withheld or self._masked:
            # Before any value is fetched or any task runs: tasks must not read the engine's
            # memory or its environment (where an env secret sits) through /proc.
            from psr_engine.secrets.process import protect_process

            protect_process()
        if not plan.secrets:
            return {}
        resolver = self._resolve_secrets or _resolve_with_providers
        return dict(await resolver(plan.secrets))

    async def _execute(
        self,
        plan: Plan,
        run_id: str,
        executor: Executor,
        secret_values: Mapping[str, str],
        masker: Masker | None,
        reuse: Mapping[str, TaskResult],
    ) -> WorkflowResult:
        started = time.time()
        state_dir = os.path.abspath(
            self._state_dir or state_dir_for_manifest(plan.manifest_path, environ=self._environ)
        )
        run_dir = self._run_dir or run_folder(state_dir, run_id)
        try:
            make_private_dirs(run_dir)
        except OSError as error:
            raise StateNotWritable(_not_writable(state_dir, error.strerror or str(error))) from None
        # A state folder an older version created world-readable: closed from now on.
        tighten(state_dir)
        tighten(os.path.dirname(run_dir))
        name_key = os.urandom(16)
        mask = masker.mask_text if masker is not None else None
        run_info: dict[str, Any] = {"id": run_id, "status": "running", "startedAt": started}
        # spec.env, rendered once for the run (it may read params and secrets only); tasks
        # that inherit a value unchanged take it from here (attempt.env_for).
        workflow_context = {"params": plan.params, "secrets": secret_values, "env": {}}
        env = {k: expressions.render(v, workflow_context) for k, v in plan.env.items()}
        results: dict[str, TaskResult] = {}
        # Least privilege: no task inherits a secret from the engine's own environment (the env
        # provider's variable, say); a granted task gets it under its name from env_for. A
        # sub-workflow starts from this same reduced environment.
        withheld = set(plan.withheld)
        base_env = {k: v for k, v in self._environ.items() if k not in withheld}
        context = build_context(plan, run=run_info, results=results, secrets=secret_values, env=env)
        shared = RunShared(
            run_id=run_id,
            run_dir=run_dir,
            state_dir=state_dir,
            executor=executor,
            emit=self.bus.emit,
            context=context,
            base_env=base_env,
            secrets=secret_values,
            output_filter=masker,
            filter_window=masker.window if masker is not None else 0,
            mask=mask,
            name_key=name_key,
            run_subworkflow=self._subworkflow_runner(
                run_id,
                base_env,
                masker.values if masker is not None else (),
                folder=lambda task_id: os.path.join(
                    run_dir, attempts.workflow_folder(task_id, mask=mask, key=name_key)
                ),
                lineage=(*self._lineage, plan.workflow),
                depth_limit=self._depth_limit or plan.limits.workflow_depth,
            ),
            run_gate=(lambda gate: self._gate(gate, run_id, plan.workflow)),
            attempt_env=[s for s in self._sinks if isinstance(s, AttemptEnvHook)],
            task_hooks=self._task_hooks,
            stop_run=self.stop,
            workflow_env=plan.env,
            log_events=self._log_events,
        )
        self.bus.emit(_run_started(plan, run_id, started, runDir=run_dir, **self._trace()))
        # The run is on disk before any of it happens: a run killed from here on is found
        # (crashed, resumable, its raw files swept), never a run nobody knows of.
        await self.bus.settled()
        if self.bus.durable_failed:  # no task starts unrecorded (run() says why)
            raise StateNotWritable(_history_failed(None))
        if plan.gates:
            outcomes = await self._run_gates(plan, run_id)
            if not all(o.passed for o in outcomes):
                return self._finish_blocked(plan, run_id, started, outcomes)
        concurrency = self._concurrency or plan.concurrency
        main = Scheduler(
            plan,
            plan.tasks,
            shared,
            results,
            concurrency=concurrency,
            capacity=plan.capacity,
            workflow=plan.workflow,
            reuse=reuse,
        )
        await self._run_scheduler(main)
        main.cancel_pending(shared.stop_reason or "interrupted")
        status = self._status(results)
        run_info["status"] = status
        if plan.on_exit:
            # onExit runs whatever happened, even after an interrupt; a second interrupt
            # (or SIGTERM) stops it too.
            shared.stopping = False
            on_exit = Scheduler(
                plan,
                plan.on_exit,
                shared,
                results,
                concurrency=concurrency,
                capacity=plan.capacity,
                workflow=plan.workflow,
            )
            await self._run_scheduler(on_exit)
            on_exit.cancel_pending("interrupted")
        counts: dict[str, int] = {}
        for result in results.values():
            counts[result.status] = counts.get(result.status, 0) + 1
        return self._finished(
            WorkflowResult(
                run_id=run_id,
                workflow=plan.workflow,
                status=status,
                started_at=started,
                ended_at=time.time(),
                tasks=dict(results),
                reason=shared.stop_reason,
            ),
            {"counts": counts},
        )

    def _finished(self, result: WorkflowResult, data: dict[str, Any]) -> WorkflowResult:
        """The run's last event, run.finished, then its result."""
        self.bus.emit(
            Event(
                "run.finished",
                result.run_id,
                result.workflow,
                ts=result.ended_at,
                status=result.status,
                reason=result.reason,
                duration_s=round(result.duration, 6),
                data=data,
            )
        )
        return result

    async def _run_gates(self, plan: Plan, run_id: str) -> list[GateOutcome]:
        """spec.gates, all at once, before any task."""
        outcomes: list[GateOutcome] = []

        async def one(gate: PlannedGate) -> None:
            outcomes.append(await self._gate(gate, run_id, plan.workflow))

        async with anyio.create_task_group() as tg:
            for gate in plan.gates:
                tg.start_soon(one, gate)
        order = {g.name: i for i, g in enumerate(plan.gates)}
        return sorted(outcomes, key=lambda o: order[o.name])

    async def _gate(self, gate: PlannedGate, run_id: str, workflow: str) -> GateOutcome:
        self.bus.emit(
            Event(
                "gate.started",
                run_id,
                workflow,
                task=gate.name,
                status="running",
                # The scanners it names (the console shows them while the gate runs).
                data={"type": gate.type, "failOn": gate.fail_on, "tools": list(gate.tools)},
            )
        )
        if self._gate_runner is None:
            outcome = GateOutcome(gate.name, "error", message="this engine has no gate runner")
        else:
            try:
                outcome = await self._gate_runner(gate)
            except PsrError as error:
                outcome = GateOutcome(gate.name, "error", message=str(error))
        self.bus.emit(
            Event(
                "gate.finished",
                run_id,
                workflow,
                task=gate.name,
                status=outcome.status,
                message=outcome.message,
                duration_s=round(outcome.duration, 6),
                data=outcome.event_data(),
            )
        )
        return outcome

    def _finish_blocked(
        self, plan: Plan, run_id: str, started: float, outcomes: list[GateOutcome]
    ) -> WorkflowResult:
        """A gate blocked (or could not run): no task starts, the run ends `blocked`."""
        failing = [o.name for o in outcomes if not o.passed]
        return self._blocked(
            plan,
            run_id,
            started,
            f"blocked by gate {', '.join(failing)}",
            {"counts": {}, "gates": [o.event_data() for o in outcomes]},
        )

    def _blocked(
        self, plan: Plan, run_id: str, started: float, reason: str, data: dict[str, Any]
    ) -> WorkflowResult:
        """A run that ends `blocked` before any task starts (a gate, a `fail` budget)."""
        return self._finished(
            WorkflowResult(
                run_id=run_id,
                workflow=plan.workflow,
                status="blocked",
                started_at=started,
                ended_at=time.time(),
                tasks={},
                reason=reason,
            ),
            data,
        )

    async def _run_scheduler(self, scheduler: Scheduler) -> None:
        async with anyio.create_task_group() as tg:
            self._current = (scheduler, tg.cancel_scope)
            if self._handle_signals:
                tg.start_soon(self._watch_signals, scheduler, tg.cancel_scope)
            await scheduler.execute()
            tg.cancel_scope.cancel()
        self._current = None

    async def _watch_signals(self, scheduler: Scheduler, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self.interrupted = signum
                # Stop dispatching first, so nothing new starts while the scope unwinds.
                scheduler.stop("interrupted")
                scope.cancel()
                return

    def _status(self, results: Mapping[str, TaskResult]) -> RunStatus:
        if self.interrupted is not None:
            return "cancelled"
        if self._stopped_by is not None:
            return "failed"
        if any(not r.ok for r in results.values() if not r.on_exit):
            return "failed"
        return "succeeded"

    def _subworkflow_runner(
        self,
        run_id: str,
        environ: Mapping[str, str],
        masked: tuple[str, ...],
        *,
        folder: Callable[[str], str],
        lineage: tuple[str, ...],
        depth_limit: int,
    ) -> Callable[..., Awaitable[WorkflowResult]]:
        async def run_child(task: PlannedTask, context: Mapping[str, Any]) -> WorkflowResult:
            if self._plan_loader is None:
                from psr_engine.errors import ExecutionError

                raise ExecutionError("this engine was built without a plan loader")
            check_depth(task, lineage, depth_limit)
            params = render_inputs(task.with_, context)
            child_plan = self._plan_loader(task.command, params)
            child = WorkflowEngine(
                executor=self._executor,
                sinks=[
                    NestedSink(
                        self.bus,
                        task.id,
                        [s for s in self._sinks if isinstance(s, AttemptEnvHook)],
                    )
                ],
                state_dir=self._state_dir,
                environ=environ,
                secrets_resolver=self._resolve_secrets,
                plan_loader=self._plan_loader,
                concurrency=self._concurrency,
                gate_runner=self._gate_runner,
                masked=masked,
                run_dir=folder(task.id),
                lineage=lineage,
                depth_limit=depth_limit,
            )
            return await child.run(child_plan, run_id=f"{run_id}")

        return run_child


async def _resolve_with_providers(requests: Sequence[SecretRequest]) -> Mapping[str, str]:
    from psr_engine.secrets import SecretRef, resolve_all

    values: Mapping[str, str] = await resolve_all(
        [SecretRef(r.name, r.provider, r.options) for r in requests]
    )
    return values


def _executor_for(plan: Plan) -> Executor:
    """The executor `spec.executor` names (local by default), built with its options."""
    from psr_engine.errors import ExecutionError, ManifestError
    from psr_engine.executors import get_executor

    try:
        return get_executor(plan.executor.type, **plan.executor.options)
    except ExecutionError as error:  # a manifest naming what is not here is bad input: exit 2
        raise ManifestError(f"{plan.manifest_path}: spec.executor: {error}") from None


def _run_started(plan: Plan, run_id: str, started: float, **extra: Any) -> Event:
    """run.started, for a run that goes ahead and for one refused before it starts."""
    data = {
        "tasks": len(plan.tasks),
        "onExit": len(plan.on_exit),
        "params": plan.params,
        "labels": plan.labels,
        "manifest": plan.manifest_path,
        **extra,
    }
    return Event("run.started", run_id, plan.workflow, ts=started, status="running", data=data)


def _not_writable(state_dir: str, why: str) -> str:
    return (
        f"the state folder {state_dir} cannot be written ({why}): psr-engine records every "
        "run there. Make it writable or free some space, or point $PSR_STATE_DIR at a folder "
        "that is; `runs`, `status` and `logs` still read it as it is"
    )


_HISTORY_STOPPED = "the run history could not be written"


def _history_failed(error: BaseException | None) -> str:
    why = f" ({error})" if error is not None else ""
    return (
        f"the run history could not be written{why}, so the run was stopped there: what it "
        "recorded stands, tasks whose end it could not record count as crashed. Free some "
        "space (or make the state folder writable), then `psr-engine apply --resume last`"
    )
