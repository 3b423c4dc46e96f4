"""The per-attempt log files of a run: their tails (for reports) and incremental reading
(for `logs --follow`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TAIL_BLOCK = 8192


def tail_lines(path: str | None, count: int = 50, *, max_bytes: int = 256 * 1024) -> list[str]:
    """The last `count` lines of a log, decoded leniently; [] when there is no such file."""
    if not path or count <= 0:
        return []
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            data = b""
            position = end
            while position > 0 and data.count(b"\n") <= count and len(data) < max_bytes:
                step = min(_TAIL_BLOCK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-count:]


@dataclass(slots=True)
class LogCursor:
    """Where we are in one growing log file; `read_new()` returns the complete lines added
    since the last call (a trailing partial line waits for its newline, or for `final`)."""

    path: str
    offset: int = 0
    _partial: bytes = b""

    def read_new(self, *, final: bool = False) -> list[str]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            data = b""
        self.offset += len(data)
        data = self._partial + data
        *complete, rest = data.split(b"\n")
        self._partial = rest
        if final and rest:
            complete.append(rest)
            self._partial = b""
        return [line.decode("utf-8", errors="replace") for line in complete]
