"""One attempt of one task: its command line, its environment, its files, and whether a
failed attempt is retried and after how long.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from psr_engine import expressions
from psr_engine.executors.base import ProcessResult
from psr_engine.expressions.shell_plain import plain_words
from psr_engine.plan.model import PlannedTask

if TYPE_CHECKING:
    import random

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")
# An id made only of these, and not too long, names its files as it is (`load.1.log`).
_READABLE = re.compile(r"[A-Za-z0-9_=-][A-Za-z0-9_.=-]{0,79}")
_READABLE_PART = 60  # characters of a hashed name kept readable
_POSIX_SHELLS = frozenset({"sh", "dash", "ksh", "zsh", "ash"})
# In the environment, these give bash something to do before the command: run through bash.
_BASH_SETUP = frozenset({"BASH_ENV", "SHELLOPTS", "BASHOPTS"})


def instance_stem(
    task_id: str, *, mask: Callable[[str], str] | None = None, key: bytes = b""
) -> str:
    """The file name stem of one task instance, injective over ids.

    A plain id stays as it is (`load`); any other gets a readable part plus `+` and a hash of
    the exact id: `transform[region=São Paulo]` -> `transform_region=S_o_Paulo_+1f0c9e2ab4`.
    `+` never occurs in a plain id, so plain and hashed names cannot meet, and `São Paulo` and
    `São_Paulo` hash apart. An id holding a secret (`mask` changes it) is hashed with `key`, a
    random key of the run, so its name says nothing about the secret, not even to a guesser.
    """
    shown = mask(task_id) if mask is not None else task_id
    if shown == task_id and _READABLE.fullmatch(task_id):
        return task_id
    digest = hashlib.blake2b(
        task_id.encode("utf-8", "surrogatepass"),
        digest_size=5,
        key=key if shown != task_id else b"",
    ).hexdigest()
    return f"{_UNSAFE.sub('_', shown)[:_READABLE_PART]}+{digest}"


def log_stem(
    task_id: str, attempt: int, *, mask: Callable[[str], str] | None = None, key: bytes = b""
) -> str:
    """`load`, attempt 2 -> `load.2`; `transform[region=eu]`, 1 -> `transform_region=eu_+<hash>.1`.
    The attempt number is the last dotted part: ids with dots stay apart."""
    return f"{instance_stem(task_id, mask=mask, key=key)}.{attempt}"


def workflow_folder(
    task_id: str, *, mask: Callable[[str], str] | None = None, key: bytes = b""
) -> str:
    """The sub-folder of its parent's run folder a sub-workflow task's run writes in: a child
    task named like a parent task keeps its own log and outputs."""
    return f"{instance_stem(task_id, mask=mask, key=key)}.workflow"


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


def direct_argv(
    task: PlannedTask, argv: tuple[str, ...], env: Mapping[str, str]
) -> tuple[str, ...] | None:
    """make's trick: the words bash would exec for a plain `run:` command (the rule is
    expressions/shell_plain.py), when nothing in the environment gives bash work of its own
    first (a startup file, shell options, exported functions) and PATH is searched the same
    way by anyone (absolute entries only). None: the command runs through the shell."""
    if task.kind != "run" or task.shell not in (None, "bash"):
        return None
    path = env.get("PATH")
    if path is None or not all(entry.startswith("/") for entry in path.split(":")):
        return None
    if not _BASH_SETUP.isdisjoint(env) or "\nBASH_FUNC_" in "\n" + "\n".join(env):
        return None  # (the join: one C loop over ~50 names, per attempt)
    return plain_words(argv[-1])


def as_bash_would(env: dict[str, str], cwd: str, program: str) -> None:
    """The variables bash sets before it execs a command, set the same in `env`, so a program
    exec'd without bash sees what it would have seen: PWD naming the working folder, SHLVL
    (bash adds one, and takes it back when it execs), OLDPWD only when it is a folder, `_`
    the program's path."""
    keep_oldpwd, changes = _bash_variables(
        env.get("PWD"), env.get("OLDPWD"), env.get("SHLVL", ""), cwd, program, env["PATH"]
    )
    if not keep_oldpwd:
        env.pop("OLDPWD", None)
    env.update(changes)


@functools.lru_cache(maxsize=64)
def _bash_variables(
    pwd: str | None, oldpwd: str | None, level: str, cwd: str, program: str, path: str
) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """(keep OLDPWD, variables to set): the same for every task of a run that shares its
    environment and folder, so the file system is asked once, not per task."""
    changes = []
    try:
        same = pwd is not None and pwd.startswith("/") and os.path.samefile(pwd, cwd)
    except OSError:
        same = False
    if not same:
        changes.append(("PWD", os.path.realpath(cwd)))
    changes.append(("SHLVL", level if level.isdigit() and int(level) < 999 else "0"))
    found = program if "/" in program else shutil.which(program, path=path)
    if found is not None:
        changes.append(("_", found))
    return oldpwd is None or os.path.isdir(oldpwd), tuple(changes)


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
    if result.lost is not None:  # a worker that died is what retries are for; a cluster gone is not
        return result.lost == "worker_lost"
    if result.timed_out:
        return policy.on_timeout
    return policy.retries_exit_code(result.exit_code)


def retry_delay(task: PlannedTask, attempt: int, *, rng: random.Random | None = None) -> float:
    """Backoff before the retry that follows `attempt`. Jitter is "equal jitter": half the
    delay fixed, half random, so retries spread out but never come back at once."""
    policy = task.retries
    delay = policy.delay_before(attempt)
    if policy.jitter and delay > 0:
        import random  # only when a retry waits

        delay = delay / 2 + (rng or random).uniform(0, delay / 2)
    return delay
