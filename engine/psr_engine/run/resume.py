"""Resume: run again only what did not succeed in an earlier run, and what depends on it.

    resume = plan_resume(plan, store, "last")
    await WorkflowEngine(...).run(resume.plan, reuse=resume.reuse)

Succeeded tasks of the earlier run are reused with their recorded outputs, unless their
definition changed since: every task's digest (its planned form: command, args, env, kind,
matrix, needs...) is recorded when a run starts, and a reused task must still have the same
one. `--from TASK` reruns that task (every instance) and everything downstream of it too.

`auto` resumes the newest run of the workflow when there is one that did not succeed, and
otherwise asks for a plain run (None): what a CI job's re-run wants, since its first attempt
finds no history and a re-run of a green job has nothing to rerun.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import ResumeRefused as ResumeRefused
from psr_engine.plan.digest import task_digest as task_digest  # its rule lives with the plan
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.run.results import TaskResult
from psr_engine.store import HistoryError, RunRecord, RunStore, TaskDigest, TaskRecord
from psr_engine.store.locks import RunLock

_SHOWN_CHANGES = 8
AUTO = "auto"  # --resume auto: the last run if it did not succeed, else a plain run


@dataclass(frozen=True, slots=True)
class Resume:
    """What resuming decided: the plan to run, the results to reuse, the earlier run."""

    plan: Plan
    reuse: dict[str, TaskResult]
    resumed_from: str
    rerun: tuple[str, ...]  # instance ids that will run again, in plan order
    # Held from the decision to the end of the run (release it, or let the process end):
    # nobody else resumes the same run meanwhile.
    lock: RunLock | None = field(default=None, compare=False)


def history_tasks(plan: Plan) -> list[TaskDigest]:
    """The plan's task instances with their digests, as the history sink records them."""
    return [
        TaskDigest(
            id=t.id,
            task=t.task,
            digest=task_digest(t),
            on_exit=t.on_exit,
            needs=t.needs,
            level=t.level,
        )
        for t in (*plan.tasks, *plan.on_exit)
    ]


def history_sink(
    plan: Plan,
    *,
    state_dir: str | None = None,
    path: str | None = None,
    resumed_from: str | None = None,
) -> Any:
    """The history sink for a run of `plan` (runs.db in `state_dir` unless `path`)."""
    from psr_engine.events.sinks.history import HistorySink

    return HistorySink(
        path,
        state_dir=state_dir,
        tasks=history_tasks(plan),
        manifest_digest=plan.manifest_digest or None,
        resumed_from=resumed_from,
    )


def plan_auto_resume(
    plan: Plan, store: RunStore, *, force: bool = False, from_task: str | None = None
) -> Resume | None:
    """`--resume auto`: `plan_resume` of the workflow's newest run, or None for a plain run.

    None when the history holds no run of this workflow, or when its newest run left nothing
    to rerun (and no `from_task` asks for one). Refusals other than "nothing to resume" (a
    changed manifest, a run still running) stand: a retry must not silently redo finished work.
    """
    try:
        earlier = store.run("last", workflow=plan.workflow)
    except HistoryError:
        return None
    if from_task is None and earlier.status != "running":
        recorded = {t.id: t for t in store.tasks(earlier.id)}
        if all(_status(recorded.get(t.id)) == "succeeded" for t in plan.tasks):
            return None
    return plan_resume(plan, store, earlier.id, force=force, from_task=from_task)


def plan_resume(
    plan: Plan,
    store: RunStore,
    ref: str,
    *,
    force: bool = False,
    from_task: str | None = None,
) -> Resume:
    """Decide what a resume of run `ref` (`last` = this workflow's newest run) reruns.

    Reruns every task that did not succeed, the instances of `from_task`, and everything
    downstream of those; reuses the rest. Refuses (ResumeRefused, exit 2) when the earlier
    run is of another workflow or still running, when nothing would rerun, or, unless
    `force`, when a task to reuse changed or the params differ.
    """
    earlier = store.run(ref, workflow=plan.workflow)
    if earlier.workflow != plan.workflow:
        raise ResumeRefused(
            f"run {earlier.id} is of workflow {earlier.workflow!r}, not {plan.workflow!r}"
        )
    if earlier.status == "running":
        raise ResumeRefused(
            f"run {earlier.id} is still running (pid {earlier.pid} on {earlier.host}); "
            "wait for it to end, or stop it, before resuming it"
        )
    lock = _lock(store, earlier.id, force=force)
    try:
        return _decide(plan, store, earlier, lock, force=force, from_task=from_task)
    except BaseException:
        lock.release()
        raise


