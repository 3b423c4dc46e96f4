"""The files a plan depends on and the files its tasks declared, each with its sha256.

One rule for both the run's provenance (resolvedDependencies, subject) and the saved plan's
staleness check:

    manifest   the plan's manifest, and each sub-workflow's (`workflow:` tasks)
    script     a `python:` task's file; a word of a `run:` command or of `args` naming a file
               in the project (`bash scripts/load.sh`, `python etl.py`)
    lock       lock and requirements files beside the manifest, and each gate's requirements
    input      every file a task's `cache.inputs` globs match
    output     every file a task's `cache.outputs` globs match (the statement's subject)

Paths are named relative to the manifest's folder (absolute when outside it).
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from psr_engine.globs import matching_files
from psr_engine.plan.model import Plan, PlannedTask

LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "requirements.txt",
    "requirements.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "go.sum",
    "Gemfile.lock",
    "composer.lock",
)


@dataclass(frozen=True, slots=True)
class Material:
    name: str  # relative to the manifest's folder, or absolute outside it
    path: str  # absolute
    kind: str  # manifest | script | lock | input | output
    sha256: str


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_dir(plan: Plan) -> str:
    return os.path.dirname(os.path.abspath(plan.manifest_path))


def display_name(base: str, path: str) -> str:
    relative = os.path.relpath(path, base)
    return path if relative.startswith("..") else relative


def dependencies(plan: Plan) -> tuple[Material, ...]:
    """Everything the plan reads that is not produced by it, as it is now on disk."""
    base = base_dir(plan)
    found: dict[str, str] = {}  # path -> kind; the first kind found wins

    def add(path: str, kind: str) -> None:
        path = os.path.normpath(path)
        if path not in found and os.path.isfile(path):
            found[path] = kind

    # What the run itself writes is an output, not a dependency (a task's `cache.inputs`
    # may name what an upstream task produces).
    produced = {
        path
        for task in (*plan.tasks, *plan.on_exit)
        if task.cache
        for path in _matches(task.workdir or base, task.cache.get("outputs", ()))
    }
    found.update(dict.fromkeys(produced, ""))
    add(os.path.abspath(plan.manifest_path), "manifest")
    for task in (*plan.tasks, *plan.on_exit):
        root = task.workdir or base
        if task.kind == "workflow":
            add(os.path.join(root, task.command), "manifest")
        elif task.kind == "python":
            add(os.path.join(root, task.command), "script")
        for word in _command_words(task):
            path = word if os.path.isabs(word) else os.path.join(root, word)
            if _inside(path, (base, root)) and _is_script(path):
                add(path, "script")
        if task.cache:
            for path in _matches(root, task.cache.get("inputs", ())):
                add(path, "input")
        if task.gate is not None:
            for requirement in task.gate.requirements:
                add(os.path.join(base, requirement), "lock")
    for gate in plan.gates:
        for requirement in gate.requirements:
            add(os.path.join(base, requirement), "lock")
    for name in LOCK_FILES:
        add(os.path.join(base, name), "lock")
    return tuple(
        Material(display_name(base, path), path, kind, sha256_file(path))
        for path, kind in sorted(found.items(), key=lambda item: display_name(base, item[0]))
        if kind
    )


def declared_outputs(plan: Plan, task_ids: Iterable[str]) -> tuple[Material, ...]:
    """The files the given tasks' `cache.outputs` globs match now, each once."""
    base = base_dir(plan)
    wanted = set(task_ids)
    paths: set[str] = set()
    for task in (*plan.tasks, *plan.on_exit):
        if task.id in wanted and task.cache:
            paths.update(_matches(task.workdir or base, task.cache.get("outputs", ())))
    return tuple(
        Material(display_name(base, path), path, "output", sha256_file(path))
        for path in sorted(paths, key=lambda p: display_name(base, p))
    )


def _matches(root: str, patterns: Iterable[str]) -> Iterator[str]:
    """The bounded glob the runtime uses (no folder links followed: a link to an ancestor
    looped forever here; no FIFO opened); a glob past its bounds names no material."""
    for pattern in patterns:
        try:
            found = matching_files(root, pattern)
        except ValueError:
            continue
        for path in found:
            yield os.path.normpath(path)


def _command_words(task: PlannedTask) -> Iterator[str]:
    """Words of a `run:` command and of `args` that may name a file. Expressions (rendered at
    run time) are not files yet, and a redirection's target is written, not read: skipped."""
    words: list[str] = list(task.args)
    if task.kind == "run":
        try:
            lexer = shlex.shlex(task.command, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words.extend(lexer)
        except ValueError:  # unbalanced quotes: the shell would refuse it too
            words.extend(task.command.split())
    after_redirect = False
    for word in words:
        if set(word) <= set("<>&|;()"):
            after_redirect = ">" in word
            continue
        if after_redirect:
            after_redirect = False
            continue
        if word and "${{" not in word and not word.startswith("-") and "=" not in word:
            yield word


# Data files a command reads may be rewritten by the run itself; scripts are not (a task that
# writes a script another runs is rare enough to leave out).
_SCRIPT_SUFFIXES = frozenset(
    [
        ".sh",
        ".bash",
        ".zsh",
        ".py",
        ".r",
        ".rb",
        ".pl",
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".sql",
        ".jl",
        ".ps1",
        ".lua",
        ".php",
        ".awk",
        ".sed",
    ]
)


def _is_script(path: str) -> bool:
    suffix = os.path.splitext(path)[1].lower()
    return suffix in _SCRIPT_SUFFIXES or (os.path.isfile(path) and os.access(path, os.X_OK))


def _inside(path: str, roots: Iterable[str]) -> bool:
    real = os.path.abspath(path)
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)
