"""A task's output on the pipe path (local.py): split into lines, each filtered (the masker)
and handed to the line callback, then written to the attempt's log. Only used when the
attempt has an output filter or a line callback; otherwise the child writes to the log
itself."""

from __future__ import annotations

import os
from collections.abc import Callable

import anyio

# A line longer than this is passed to the filter in pieces, to bound memory on output that
# never ends a line. The cut keeps the filter's window (ProcessSpec.filter_window) of overlap
# and never falls inside a string the filter replaces, so a secret is not written in halves.
MAX_LINE = 1 << 20
_READ_SIZE = 1 << 16


class LineWriter:
    """Splits output into lines, filters each, writes the result to the log."""

    def __init__(
        self,
        log_fd: int,
        output_filter: Callable[[bytes], bytes] | None,
        on_line: Callable[[str], None] | None,
        window: int = 0,
    ) -> None:
        self._log_fd = log_fd
        self._filter = output_filter
        self._on_line = on_line
        self._reach = window - 1 if output_filter is not None else 0
        self._partial = b""

    async def pump(self, read_fd: int) -> None:
        try:
            while True:
                await anyio.wait_readable(read_fd)
                try:
                    data = os.read(read_fd, _READ_SIZE)
                except BlockingIOError:
                    continue
                if not data:
                    return
                self._feed(data)
        finally:  # EOF, drain timeout or cancellation: the last partial line still counts
            if self._partial:
                self._emit([self._partial], last_ends_line=False)
                self._partial = b""

    def _feed(self, data: bytes) -> None:
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        if len(self._partial) > MAX_LINE:
            cut = self._safe_cut(self._partial)
            head, self._partial = self._partial[:cut], self._partial[cut:]
            self._emit([*pieces, head], last_ends_line=False)
        elif pieces:
            self._emit(pieces, last_ends_line=True)

    def _safe_cut(self, data: bytes) -> int:
        """Where to cut an over-long line: keep its last ``reach`` bytes (a string the filter
        replaces may start there and end in the next read), and never cut inside one.

        A cut is safe when filtering the ``reach`` bytes on each side of it separately gives
        what filtering them together gives: a replaced string across the cut would lie within
        them, and would be replaced only together. Replaced strings are at most ``reach + 1``
        bytes long, so among that many positions one is between two of them: even a line made
        of back-to-back secrets has a safe cut within reach.
        """
        reach = self._reach
        if reach <= 0:
            return len(data)
        assert self._filter is not None
        apart = self._filter
        start = len(data) - reach
        for cut in range(start, max(start - reach - 1, 0), -1):
            low, high = max(0, cut - reach), cut + reach
            if apart(data[low:cut]) + apart(data[cut:high]) == apart(data[low:high]):
                return cut
        return len(data)  # unreachable for a masker; a filter of another kind is cut as is

    def _emit(self, pieces: list[bytes], *, last_ends_line: bool) -> None:
        out = []
        for index, piece in enumerate(pieces):
            text = piece if self._filter is None else self._filter(piece)
            ends_line = last_ends_line or index < len(pieces) - 1
            out.append(text + b"\n" if ends_line else text)
            if self._on_line is not None:
                self._on_line(text.decode("utf-8", "replace").rstrip("\r"))
        write_all(self._log_fd, b"".join(out))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
