"""The executor seam: what the runner asks for (ProcessSpec) and what it gets back
(ProcessResult). Executors are interchangeable behind the Executor protocol; the core ships
``local`` (real processes) and ``fake`` (scripted exit codes, for testing manifests fast).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from psr_engine.units import Resources

# Why an attempt ended without an exit status of its own (ProcessResult.lost): the machine it
# ran on went away (retried like a failure), or the cluster itself did (the run stops).
Lost = Literal["worker_lost", "scheduler_lost"]


@dataclass(frozen=True, slots=True)
class TaskFiles:
    """The files of one attempt, for an executor whose workers do not see the engine's folders:
    it runs the attempt in a fresh folder holding ``send`` and brings back what ``collect``
    matches. Executors that run in ``root`` itself (local) ignore it."""

    root: str  # the task's folder on the engine's side (ProcessSpec.cwd)
    send: tuple[str, ...] = ()  # paths relative to root: script, inputs, upstream artifacts
    collect: tuple[str, ...] = ()  # globs relative to root: the task's artifacts


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
    # (output_lines.MAX_LINE) is cut only where no such string can straddle the cut, so a secret
    # is never written in two halves. 0: the filter replaces nothing longer than one byte.
    filter_window: int = 0
    # Each (filtered) line, decoded, without its line ending, for live ``task.log`` events.
    # Setting it also forces the pipe path.
    on_line: Callable[[str], None] | None = None
    # Called with the child's pid (= its process group id) once it runs: a remote executor
    # registers the group with a watchdog that kills it if the worker process dies. Not
    # called for a child that had ended, and been reaped, before the executor handed it back:
    # its pid may already belong to another process.
    on_start: Callable[[int], None] | None = None
    # make's trick: the words the shell of `argv` would exec (a plain `run:` command, see
    # expressions/shell_plain.py). An executor may exec these itself, and must then run `argv`
    # when they cannot start (not found, not executable, a script without #!), so the shell
    # reports it with its own words and exit code. Ignoring the field is always correct.
    direct: tuple[str, ...] | None = None
    files: TaskFiles | None = None
    # What the task asks for, and its labels: an executor that places attempts on a cluster's
    # workers (dask) places by them; a local one ignores them (the engine's ledger applies).
    resources: Resources | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # Called when the attempt is cancelled (an interrupt, a budget stop), once its process
    # group is stopped and reaped, with what it cost until then: run() itself only raises.
    on_cancelled: Callable[[ProcessResult], None] | None = None
    # Files the process is told to write to ($PSR_OUTPUT): created empty, mode 0600, before it
    # starts, so that its `>>` does not create them with its umask. An executor that ignores
    # it leaves them to the task (in the run's private folder all the same).
    private_files: tuple[str, ...] = ()


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
    # Set when the executor lost sight of the attempt (exit_code is then -1): see Lost.
    lost: Lost | None = None
    detail: str | None = None  # what happened, for the task's message
    # True: the executor found every file of ProcessSpec.private_files still empty once the
    # process had ended, and removed it. The runner then has nothing to read or remove (a
    # look at the file system fewer, on the event loop, for each task that wrote no outputs).
    private_files_gone: bool = False


class Executor(Protocol):
    """Runs one process per call. Implementations must be safe to call concurrently."""

    name: str

    async def run(self, spec: ProcessSpec) -> ProcessResult: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ShipsFiles(Protocol):
    """An executor whose workers may not see the engine's folders: ``ships_files()`` true asks
    the runner to fill ProcessSpec.files for each attempt."""

    def ships_files(self) -> bool: ...


@runtime_checkable
class Connectable(Protocol):
    """An executor that connects to something (a cluster) before its first attempt. The engine
    calls ``connect`` before the run starts, so an unreachable cluster is a clear error
    (ExecutorUnreachable, exit 2) rather than a failure in the middle of a run."""

    async def connect(self) -> None: ...
