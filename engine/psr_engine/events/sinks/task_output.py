"""What tasks print, as the console shows it: the output modes, the `[task]` prefix and its
colour, the collapsible groups of CI logs, and the tail of a failed attempt's log.

Plain functions over text, no terminal library: the console imports this on every path.
What is shown is always masked already: task.log lines are masked before they become events,
and an attempt's log file is written through the same masker.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from typing import Literal

OutputMode = Literal["live", "grouped", "failed", "none"]
OUTPUT_MODES: tuple[OutputMode, ...] = ("live", "grouped", "failed", "none")
TAIL_LINES = 20

# Where the log is read: GitHub Actions and GitLab CI fold a group; elsewhere lines are prefixed.
CiKind = Literal["github", "gitlab", "plain"]

# Task prefixes cycle through these: red is left out (failure), green and yellow (success,
# retry) come last.
_PALETTE = ("36", "35", "34", "96", "95", "94", "33", "32", "93", "92")
_SECTION_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def default_mode(*, terminal: bool) -> OutputMode:
    """Live lines on a terminal, a block per attempt in a log file or CI."""
    return "live" if terminal else "grouped"


def ci_kind(environ: Mapping[str, str]) -> CiKind:
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("GITLAB_CI"):
        return "gitlab"
    return "plain"


def wants_lines(mode: OutputMode) -> bool:
    """Whether the mode shows lines as they come (task.log events). The others read the
    attempt's log file when it ends, which costs the run nothing while it runs."""
    return mode == "live"


def shows_attempt(mode: OutputMode, *, failed: bool) -> bool:
    """Whether an ended attempt's output is printed as a block."""
    return mode == "grouped" or (mode == "failed" and failed)


class Colours:
    """A colour per task, in the order tasks first print (stable within a run)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._given: dict[str, str] = {}

    def prefix(self, task: str) -> str:
        if not self._enabled:
            return f"[{task}] "
        code = self._given.get(task)
        if code is None:
            code = self._given[task] = _PALETTE[len(self._given) % len(_PALETTE)]
        return f"\x1b[{code}m[{task}]\x1b[0m "


def read_lines(path: str) -> Iterator[str]:
    """The log's lines without their line ends (undecodable bytes replaced)."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="\n") as log:
            for line in log:
                yield line.rstrip("\n").rstrip("\r")
    except OSError:
        return


def tail(path: str, count: int = TAIL_LINES) -> list[str]:
    """The last `count` lines of the log, read from its end (a log may be large)."""
    try:
        with open(path, "rb") as log:
            size = log.seek(0, os.SEEK_END)
            block, data = 8192, b""
            while size > 0 and data.count(b"\n") <= count:
                step = min(block, size)
                size -= step
                log.seek(size)
                data = log.read(step) + data
                block *= 2
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines[-count:]]


class Groups:
    """The block an attempt's output is printed in: folded in GitHub Actions
    (`::group::`) and GitLab CI (collapsed sections), prefixed lines elsewhere."""

    def __init__(self, kind: CiKind, colours: Colours) -> None:
        self.kind = kind
        self._colours = colours
        self._count = 0

    def block(self, task: str, attempt: int, lines: Iterator[str]) -> Iterator[str]:
        """The block's text, a piece per line (each ending in a newline); nothing for an
        attempt that printed nothing."""
        first = next(lines, None)
        if first is None:
            return
        title = task if attempt <= 1 else f"{task} (attempt {attempt})"
        if self.kind == "github":
            yield f"::group::{title}\n"
            yield first + "\n"
            for line in lines:
                yield line + "\n"
            yield "::endgroup::\n"
        elif self.kind == "gitlab":
            self._count += 1
            section = f"psr_{self._count}_{_SECTION_UNSAFE.sub('_', task)}"[:100]
            yield f"section_start:{int(time.time())}:{section}[collapsed=true]\r\x1b[0K{title}\n"
            yield first + "\n"
            for line in lines:
                yield line + "\n"
            yield f"section_end:{int(time.time())}:{section}\r\x1b[0K\n"
        else:
            prefix = self._colours.prefix(task)
            yield prefix + first + "\n"
            for line in lines:
                yield prefix + line + "\n"
