"""What `validate` checks across manifests: `workflow:` references that form a cycle.

A workflow that runs itself, directly or through others (a -> b -> a), would recurse at run
time until spec.limits.workflowDepth stops it; where the references are plain paths the cycle
is known before anything runs, so validate refuses it with the chain. Kept out of the builder
for the reason files.py is: building one manifest stays pure, this reads others from disk.
"""

from __future__ import annotations

import os

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.manifest.model import Manifest, TaskSpec

_EXPRESSION = "${{"
MAX_MANIFESTS = 1_000  # manifests read while following references: a bound, not a rule


def workflow_cycles(manifest: Manifest) -> list[Diagnostic]:
    """A diagnostic per `workflow:` task whose sub-workflow leads back to a manifest that is
    already running it, at that task's line, naming the whole chain."""
    from psr_engine.manifest.parser import load_manifest

    found: list[Diagnostic] = [_expression_path(manifest, t) for t in _expression_paths(manifest)]
    root = os.path.realpath(manifest.source.path)
    loaded: dict[str, Manifest | None] = {root: manifest}
    # Depth-first, iteratively (a chain of many manifests must not exhaust the stack): a
    # reference to a manifest on the current path closes a cycle.
    path: list[tuple[str, TaskSpec | None]] = [(root, None)]
    on_path = {root}
    pending: list[list[TaskSpec]] = [_references(manifest)]
    done: set[str] = set()
    while pending:
        if not pending[-1]:
            pending.pop()
            left, _ = path.pop()
            on_path.discard(left)
            done.add(left)
            continue
        task = pending[-1].pop(0)
        target = os.path.realpath(task.command)
        if target in on_path:
            found.append(_cycle(loaded, path, task, target))
            continue
        if target in done or len(loaded) >= MAX_MANIFESTS:
            continue
        if target not in loaded:
            try:
                loaded[target] = load_manifest(target)
            except (DiagnosedError, OSError):
                loaded[target] = None  # missing or invalid: reported on its own
        child = loaded[target]
        if child is None:
            continue
        path.append((target, task))
        on_path.add(target)
        pending.append(_references(child))
    return found


def _expression_paths(manifest: Manifest) -> list[TaskSpec]:
    return [
        t
        for t in (*manifest.tasks, *manifest.on_exit)
        if t.kind == "workflow" and _EXPRESSION in t.command
    ]


def _expression_path(manifest: Manifest, task: TaskSpec) -> Diagnostic:
    """`workflow: ${{ params.child }}` is taken as a file name at run time, never rendered:
    it can only fail there (and a param choosing the workflow could make it run itself)."""
    from psr_engine.manifest.schema import dotted

    section = "onExit" if task.is_on_exit else "tasks"
    where = ("spec", section, task.name, "workflow")
    position = manifest.source.position(where)
    return Diagnostic(
        _shown(manifest.source.path),
        position.line,
        position.column,
        f"task {task.name!r}: `workflow:` is a path, not an expression (it is not rendered)",
        dotted(where),
        "write the sub-workflow's path; give it values with `with:`",
    )


def _references(manifest: Manifest) -> list[TaskSpec]:
    return [
        t
        for t in (*manifest.tasks, *manifest.on_exit)
        if t.kind == "workflow" and _EXPRESSION not in t.command and os.path.isfile(t.command)
    ]


def _cycle(
    loaded: dict[str, Manifest | None],
    path: list[tuple[str, TaskSpec | None]],
    task: TaskSpec,
    target: str,
) -> Diagnostic:
    from psr_engine.manifest.schema import dotted

    start = next(i for i, (name, _) in enumerate(path) if name == target)
    names = [name for name, _ in path[start:]]
    # The task leaving each manifest is the one that entered the next; the last, `task`.
    leaving = [via for _, via in path[start + 1 :]] + [task]
    steps = [f"{_shown(n)} (task {via.name})" for n, via in zip(names, leaving, strict=True) if via]
    chain = " -> ".join([*steps, _shown(target)])
    here = loaded[path[-1][0]]
    assert here is not None
    section = "onExit" if task.is_on_exit else "tasks"
    where = ("spec", section, task.name, "workflow")  # the line that closes the cycle
    position = here.source.position(where)
    return Diagnostic(
        _shown(here.source.path),
        position.line,
        position.column,
        f"task {task.name!r} closes a cycle of sub-workflows: {chain}",
        dotted(where),
        "a workflow may not run itself, directly or through other workflows (it would recurse "
        "until spec.limits.workflowDepth); break the cycle",
    )


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
