"""The files of a task: what an attempt needs on a worker that shares no folder with the
engine, and which declared artifacts an attempt failed to write. Globs are matched by
``psr_engine.globs.matching_files`` (bounded: regular files, no folder links, a walk limit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from psr_engine.executors.base import TaskFiles
from psr_engine.globs import matching_files
from psr_engine.plan.model import PlannedTask
from psr_engine.status import TaskStatus


def attempt_files(task: PlannedTask, upstream: list[PlannedTask]) -> TaskFiles:
    """What an attempt of ``task`` needs on a worker without the engine's folders, relative to
    its folder: its script, the files its `inputs` match, the artifacts of the tasks it needs
    (as they are now, after those tasks ended); and the globs of its own artifacts.

    A path outside the task's folder cannot be placed in a fresh folder the same way: ValueError
    naming it."""
    root = task.workdir
    wanted: dict[str, None] = {}
    if task.kind == "python":
        wanted[task.command] = None
    for pattern in task.inputs:
        for path in matching_files(root, pattern):
            wanted[path] = None
    for need in upstream:
        for pattern in need.artifacts:
            for path in matching_files(need.workdir, pattern):
                wanted[path] = None
    send = []
    for path in wanted:
        relative = os.path.relpath(path, root)
        if relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
            raise ValueError(
                f"{path} is outside the task's folder {root}: a worker that shares no folder "
                "with the engine gets only files under it (move the file, or set workdir)"
            )
        send.append(relative)
    return TaskFiles(root=root, send=tuple(send), collect=task.artifacts)


def missing_artifacts(task: PlannedTask) -> list[str]:
    """The task's artifact globs that match no file in its folder now."""
    return [p for p in task.artifacts if not matching_files(task.workdir, p)]


def undelivered(
    task: PlannedTask, outputs: Mapping[str, str]
) -> tuple[TaskStatus, str | None, str | None]:
    """A success that did not deliver what the task declares fails here, naming the task and
    what is missing, rather than later as an undefined value in a task that needs it."""
    missing = [name for name in task.outputs if name not in outputs]
    if missing:
        return (
            "failed",
            "outputs",
            f"task {task.id} did not write the outputs it declares: {', '.join(missing)} "
            "(write them to $PSR_OUTPUT, or remove them from outputs:)",
        )
    absent = missing_artifacts(task) if task.artifacts else []
    if absent:
        return (
            "failed",
            "artifacts",
            f"task {task.id} did not write the artifacts it declares: no file matches "
            f"{', '.join(absent)} in {task.workdir}",
        )
    return "succeeded", None, None
