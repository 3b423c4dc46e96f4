"""The executor seam: what the runner asks for (ProcessSpec) and what it gets back
(ProcessResult). Executors are interchangeable behind the Executor protocol; the core ships
``local`` (real processes) and ``fake`` (scripted exit codes, for testing manifests fast).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One attempt of one task, as a process to run."""

    argv: tuple[str, ...]
    env: Mapping[str, str]  # the complete environment of the child
    cwd: str
    log_path: str  # stdout and stderr of this attempt, interleaved, one file
    timeout: float | None = None  # seconds; None = no limit
    kill_grace: float = 10.0  # seconds between SIGTERM and SIGKILL to the process group
    # When set (secrets are in play), output goes through a pipe, is split into lines (without
    # their b"\n"), and only what the filter returns reaches log_path: no secret byte touches
    # the disk. When None and on_line is None: the fast path, fds 1 and 2 ARE the log file.
    output_filter: Callable[[bytes], bytes] | None = None
    # The longest byte string output_filter replaces. A line longer than the executor's cut
    # (local: MAX_LINE) is cut only where no such string can straddle the cut, so a secret
    # is never written in two halves. 0: the filter replaces nothing longer than one byte.
    filter_window: int = 0
    # Each (filtered) line, decoded, without its line ending, for live ``task.log`` events.
    # Setting it also forces the pipe path.
    on_line: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """How one attempt ended, with what it cost."""

    exit_code: int  # the shell's convention: 128+N when killed by signal N
    signal: int | None  # the signal that ended it, if any
    timed_out: bool
    started_at: float  # time.time() at spawn
    duration: float  # seconds, monotonic
    cpu_user: float  # seconds, from the rusage of wait4 (includes reaped descendants)
    cpu_sys: float
    max_rss: int  # bytes
    pid: int  # 0 when no process was started (command or working directory not found)


class Executor(Protocol):
    """Runs one process per call. Implementations must be safe to call concurrently."""

    name: str

    async def run(self, spec: ProcessSpec) -> ProcessResult: ...

    async def aclose(self) -> None: ...
