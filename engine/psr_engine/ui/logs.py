"""A task's log, by byte range or by its last lines, from the path the history holds.

The URL names a run, a task instance and maybe an attempt; the file is the one the history
recorded for them, and only when it lies inside that history's state folder (a runs.db that
points elsewhere is refused too). Nothing of the URL becomes part of a path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from psr_engine.errors import HistoryError
from psr_engine.store.logs import tail_lines

MAX_CHUNK = 4 * 1024 * 1024  # one response's bytes at most; ask again from the offset
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class Chunk:
    data: bytes
    start: int
    end: int  # exclusive
    size: int  # the file's size when read
    partial: bool  # a Range (206) rather than the whole file


def contained(path: str, state_dir: str) -> str:
    """`path` resolved, when inside `state_dir`; HistoryError otherwise."""
    real = os.path.realpath(path)
    root = os.path.realpath(state_dir)
    if os.path.commonpath([real, root]) != root:
        raise HistoryError("this log lies outside the run history's folder; not served")
    return real


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`Range: bytes=a-b | a- | -n` as (start, end exclusive) within `size`; None: whole."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(f"unsupported Range {header!r}: use bytes=START-END, START- or -LAST")
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = size if last == "" else min(size, int(last) + 1)
    if start > size or end < start:
        raise ValueError(f"Range {header!r} outside the log's {size} bytes")
    return start, end


def read_chunk(path: str, start: int = 0, end: int | None = None, *, partial: bool) -> Chunk:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = min(start, size)
            stop = size if end is None else min(end, size)
            stop = min(stop, start + MAX_CHUNK)
            handle.seek(start)
            data = handle.read(max(0, stop - start))
    except FileNotFoundError:
        return Chunk(b"", 0, 0, 0, partial)
    return Chunk(data, start, start + len(data), size, partial)


def tail(path: str, lines: int) -> Chunk:
    text = "\n".join(tail_lines(path, lines)).encode()
    if text:
        text += b"\n"
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    return Chunk(text, max(0, size - len(text)), size, size, True)
