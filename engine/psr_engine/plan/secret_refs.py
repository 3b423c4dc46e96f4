"""Which secrets a task is granted, and which variables no task inherits from the engine.

Least privilege: a task receives a secret only when it names it, by ``${{ secrets.X }}`` in its
fields, by listing ``X`` in its ``secrets:``, or by a shell reference ``$X`` / ``${X}`` in a
``run:`` command (or a ``script:`` body run by a shell interpreter): a shell reads its
variables there, and a task written ``psql -p "$DB_PASSWORD"`` means the secret.

Whatever the engine's own environment holds under a secret's name, or under the variable a
secret is read from (the ``env`` provider's ``name``, Vault's ``auth.secretIdEnv`` and
``auth.jwtEnv``), is withheld from every task: a granted task gets the secret under its
name, the others get nothing. Other mentions of a secret's name in a task (a Python script's
``os.environ["X"]``, an argument) do not grant it; ``validate`` warns about them.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence

from psr_engine.errors import Diagnostic
from psr_engine.manifest.model import JsonPath, Manifest, SecretSpec, TaskSpec
from psr_engine.plan.model import Plan

# $NAME, ${NAME}, ${NAME:-x}, ${#NAME}: the name is the longest run of name characters.
_SHELL_REFERENCE = re.compile(r"\$\{?#?([A-Za-z_][A-Za-z0-9_]*)")
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox"})
# Provider fields that name a variable of the engine's environment holding a credential.
_SOURCE_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "env": (("name",),),
    "vault": (("auth", "secretIdEnv"), ("auth", "jwtEnv")),
}


def shell_references(task: TaskSpec, names: Iterable[str]) -> set[str]:
    """The secrets among ``names`` that the task's shell code reads as ``$NAME``/``${NAME}``."""
    if not _runs_in_a_shell(task):
        return set()
    used = set(_SHELL_REFERENCE.findall(task.command))
    return used.intersection(names)


def withheld_variables(secrets: Sequence[SecretSpec]) -> tuple[str, ...]:
    """Variables of the engine's environment that no task inherits: every declared secret's
    name and the variables its reference reads, sorted."""
    names: set[str] = set()
    for secret in secrets:
        names.add(secret.name)
        for path in _SOURCE_FIELDS.get(secret.provider, ()):
            value: object = secret.options
            for key in path:
                value = value.get(key) if isinstance(value, Mapping) else None
            if isinstance(value, str) and value:
                names.add(value)
    return tuple(sorted(names))


def ungranted_mentions(manifest: Manifest, plan: Plan) -> list[Diagnostic]:
    """A warning for each task that mentions a declared secret by name without being granted
    it: at run time it would find the variable unset."""
    declared = [s.name for s in manifest.secrets]
    if not declared:
        return []
    granted: dict[str, set[str]] = {}
    for planned in (*plan.tasks, *plan.on_exit):
        granted.setdefault(planned.task, set()).update(planned.secrets)
    alternatives = "|".join(map(re.escape, declared))
    word = re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])")
    warnings: list[Diagnostic] = []
    for task in (*manifest.tasks, *manifest.on_exit):
        section = "onExit" if task.is_on_exit else "tasks"
        reported: set[str] = set()
        for path, text in _texts(task):
            for name in word.findall(text):
                if name in granted.get(task.name, set()) or name in reported:
                    continue
                reported.add(name)
                where = manifest.source.position(("spec", section, task.name, *path))
                warnings.append(
                    Diagnostic(
                        manifest.source.path,
                        where.line,
                        where.column,
                        f"warning: task '{task.name}' mentions secret {name} but is not "
                        f"granted it: {name} will not be set in its environment",
                        hint=(
                            f"add `secrets: [{name}]` to the task (or use "
                            f"${{{{ secrets.{name} }}}} in it)"
                        ),
                    )
                )
    return warnings


def _runs_in_a_shell(task: TaskSpec) -> bool:
    if task.kind == "run":
        return True
    if task.kind != "script" or not task.interpreter:
        return False
    words = shlex.split(task.interpreter)
    return bool(words) and os.path.basename(words[0]) in _SHELLS


def _texts(task: TaskSpec) -> Iterator[tuple[JsonPath, str]]:
    """Every piece of text of a task a secret's name could be mentioned in, with its path."""
    field = {"run": "run", "script": "script"}.get(task.kind)
    if field is not None:
        yield (field,), task.command
    for index, arg in enumerate(task.args):
        yield ("args", index), arg
    for key, value in task.env.items():
        yield ("env", key), value
    if task.when:
        yield ("when",), task.when
    yield from _nested(("with",), task.with_)


def _nested(path: JsonPath, value: object) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nested((*path, key), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nested((*path, index), item)


__all__ = ["shell_references", "ungranted_mentions", "withheld_variables"]
