"""The scheduler of one run: starts each task as soon as its needs have ended and its trigger
holds, within concurrency, maxParallel and the cpu/memory capacity, and reacts to completions
(no polling).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import os
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import anyio

from psr_engine import expressions
from psr_engine.errors import ExpressionError, PsrError
from psr_engine.events.model import Event, EventType
from psr_engine.executors.base import ProcessResult, ProcessSpec, ShipsFiles
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.run import attempt as attempts
from psr_engine.run import cache
from psr_engine.run.context import for_task
from psr_engine.run.files import attempt_files, undelivered
from psr_engine.run.outputs import take_outputs
from psr_engine.run.results import TaskResult
from psr_engine.run.shared import RunShared
from psr_engine.run.triggers import Outcome, decide
from psr_engine.status import TaskStatus
from psr_engine.units import Resources

if TYPE_CHECKING:
    pass


@dataclass(slots=True)
class _Progress:
    """What one task has accumulated over its attempts so far."""

    attempts: int = 0
    started_at: float | None = None
    duration: float = 0.0  # summed over attempts
    last_attempt: float | None = None  # the duration of the latest attempt alone
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    max_rss: int = 0
    exit_code: int | None = None
    logs: list[str] = field(default_factory=list)
    cache_key: str | None = None


# How a task the engine carries out itself ended: (status, reason, message).
_Ending = tuple[TaskStatus, str | None, str | None]


class Scheduler:
    def __init__(
        self,
        plan: Plan,
        tasks: Sequence[PlannedTask],
        shared: RunShared,
        results: dict[str, TaskResult],
        *,
        concurrency: int,
        capacity: Resources,
        workflow: str,
        reuse: Mapping[str, TaskResult] | None = None,
    ) -> None:
        self.plan = plan
        self.shared = shared
        # Asked once: isinstance with a runtime-checkable Protocol costs ~10 us a call.
        executor = shared.executor
        self._shipper = executor if isinstance(executor, ShipsFiles) else None
        self.results = results
        self.workflow = workflow
        self.tasks = {t.id: t for t in tasks}
        self.order = {t.id: i for i, t in enumerate(tasks)}
        self.concurrency = max(1, concurrency)
        self.free = capacity
        self.waiting = {t.id: sum(1 for n in t.needs if n in self.tasks) for t in tasks}
        self.dependents: dict[str, list[str]] = {t.id: [] for t in tasks}
        for t in tasks:
            for need in t.needs:
                if need in self.dependents:
                    self.dependents[need].append(t.id)
        self.progress = {t.id: _Progress() for t in tasks}
        self.ready: list[tuple[int, str]] = []
        self.running = 0
        self.group_running: Counter[str] = Counter()
        self.ended = 0
        self.done = anyio.Event()
        self._tg: anyio.abc.TaskGroup | None = None
        # Resume: succeeded tasks of an earlier run, recorded as they were, never run again.
        self.reuse = {k: v for k, v in (reuse or {}).items() if k in self.tasks}

    # -- the loop ------------------------------------------------------------------------

    async def execute(self) -> None:
        if not self.tasks:
            return
        async with anyio.create_task_group() as tg:
            self._tg = tg
            for task_id, count in self.waiting.items():
                if count == 0 and task_id not in self.reuse:
                    heapq.heappush(self.ready, (self.order[task_id], task_id))
            for task_id in sorted(self.reuse, key=self.order.__getitem__):
                self._reuse(task_id, self.reuse[task_id])
            self._dispatch()
            await self.done.wait()

    def stop(self, reason: str) -> None:
        """Start nothing more; what runs goes on (budget) unless the caller cancels it."""
        self.shared.stopping = True
        self.shared.stop_reason = reason

    def cancel_pending(self, reason: str) -> None:
        """After a stop: every task that never ended is cancelled, with the stop's reason."""
        for task_id in self.tasks:
            if task_id not in self.results:
                self._record(task_id, "cancelled", reason)

    def _dispatch(self, *, keep: bool = False) -> PlannedTask | None:
        """Start what is ready, within the limits. `keep`: the first task picked is returned,
        for the caller to run in its own asyncio task (a slot whose attempt just ended) rather
        than in a new one: starting an asyncio task per attempt cost more than the rest of
        the dispatch."""
        if self.shared.stopping or self._tg is None:
            return None
        kept: PlannedTask | None = None
        blocked: list[tuple[int, str]] = []
        while self.ready and self.running < self.concurrency:
            item = heapq.heappop(self.ready)
            task = self.tasks[item[1]]
            if not self._fits(task):
                blocked.append(item)
                continue
            if self.progress[task.id].attempts == 0 and task.when and not self._condition(task):
                continue
            self.running += 1
            self.group_running[task.task] += 1
            self.free = self.free - task.resources
            if keep and kept is None:
                kept = task
            else:
                self._tg.start_soon(self._slot, task)
        for item in blocked:
            heapq.heappush(self.ready, item)
        return kept

    async def _slot(self, task: PlannedTask | None) -> None:
        """Attempts one after another: when one ends, the next ready task runs here."""
        while task is not None:
            try:
                await self._attempt(task)
            except BaseException:
                self._dispatch()
                raise
            task = self._dispatch(keep=True)

    async def _cached(self, task: PlannedTask) -> bool:
        """`cache`: unchanged inputs since the last success -> succeeded (cached), not run.

        The key reads every input file: in a worker thread, so that a large input (or a
        large tree) never holds the event loop, and Ctrl-C or SIGTERM stops the run at once."""
        try:
            argv = attempts.argv_for(task, self._context(task))
        except (ValueError, ExpressionError):
            return False  # let the task run and say what is wrong
        state_dir = self.shared.state_dir
        stopped = threading.Event()  # set when the run is interrupted: the thread stops reading

        def probe() -> tuple[str | None, dict[str, str] | None]:
            try:
                key = cache.cache_key(task, argv, stop=stopped.is_set)
            except (OSError, ValueError):  # InterruptedError is an OSError
                return None, None
            if not cache.outputs_present(task):
                return key, None
            return key, cache.lookup(state_dir, task, key)

        try:
            key, outputs = await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            stopped.set()
            self._release(task)
            self._record(task.id, "cancelled", self.shared.stop_reason or "interrupted")
            raise
        self.progress[task.id].cache_key = key
        if outputs is None:
            return False
        self._release(task)
        self._finish(task.id, "succeeded", "cached", outputs=outputs)
        return True

    def _fits(self, task: PlannedTask) -> bool:
        if task.max_parallel is not None and self.group_running[task.task] >= task.max_parallel:
            return False
        return task.resources.fits_in(self.free)

    def _release(self, task: PlannedTask) -> None:
        self.running -= 1
        self.group_running[task.task] -= 1
        self.free = self.free + task.resources

    def _condition(self, task: PlannedTask) -> bool:
        """`when`, evaluated just before the first attempt; false -> skipped (condition)."""
        try:
            if expressions.evaluate_condition(task.when or "", self._context(task)):
                return True
            self._finish(task.id, "skipped", "condition")
        except ExpressionError as error:
            self._finish(task.id, "failed", "expression", message=str(error))
        return False

    # -- attempts ------------------------------------------------------------------------

    async def _attempt(self, task: PlannedTask) -> None:
        progress = self.progress[task.id]
        if progress.attempts == 0 and task.cache:
            try:
                if await self._cached(task):
                    return
            finally:
                if task.id in self.results:  # cached (or cancelled): its slot is free again
                    self._dispatch()
        progress.attempts += 1
        progress.last_attempt = 0.0  # until it ends, or is cancelled (_charge_cancelled)
        number = progress.attempts
        if progress.started_at is None:
            progress.started_at = time.time()
        if task.kind in ("workflow", "gate"):
            work = self._subworkflow if task.kind == "workflow" else self._gate
            await self._in_process(task, number, work)
            return
        try:
            spec = self._spec(task, number)
        except (ExpressionError, ValueError) as error:
            self._release(task)
            self._finish(task.id, "failed", "expression", message=str(error))
            return
        if self._shipper is not None and self._shipper.ships_files():
            try:
                spec = replace(spec, files=attempt_files(task, self._upstream(task)))
            except (OSError, ValueError) as error:
                self._release(task)
                self._finish(task.id, "failed", "inputs", message=f"task {task.id}: {error}")
                return
        self._emit("task.started", task, attempt=number, status="running", log_path=spec.log_path)
        if self.shared.attempt_env:
            # spec.env is the fresh dict _spec built for this attempt: added to in place
            # (a copy per attempt is measurable when tracing 1,000 tasks).
            env = cast(dict[str, str], spec.env)
            for hook in self.shared.attempt_env:
                env.update(hook.attempt_env(task_id=task.id, attempt=number))
        began = time.monotonic()
        out_path = spec.env["PSR_OUTPUT"]
        try:
            result = await self.shared.executor.run(spec)
        except anyio.get_cancelled_exc_class():
            _discard(out_path)  # the raw file goes on every path, read or not
            self._release(task)
            if not progress.last_attempt:  # the executor did not say what it cost
                self._charge_cancelled(task.id, None, time.monotonic() - began)
            progress.logs.append(spec.log_path)
            self._record(task.id, "cancelled", self.shared.stop_reason or "interrupted")
            raise
        except PsrError as error:  # the executor could not run it: the task says why
            _discard(out_path)
            self._release(task)
            self._finish(task.id, "failed", "executor", message=str(error))
            return
        except BaseException:
            _discard(out_path)
            raise
        self._release(task)
        self._after_attempt(task, number, spec, result)

    def _spec(self, task: PlannedTask, number: int) -> ProcessSpec:
        context = self._context(task)
        stem = os.path.join(
            self.shared.run_dir,
            attempts.log_stem(task.id, number, mask=self.shared.mask, key=self.shared.name_key),
        )
        extra = {
            "PSR_RUN_ID": self.shared.run_id,
            "PSR_WORKFLOW": self.workflow,
            "PSR_TASK": task.id,
            "PSR_TASK_NAME": task.task,
            "PSR_ATTEMPT": str(number),
            "PSR_OUTPUT": stem + ".out",
        }
        env = attempts.env_for(
            task,
            context,
            base=self.shared.base_env,
            secrets=self.shared.secrets,
            extra=extra,
            workflow_env=self.shared.workflow_env,
        )
        argv = attempts.argv_for(task, context)
        cwd = task.workdir or os.path.dirname(self.plan.manifest_path)
        direct = attempts.direct_argv(task, argv, env)
        if direct is not None:
            attempts.as_bash_would(env, cwd, direct[0])
        return ProcessSpec(
            argv=argv,
            direct=direct,
            env=env,
            cwd=cwd,
            log_path=stem + ".log",
            timeout=task.timeout,
            kill_grace=task.kill_grace,
            output_filter=self.shared.output_filter,
            filter_window=self.shared.filter_window,
            on_line=self._line_emitter(task, number) if self.shared.log_events else None,
            on_cancelled=functools.partial(self._charge_cancelled, task.id),
            private_files=(env["PSR_OUTPUT"],),
            resources=task.resources,
            labels=task.labels,
        )

    def _after_attempt(
        self, task: PlannedTask, number: int, spec: ProcessSpec, result: ProcessResult
    ) -> None:
        progress = self.progress[task.id]
        progress.duration += result.duration
        progress.last_attempt = result.duration
        progress.cpu_user += result.cpu_user
        progress.cpu_sys += result.cpu_sys
        progress.max_rss = max(progress.max_rss, result.max_rss)
        progress.exit_code = result.exit_code if result.lost is None else None
        progress.logs.append(spec.log_path)
        status: TaskStatus = "succeeded"
        reason: str | None = None
        message: str | None = None
        outputs: dict[str, str] = {}
        if result.lost is not None:
            status, reason, message = "failed", result.lost, result.detail
        elif result.timed_out:
            status, reason = "timed_out", "timeout"
        elif result.exit_code != 0:
            status, reason, message = "failed", f"exit code {result.exit_code}", result.detail
        try:  # read only after a success; removed either way (take_outputs says why)
            if not result.private_files_gone:  # else the executor found it empty, removed it
                outputs = take_outputs(spec.env["PSR_OUTPUT"], read=status == "succeeded")
        except ValueError as error:
            status, reason, message = "failed", "outputs", f"$PSR_OUTPUT: {error}"
        else:
            if status == "succeeded":
                status, reason, message = undelivered(task, outputs)
        if status != "succeeded" and attempts.should_retry(task, number, result):
            delay = attempts.retry_delay(task, number)
            self._emit(
                "task.retrying",
                task,
                attempt=number,
                status="retrying",
                reason=reason,
                exit_code=progress.exit_code,
                message=message,
                duration_s=result.duration,
                attempt_duration_s=result.duration,
                log_path=spec.log_path,
                data={"delayS": round(delay, 3)},
            )
            assert self._tg is not None
            self._tg.start_soon(self._requeue_after, task, delay)
            return
        key = progress.cache_key
        if status == "succeeded" and task.cache and key is not None:
            cache.record(self.shared.state_dir, task, key, outputs, mask=self.shared.mask)
        self._finish(task.id, status, reason, outputs=outputs, message=message)
        if result.lost == "scheduler_lost":  # nothing more can run there: end the run now
            self.shared.stop_run(result.detail or "the executor's cluster went away")

    def _charge_cancelled(
        self, task_id: str, result: ProcessResult | None, spent: float | None = None
    ) -> None:
        """An interrupted attempt still took time and CPU: counted before the task is
        recorded cancelled (its duration, CPU and cost would read 0 otherwise)."""
        progress = self.progress[task_id]
        duration = result.duration if result is not None else (spent or 0.0)
        progress.duration += duration
        progress.last_attempt = duration
        if result is not None:
            progress.cpu_user += result.cpu_user
            progress.cpu_sys += result.cpu_sys

    async def _requeue_after(self, task: PlannedTask, delay: float) -> None:
        try:
            await anyio.sleep(delay)
        except anyio.get_cancelled_exc_class():
            self._record(task.id, "cancelled", self.shared.stop_reason or "interrupted")
            raise
        if self.shared.stopping:
            self._finish(task.id, "cancelled", self.shared.stop_reason)
            return
        heapq.heappush(self.ready, (self.order[task.id], task.id))
        self._dispatch()

    async def _subworkflow(self, task: PlannedTask) -> _Ending:
        if self.shared.run_subworkflow is None:
            raise PsrError("sub-workflows need the engine's plan loader")
        child = await self.shared.run_subworkflow(task, self._context(task))
        if child.status == "succeeded":
            return "succeeded", None, None
        return "failed", f"sub-workflow {child.status}", None

    async def _gate(self, task: PlannedTask) -> _Ending:
        """A gate task: its findings decide, like spec.gates, but only for this branch."""
        if self.shared.run_gate is None or task.gate is None:
            raise PsrError("gate tasks need the engine's gate runner")
        outcome = await self.shared.run_gate(task.gate)
        if outcome.passed:
            return "succeeded", None, outcome.message
        reason = "gate blocked" if outcome.status == "blocked" else "gate error"
        return "failed", reason, outcome.message

    async def _in_process(
        self,
        task: PlannedTask,
        number: int,
        work: Callable[[PlannedTask], Awaitable[_Ending]],
    ) -> None:
        """A task the engine carries out itself (sub-workflow, gate) rather than a process:
        one attempt, timed, cancelled like any other."""
        self._emit("task.started", task, attempt=number, status="running")
        started = time.monotonic()
        try:
            status, reason, message = await work(task)
        except anyio.get_cancelled_exc_class():
            self._release(task)
            self._record(task.id, "cancelled", self.shared.stop_reason or "interrupted")
            raise
        except PsrError as error:
            status, reason, message = "failed", f"{task.kind} error", str(error)
        spent = time.monotonic() - started
        self.progress[task.id].duration += spent
        self.progress[task.id].last_attempt = spent
        self._release(task)
        self._finish(task.id, status, reason, message=message)

    # -- endings ---------------------------------------------------------------------------

    def _finish(
        self,
        task_id: str,
        status: TaskStatus,
        reason: str | None = None,
        *,
        outputs: Mapping[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Record an ending, then decide every dependent whose needs have now all ended.
        A worklist, not recursion: a skip can cascade down a 10,000-task chain."""
        work: list[tuple[str, TaskStatus, str | None, Mapping[str, str] | None, str | None]] = [
            (task_id, status, reason, outputs, message)
        ]
        while work:
            tid, st, why, outs, msg = work.pop()
            self._record(tid, st, why, outputs=outs, message=msg)
            for dependent in self.dependents[tid]:
                self.waiting[dependent] -= 1
                if self.waiting[dependent] or dependent in self.reuse:
                    continue
                task = self.tasks[dependent]
                upstream = (self._outcome(n) for n in task.needs if n in self.tasks)
                skip = decide(task.trigger, upstream)
                if skip is None:
                    heapq.heappush(self.ready, (self.order[dependent], dependent))
                else:
                    work.append((dependent, "skipped", skip, None, None))

    def _reuse(self, task_id: str, earlier: TaskResult) -> None:
        progress = self.progress[task_id]
        progress.exit_code = earlier.exit_code
        self._finish(
            task_id,
            "succeeded",
            "reused",
            outputs=earlier.outputs,
            message="reused from an earlier run",
        )

    def _outcome(self, task_id: str) -> Outcome:
        result = self.results[task_id]
        return Outcome(result.status, result.reason, result.continue_on_error)

    def _record(
        self,
        task_id: str,
        status: TaskStatus,
        reason: str | None = None,
        *,
        outputs: Mapping[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        if task_id in self.results:
            return
        task = self.tasks[task_id]
        progress = self.progress[task_id]
        result = TaskResult(
            id=task_id,
            task=task.task,
            status=status,
            reason=reason,
            attempts=progress.attempts,
            exit_code=progress.exit_code,
            started_at=progress.started_at,
            ended_at=time.time(),
            duration=progress.duration,
            cpu_user=progress.cpu_user,
            cpu_sys=progress.cpu_sys,
            max_rss=progress.max_rss,
            outputs=dict(outputs or {}),
            log_paths=tuple(progress.logs),
            matrix=task.matrix,
            continue_on_error=task.continue_on_error,
            on_exit=task.on_exit,
        )
        self.results[task_id] = result
        if status == "skipped":
            self._emit("task.skipped", task, status=status, reason=reason, message=message)
        else:
            extra: dict[str, Any] = {}
            for hook in self.shared.task_hooks:
                extra.update(
                    hook.task_ended(task=task, result=result, stop=self.shared.stop_run) or {}
                )
            self._emit(
                "task.finished",
                task,
                attempt=progress.attempts or None,
                status=status,
                reason=reason,
                exit_code=progress.exit_code,
                duration_s=round(progress.duration, 6),
                attempt_duration_s=None
                if progress.last_attempt is None
                else round(progress.last_attempt, 6),
                cpu_user_s=round(progress.cpu_user, 6),
                cpu_sys_s=round(progress.cpu_sys, 6),
                max_rss_bytes=progress.max_rss or None,
                outputs=result.outputs or None,
                message=message,
                log_path=progress.logs[-1] if progress.logs else None,
                data=extra or None,
            )
        self.ended += 1
        if self.ended == len(self.tasks):
            self.done.set()

    # -- helpers ---------------------------------------------------------------------------

    def _upstream(self, task: PlannedTask) -> list[PlannedTask]:
        return [self.tasks.get(n) or self.plan.task(n) for n in task.needs]

    def _line_emitter(self, task: PlannedTask, number: int) -> Callable[[str], None]:
        def emit(line: str) -> None:
            self._emit("task.log", task, attempt=number, message=line)

        return emit

    def _context(self, task: PlannedTask) -> dict[str, Any]:
        return for_task(self.shared.context, task)

    def _emit(self, type_: EventType, task: PlannedTask, **fields: Any) -> None:
        if task.matrix:
            fields["data"] = {**(fields.get("data") or {}), "matrix": task.matrix}
        self.shared.emit(
            Event(
                type_,
                self.shared.run_id,
                self.workflow,
                task=task.id,
                **fields,
            )
        )


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
