"""The files of a task: which paths its globs match (`inputs`, `artifacts`, `cache:`), what an
attempt needs on a worker that shares no folder with the engine, and which declared artifacts
an attempt failed to write.

Globs are matched by ``matching_files``, the one place that walks the task's folder for them,
and it is bounded: regular files only (a FIFO would block a reader forever), symbolic links
to folders are not followed (a link to an ancestor would loop), the walk goes no deeper than
the pattern can match, and at most ``MAX_MATCHES`` paths per glob.
"""

from __future__ import annotations

import os
import re
import stat

from psr_engine.executors.base import TaskFiles
from psr_engine.plan.model import PlannedTask

MAX_MATCHES = 100_000


def matching_files(root: str, pattern: str) -> list[str]:
    """Absolute paths of the regular files under ``root`` that ``pattern`` matches, sorted.

    ``*``, ``?`` and ``[…]`` match within one name, ``**`` spans folders, and a name that
    starts with a dot matches only a pattern that starts with one (as glob). The walk starts at
    the pattern's literal folders and goes no deeper than its segments unless it holds ``**``.
    Raises ValueError past MAX_MATCHES paths."""
    parts = [p for p in pattern.replace(os.sep, "/").split("/") if p not in ("", ".")]
    literal: list[str] = []
    for part in parts[:-1]:
        if _MAGIC.search(part):
            break
        literal.append(part)
    start = os.path.join(root, *literal)
    rest = parts[len(literal) :]
    if not rest:
        return []
    matcher = _compile(rest)
    depth = None if "**" in rest else len(rest)
    dotted = any(part.startswith(".") for part in rest)
    found: list[str] = []
    base_depth = start.rstrip(os.sep).count(os.sep)
    for folder, dirs, files in os.walk(start, followlinks=False):
        level = folder.rstrip(os.sep).count(os.sep) - base_depth
        if depth is not None and level >= depth - 1:
            dirs[:] = []  # deeper folders cannot match
        elif not dotted:
            dirs[:] = [d for d in dirs if not d.startswith(".")]  # .git, .venv, .psr
        for name in files:
            path = os.path.join(folder, name)
            if not matcher.fullmatch(os.path.relpath(path, start).replace(os.sep, "/")):
                continue
            try:
                mode = os.stat(path).st_mode  # a link to a regular file is one
            except OSError:
                continue  # a dangling link
            if not stat.S_ISREG(mode):
                continue  # a FIFO, a socket, a device: reading it could block forever
            found.append(os.path.abspath(path))
            if len(found) > MAX_MATCHES:
                raise ValueError(f"{pattern!r} matches more than {MAX_MATCHES} files")
    return sorted(found)


_MAGIC = re.compile(r"[*?\[]")


def _compile(parts: list[str]) -> re.Pattern[str]:
    """A regex for the pattern's segments, matched against a /-separated relative path."""
    out = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":  # hidden names match only a pattern that spells their dot, as in glob
            out.append("(?:(?!\\.)[^/]+/)*(?!\\.)[^/]+" if last else "(?:(?!\\.)[^/]+/)*")
            continue
        hidden = "" if part.startswith(".") else "(?!\\.)"
        out.append(hidden + _segment(part) + ("" if last else "/"))
    return re.compile("".join(out))


def _segment(part: str) -> str:
    """One name's glob as a regex: * and ? never cross a /, [...] is a character class."""
    out, index = [], 0
    while index < len(part):
        char = part[index]
        index += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            close = part.find("]", index + 1 if part[index : index + 1] in ("!", "]") else index)
            if close < 0:
                out.append(re.escape(char))
                continue
            body = part[index:close].replace("\\", "\\\\")
            index = close + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


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
