"""Running a command on a real pseudo-terminal (the `pty` module): what it wrote, when, and
what a reader of the terminal would see once carriage returns and line clears are applied."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from dataclasses import dataclass, field

SGR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Recording:
    code: int
    chunks: list[tuple[float, bytes]] = field(default_factory=list)  # (monotonic, bytes)

    @property
    def raw(self) -> str:
        return b"".join(data for _, data in self.chunks).decode("utf-8", "replace")

    def visible_lines(self) -> list[str]:
        """Each line as it stays on the screen: what follows its last carriage return,
        without colour or cursor codes (a status line redrawn in place leaves its last form)."""
        lines = []
        for line in self.raw.split("\n"):
            line = line.rstrip("\r")  # the terminal's own \r\n
            line = line.rsplit("\r", 1)[-1]
            lines.append(_CONTROL.sub("", line))
        return lines


def run_on_terminal(
    argv: list[str],
    *,
    cwd: str | os.PathLike[str],
    env: dict[str, str],
    columns: int = 160,
    rows: int = 40,
    timeout: float = 120,
) -> Recording:
    """Run `argv` with stdin, stdout and stderr on a new pseudo-terminal of that size."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns)},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    recording = Recording(code=-1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError as error:  # EIO: every writer has closed the terminal
                if error.errno != errno.EIO:
                    raise
                break
            if not data:
                break
            recording.chunks.append((time.monotonic(), data))
        recording.code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return recording
