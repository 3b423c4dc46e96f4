"""One attempt of one task: its command line, its environment, its files, and whether a
failed attempt is retried and after how long.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import sys
from collections.abc import Mapping
from typing import Any

from psr_engine import expressions
from psr_engine.executors.base import ProcessResult
from psr_engine.plan.model import PlannedTask

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")
_POSIX_SHELLS = frozenset({"sh", "dash", "ksh", "zsh", "ash"})


def log_stem(task_id: str, attempt: int) -> str:
    """`transform[region=eu,size=large]`, attempt 2 -> `transform_region=eu_size=large_.2`."""
    return f"{_UNSAFE.sub('_', task_id)}.{attempt}"


def argv_for(task: PlannedTask, context: Mapping[str, Any]) -> tuple[str, ...]:
    """The command line of a run/python/script task, expressions rendered.

    `run` text is rendered with each value quoted for the place it takes in the command (see
    expressions.render_command): the shell reads back exactly the value, whatever it holds.
    `args` are an argv list, never seen by a shell.
    """
    if task.kind == "run":
        command = expressions.render_command(task.command, context, shell=task.shell)
        return (*_shell_prefix(task.shell), command)
    args = tuple(expressions.render(a, context) for a in task.args)
    interpreter = tuple(shlex.split(task.interpreter)) if task.interpreter else (sys.executable,)
    if task.kind == "python":
        return (*interpreter, task.command, *args)
    if task.kind == "script":
        return (*interpreter, "-c", task.command, *args)
    raise ValueError(f"task kind {task.kind!r} does not run a process")


def _shell_prefix(shell: str | None) -> tuple[str, ...]:
    if shell is None or shell == "bash":
        return ("bash", "-eo", "pipefail", "-c")
    words = shlex.split(shell)
    if len(words) == 1 and os.path.basename(words[0]) in _POSIX_SHELLS:
        return (words[0], "-e", "-c")
    return (*words, "-c")


def env_for(
    task: PlannedTask,
    context: Mapping[str, Any],
    *,
    base: Mapping[str, str],
    secrets: Mapping[str, str],
    extra: Mapping[str, str],
    workflow_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The engine's environment, then the task's env (workflow env merged in by the planner),
    then only the secrets this task is entitled to, then the PSR_* variables.

    `workflow_env`: spec.env as written. A value the task inherits unchanged from it is
    taken from context["env"], where the engine rendered spec.env once for the run, rather
    than rendered again for every attempt."""
    env = dict(base)
    rendered = context["env"] if workflow_env else {}
    for key, value in task.env.items():
        if workflow_env is not None and workflow_env.get(key) == value and key in rendered:
            env[key] = rendered[key]
        else:
            env[key] = expressions.render(value, context)
    for name in task.secrets:
        if name in secrets:
            env[name] = secrets[name]
    env.update(extra)
    return env


def should_retry(task: PlannedTask, attempt: int, result: ProcessResult) -> bool:
    policy = task.retries
    if attempt > policy.limit:
        return False
    if result.timed_out:
        return policy.on_timeout
    return policy.retries_exit_code(result.exit_code)


def retry_delay(task: PlannedTask, attempt: int, *, rng: random.Random | None = None) -> float:
    """Backoff before the retry that follows `attempt`. Jitter is "equal jitter": half the
    delay fixed, half random, so retries spread out but never come back at once."""
    policy = task.retries
    delay = policy.delay_before(attempt)
    if policy.jitter and delay > 0:
        delay = delay / 2 + (rng or random).uniform(0, delay / 2)
    return delay