def _lock(store: RunStore, run_id: str, *, force: bool) -> RunLock:
    """Take the run's resume lock, then check nobody resumed it meanwhile: what makes ten
    concurrent resumes of one run run its failed tasks once."""
    lock = RunLock.try_acquire(store.state_dir, run_id)
    if lock is None:
        raise ResumeRefused(
            f"run {run_id} is being resumed by another psr-engine process right now; wait for "
            "it to end (see `psr-engine runs`), then resume the newest run if anything is left"
        )
    done = [r for r in store.resumes_of(run_id) if r.status in ("running", "succeeded")]
    if done and not force:
        lock.release()
        later = done[0]
        raise ResumeRefused(
            f"run {run_id} was already resumed by run {later.id} ({later.status}); resume "
            f"that one if anything is left (`--resume {later.id}`), or add --force to resume "
            f"{run_id} again"
        )
    return lock


def _decide(
    plan: Plan,
    store: RunStore,
    earlier: RunRecord,
    lock: RunLock,
    *,
    force: bool,
    from_task: str | None,
) -> Resume:
    recorded = {t.id: t for t in store.tasks(earlier.id)}
    seeds = {t.id for t in plan.tasks if _status(recorded.get(t.id)) != "succeeded"}
    if from_task is not None:
        seeds.update(_instances(plan, from_task))
    elif not seeds:
        raise ResumeRefused(
            f"run {earlier.id} of {plan.workflow} succeeded: nothing to resume "
            "(use --from TASK to run a task and what follows it again)"
        )
    rerun = _downstream(plan.tasks, seeds)
    reused = [t for t in plan.tasks if t.id not in rerun]
    problems = _changes(plan, earlier.params, earlier.id, reused, recorded)
    if problems and not force:
        shown = problems[:_SHOWN_CHANGES]
        more = len(problems) - len(shown)
        lines = [f"cannot resume run {earlier.id}: the manifest changed since it ran"]
        lines += [f"  - {p}" for p in shown]
        if more:
            lines.append(f"  ... and {more} more")
        lines.append(
            "  hint: add --force to reuse the recorded results anyway, or --from TASK to "
            "run the changed task and everything after it again"
        )
        raise ResumeRefused("\n".join(lines))
    reuse = {t.id: _reused(recorded[t.id]) for t in reused}
    order = tuple(t.id for t in plan.tasks if t.id in rerun)
    return Resume(plan=plan, reuse=reuse, resumed_from=earlier.id, rerun=order, lock=lock)


def _status(record: TaskRecord | None) -> str:
    return "missing" if record is None else record.status


def _instances(plan: Plan, name: str) -> set[str]:
    ids = plan.groups.get(name) or ((name,) if any(t.id == name for t in plan.tasks) else ())
    if not ids:
        import difflib  # only for this message; it costs every apply's start-up otherwise

        known = [*plan.groups, *(t.id for t in plan.tasks)]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ResumeRefused(f"--from {name}: no such task in {plan.workflow}{hint}")
    return set(ids)


def _downstream(tasks: Iterable[PlannedTask], seeds: set[str]) -> set[str]:
    """The seeds and every task that needs one of them, directly or not."""
    dependents: dict[str, list[str]] = {}
    for task in tasks:
        for need in task.needs:
            dependents.setdefault(need, []).append(task.id)
    found = set(seeds)
    stack = list(seeds)
    while stack:
        for dependent in dependents.get(stack.pop(), ()):
            if dependent not in found:
                found.add(dependent)
                stack.append(dependent)
    return found


def _changes(
    plan: Plan,
    params: Mapping[str, Any],
    run_id: str,
    reused: list[PlannedTask],
    recorded: Mapping[str, TaskRecord],
) -> list[str]:
    problems: list[str] = []
    if _canonical(params) != _canonical(plan.params):
        changed = sorted(
            k
            for k in {*params, *plan.params}
            if _canonical(params.get(k)) != _canonical(plan.params.get(k))
        )
        problems.append(f"params differ from run {run_id}'s: {', '.join(changed)}")
    for task in reused:
        digest = recorded[task.id].digest
        if digest is None:
            problems.append(f"task {task.id}: run {run_id} recorded no definition to compare")
        elif digest != task_digest(task):
            problems.append(f"task {task.id} changed (command, env, needs or settings)")
    return problems


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _reused(record: TaskRecord) -> TaskResult:
    return TaskResult(
        id=record.id,
        task=record.task,
        status="succeeded",
        reason="reused",
        attempts=record.attempts,
        exit_code=record.exit_code,
        started_at=record.started_at,
        ended_at=record.ended_at,
        duration=record.duration,
        cpu_user=record.cpu_user,
        cpu_sys=record.cpu_sys,
        max_rss=record.max_rss,
        outputs=dict(record.outputs),
        log_paths=(record.log_path,) if record.log_path else (),
        matrix=dict(record.matrix),
    )
