"""Globs over a task's folder (`inputs`, `artifacts`, `cache:`, provenance materials), matched
by ``matching_files``, the one place that walks a folder for them. It is bounded: regular files
only (a FIFO would block a reader forever), symbolic links to folders are not followed (a link
to an ancestor would loop), the walk goes no deeper than the pattern can match, at most
``MAX_MATCHES`` paths per glob and ``MAX_VISITED`` names walked (the walk runs on the event
loop: its bound is how long Ctrl-C may wait).

At the bottom of the layers, beside units: the runtime and provenance both match globs, and
neither may import the other.
"""

from __future__ import annotations

import os
import re
import stat

MAX_MATCHES = 100_000
MAX_VISITED = 1_000_000  # names a glob's walk may look at (a second or two)


def matching_files(root: str, pattern: str) -> list[str]:
    """Absolute paths of the regular files under ``root`` that ``pattern`` matches, sorted.

    ``*``, ``?`` and ``[…]`` match within one name, ``**`` spans folders, and a name that
    starts with a dot matches only a pattern that starts with one (as glob). The walk starts at
    the pattern's literal folders and goes no deeper than its segments unless it holds ``**``.
    Raises ValueError past MAX_MATCHES paths or MAX_VISITED names walked."""
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
    visited = 0
    for folder, dirs, files in os.walk(start, followlinks=False):
        visited += len(dirs) + len(files)
        if visited > MAX_VISITED:
            raise ValueError(
                f"{pattern!r} walks more than {MAX_VISITED:,} names under {start}: "
                "narrow it (a literal folder first, no ** over a large tree)"
            )
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
