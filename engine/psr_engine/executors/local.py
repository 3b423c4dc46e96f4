"""The local executor: one real process per task attempt, as cheap as spawning gets.

How a process is run, and why:

- Spawned by vfork, never fork: no copy of the engine's memory, no Python code in the child.
  By default with ``subprocess.Popen`` on the event loop while spawns there are quick, and
  from worker threads while they are not (a busy machine: spawn_placement.py; in a thread,
  Popen's vfork releases the GIL, so spawns overlap); with ``spawn_in_thread=False`` by
  ``os.posix_spawn`` on the event loop, or Popen when the working directory differs
  (posix_spawn cannot change directory). Only the spawn differs; everything after is shared.
  asyncio's subprocess machinery is avoided on purpose: its child watcher costs far more than
  the spawn.
- Each child leads its own session, so its process group id is its pid and the whole tree
  can be signalled at once (``os.killpg``): timeouts and cancellation reach grandchildren.
- The exit is awaited on a pidfd with ``anyio.wait_readable``: no SIGCHLD handler. (The
  spawning thread first polls the pidfd for LINGER_MS: a child that ends by then is reaped
  there, the same way, and the loop hears of it once.) When it fires the leader is a zombie,
  not yet reaped, so its pid (= the group id) cannot be reused: that is the moment to SIGKILL
  whatever is left in its group (as GitHub Actions does at the end of a step). Then
  ``os.wait4`` reaps it and yields the rusage.
- Output: on the fast path fds 1 and 2 are the log file itself. When an output filter or a
  line callback is set, output goes through a pipe read without blocking, split into lines,
  and only filtered bytes are written.
- Every descriptor the engine opens is close-on-exec (Python's default, and pidfds always
  are), so concurrent children never inherit each other's pipes or logs.

Failures to start are results, not exceptions, like a shell: a command that is not found or
not executable, or a working directory that does not exist, ends with exit code 127, pid 0 and
one ``psr-engine: ...`` line in the log saying what was missing.

``max_rss`` is what the kernel reports for the process tree. A vfork child inherits the
spawning process's peak at exec, so for a task whose own peak is below the engine's, the
kernel's figure is the engine's: such a task reports 0 (no measurable peak) rather than a wrong
number. The engine's peak here is its own memory's (executors/peak_rss.py), not what it
inherited from whatever started it. This is the local executor's rule, as the inheritance is:
a remote or fake executor's figures are its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from psr_engine.errors import ExecutionError
from psr_engine.executors import peak_rss
from psr_engine.executors.base import ProcessResult, ProcessSpec
from psr_engine.executors.keeper import ENV_VAR as KEEPER_ENV
from psr_engine.executors.keeper import Keeper
from psr_engine.executors.keeper import acquire as keeper_acquire
from psr_engine.executors.keeper import release as keeper_release
from psr_engine.executors.output_lines import LineWriter, write_all
from psr_engine.executors.spawn_placement import SpawnPlacement
from psr_engine.executors.spawn_pool import SpawnPool
from psr_engine.store.private import open_private

if TYPE_CHECKING:
    from resource import struct_rusage

# Exit code for a process that could not be started at all (the shell's "command not found").
EXIT_NOT_STARTED = 127
# After the leader exits and its group is killed, how long to wait for the pipe to reach EOF.
# Only a process that left the group (setsid) can hold it open longer; we stop reading then.
DRAIN_TIMEOUT = 2.0
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
# Python ignores SIGPIPE and SIGXFSZ; children must get the defaults back (as subprocess does)
# or `producer | head` never ends.
_RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)

_which_cache: dict[tuple[str, str | None], str] = {}
_POOL = SpawnPool()  # the spawning threads, shared by every local executor of the process
# How long a spawning thread waits for the child it started before handing it to the event
# loop (milliseconds). A task that ends within it (a `true`, a quick check) is reaped by the
# thread and comes back to the loop once, with its ending, rather than twice (its pid, then
# the pidfd's readiness): two loop wake-ups and the loop's reap syscalls fewer per task.
# Longer tasks lose nothing but this much of a thread's time (a thread is free while the
# loop waits), and the loop learns their pid this much later (kills and timeouts wait as
# long for it: a timeout is counted from the spawn all the same).
LINGER_MS = 5
# Every child's stdin: /dev/null, opened once (close-on-exec) rather than by each Popen,
# which opens and closes it again per spawn (two system calls, each a hand-off of the GIL).
_stdin_fd = -1
_stdin_lock = threading.Lock()


class _NotStarted(Exception):
    """The child could not be started; carries the log line explaining why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.log_fd = -1  # set by _open_and_spawn


@dataclass(slots=True)
class _Child:
    pid: int
    pidfd: int
    popen: subprocess.Popen[bytes] | None  # kept so subprocess never reaps our child itself
    exited: bool = False  # the pidfd fired: the leader is a zombie, its group id still reserved
    spawned: float = 0.0  # time.monotonic() once it was started
    floor: int = 0  # the engine's peak RSS (KiB) as it spawned it: the child inherits it at exec
    # (status, rusage) when the spawning thread saw it end within LINGER_MS and reaped it
    reaped: tuple[int, struct_rusage] | None = None
    private_files_gone: bool = False  # that thread removed every private file, left empty


class LocalExecutor:
    """Runs each ProcessSpec as a local process group. Safe to call concurrently.

    ``spawn_in_thread`` (default True): start processes with ``subprocess.Popen``, from
    worker threads when ``alone_on_loop`` and ``adaptive`` below do not put them on the loop
    (its vfork releases the GIL there, so several spawns proceed at once and the event loop
    never waits for one). False: ``os.posix_spawn`` on the event loop itself,
    which holds the GIL and the loop until the child has exec'd; cheapest on an idle machine,
    but spawns then queue behind each other, and on a busy machine each one waits for a CPU
    (see benchmarks/spawn_bench.py). Measured again on W1 (1,000 `true`, concurrency 2): on
    the loop took 16% less wall time than from threads at load 3, and 50% more at load 5-7.
    With threads, a spawning thread also waits up to LINGER_MS for its child, and reaps one
    that ended by then (see LINGER_MS).

    ``alone_on_loop`` (default True, with ``spawn_in_thread``): an attempt that is the only
    one of this executor's under way (a chain of tasks) is spawned by the same Popen on the
    event loop, which then has nothing else to wait for: the hand-offs to a thread and back
    cost more than they overlap.

    ``adaptive`` (default True, with ``spawn_in_thread``): the other attempts are spawned on
    the event loop too while the latest spawns there took under a millisecond at the median,
    and from threads while they took longer (spawn_placement.py). False: always from threads.
    """

    name = "local"

    def __init__(
        self, *, spawn_in_thread: bool = True, alone_on_loop: bool = True, adaptive: bool = True
    ) -> None:
        self.spawn_in_thread = spawn_in_thread
        self.alone_on_loop = alone_on_loop
        # None: every attempt that is not alone goes to a thread.
        self._placement = SpawnPlacement() if adaptive else None
        self._keeper: Keeper | None = None
        self._keeper_tried = False
        self._in_flight = 0  # attempts between run()'s start and end

    async def run(self, spec: ProcessSpec) -> ProcessResult:
        """Run one attempt to its end; on cancellation, stop its process group, then re-raise."""
        piped = spec.output_filter is not None or spec.on_line is not None
        read_fd = write_fd = log_fd = -1
        self._in_flight += 1
        try:
            if piped:
                read_fd, write_fd = os.pipe()  # both close-on-exec
                os.set_blocking(read_fd, False)
            keeper = self._keeper if self._keeper_tried else self._start_keeper()
            env = spec.env
            if keeper is not None:
                # Marks the task and everything it starts, setsid or not, as this run's.
                env = {**env, KEEPER_ENV: keeper.token}
            started_at = time.time()
            start = time.monotonic()
            try:
                log_fd, child = await self._spawn(spec, env, write_fd, keeper)
            except _NotStarted as failed:
                log_fd = failed.log_fd
                line = failed.message.encode("utf-8", "replace")
                if spec.output_filter is not None:
                    line = spec.output_filter(line)
                if spec.on_line is not None:
                    spec.on_line(line.decode("utf-8", "replace"))
                write_all(log_fd, line + b"\n")
                return _not_started(started_at)
            finally:
                if write_fd >= 0:
                    os.close(write_fd)  # the child holds it now; EOF comes when the tree exits
            floor = child.floor
            if child.reaped is not None:
                return await _reaped_in_thread(child, spec, started_at, start, floor)
            ended = False
            try:
                if spec.on_start is not None:
                    spec.on_start(child.pid)
                if piped:
                    timed_out = await _supervise_piped(child, spec, read_fd, log_fd)
                else:
                    timed_out = await _supervise(child, spec)
                ended = True
            finally:
                if not child.exited:  # only when something failed between spawn and wait
                    with anyio.CancelScope(shield=True):
                        await _stop(child, spec.kill_grace)
                status, usage = _reap(child)
                if keeper is not None:
                    keeper.ended(child.pid)
                if not ended and spec.on_cancelled is not None:
                    spent = time.monotonic() - start
                    spec.on_cancelled(
                        _result(child.pid, status, usage, False, started_at, spent, floor)
                    )
            duration = time.monotonic() - start
        finally:
            self._in_flight -= 1
            if log_fd >= 0:
                os.close(log_fd)
            if read_fd >= 0:
                os.close(read_fd)
        return _result(child.pid, status, usage, timed_out, started_at, duration, floor)

    async def aclose(self) -> None:
        """Let go of the keeper (every run cleaned up after itself)."""
        keeper, self._keeper = self._keeper, None
        self._keeper_tried = False
        if keeper is not None:
            keeper_release(keeper)

    def _start_keeper(self) -> Keeper | None:
        """Tasks must not outlive a killed engine: the keeper kills them then (keeper.py)."""
        self._keeper_tried = True
        self._keeper = keeper_acquire()
        return self._keeper

    async def _spawn(
        self, spec: ProcessSpec, env: Mapping[str, str], pipe_fd: int, keeper: Keeper | None
    ) -> tuple[int, _Child]:
        """(the log's fd, the child), its output to the pipe when `pipe_fd` >= 0. From a
        thread, a child that ends within LINGER_MS comes back reaped (`child.reaped`), its log
        closed (fd -1)."""
        if not self.spawn_in_thread:
            return _open_and_spawn(spec, env, pipe_fd, True, keeper)
        placement = self._placement
        if (self._in_flight == 1 and self.alone_on_loop) or (
            placement is not None and placement.on_loop()
        ):
            # Nothing else of ours under way (a chain of tasks: no spawn to overlap with, no
            # other exit for the loop to see meanwhile), or spawns on the loop are quick on
            # this machine now (spawn_placement.py). The same Popen, on the loop, saves the
            # hand-offs to a thread and back (W2, a chain of 300: 9% less wall time).
            began = time.monotonic()
            started = _open_and_spawn(spec, env, pipe_fd, False, keeper)
            if placement is not None:
                placement.observe(time.monotonic() - began)
            return started
        # Waiting for the child in the thread needs no loop: not with a pipe to pump.
        linger = LINGER_MS if pipe_fd < 0 else 0
        if spec.timeout is not None:  # the thread never sees a timeout: it hands back first
            linger = min(linger, int(spec.timeout * 1000))
        # Shielded: a cancellation must not abandon a child that is being born. It is
        # delivered at the next checkpoint (in _supervise, which then stops the child, or
        # in _reaped_in_thread).
        with anyio.CancelScope(shield=True):
            started = await _POOL.run(_open_and_spawn, spec, env, pipe_fd, False, keeper, linger)
        return started


# --- spawning --------------------------------------------------------------------------------


def _open_log(path: str) -> int:
    try:
        return open_private(path, _LOG_FLAGS)  # logs hold task output: the owner's only
    except OSError as exc:
        raise ExecutionError(f"cannot open the task log {path}: {exc.strerror}") from exc


def _resolve(name: str, cwd: str, path_env: str | None) -> str:
    """The program argv[0] names, found like a shell would, using the child's PATH."""
    if "/" in name:
        return os.path.join(cwd, name)  # relative names are relative to the child's cwd
    key = (name, path_env)
    found = _which_cache.get(key)
    if found is None:
        found = shutil.which(name, path=path_env if path_env is not None else os.defpath)
        if found is None:
            raise _NotStarted(f"psr-engine: command not found: {name}")
        if len(_which_cache) > 1024:  # a bound, not an eviction policy: keys are few
            _which_cache.clear()
        _which_cache[key] = found = os.path.abspath(found)
    return found


def _open_and_spawn(
    spec: ProcessSpec,
    env: Mapping[str, str],
    pipe_fd: int,
    inline: bool,
    keeper: Keeper | None,
    linger_ms: int = 0,
) -> tuple[int, _Child]:
    """The log opened, then the child started writing to it (or to the pipe), both where the
    spawn is made: on the event loop, or in a spawning thread once spawns there are slow
    (spawn_placement.py times this whole call, so a disk that makes the log's creation wait
    milliseconds sends spawns to threads). _NotStarted carries the log's fd, for the line
    saying why.

    Then, for up to ``linger_ms``, the thread waits for the child: one that ends by then is
    reaped here (its group killed first, as _reap does), its log closed and its private
    files removed when it left them empty (take_outputs would find nothing in them)."""
    log_fd = _open_log(spec.log_path)
    for path in spec.private_files:
        with contextlib.suppress(OSError):  # else the task creates it, as before
            os.close(open_private(path, _LOG_FLAGS))
    floor = peak_rss.floor_kib()  # read where the spawn is made: in a thread, off the loop
    try:
        child = _spawn_direct(spec, env, pipe_fd if pipe_fd >= 0 else log_fd, inline)
    except _NotStarted as failed:
        failed.log_fd = log_fd
        raise
    except BaseException:
        os.close(log_fd)
        raise
    child.floor = floor
    # Told here, not once the loop hears of it: an engine killed in between leaves no task.
    if keeper is not None:
        keeper.started(child.pid)
    if linger_ms <= 0:
        return log_fd, child
    waiter = select.poll()
    waiter.register(child.pidfd, select.POLLIN)
    if not waiter.poll(linger_ms):
        return log_fd, child
    child.exited = True
    try:
        child.reaped = _reap(child)
    finally:
        os.close(log_fd)
    if keeper is not None:
        keeper.ended(child.pid)
    gone = [_remove_if_empty(path) for path in spec.private_files]  # each, whatever the rest
    child.private_files_gone = bool(gone) and all(gone)
    return -1, child


def _remove_if_empty(path: str) -> bool:
    """A task's private file it left empty goes now (True); one it wrote is read and
    removed by its reader (take_outputs)."""
    try:
        if os.stat(path).st_size == 0:
            os.unlink(path)
            return True
    except OSError:
        pass  # gone already, or not ours to remove: the reader sees to it
    return False


def _spawn_direct(spec: ProcessSpec, env: Mapping[str, str], out_fd: int, inline: bool) -> _Child:
    """`spec.direct` exec'd without the shell when it starts; else `spec.argv`, whose shell then
    says why the program could not start, in its words and with its exit code (127, 126).
    The argv and environment are passed down, not set on a copy of the spec: a
    dataclasses.replace per spawn cost more than the rest of this function."""
    if spec.direct is not None:
        try:
            return _spawn(spec.direct, spec.cwd, env, out_fd, inline)
        except _NotStarted:
            pass
    return _spawn(spec.argv, spec.cwd, env, out_fd, inline)


def _spawn(
    argv: tuple[str, ...], workdir: str | None, env: Mapping[str, str], out_fd: int, inline: bool
) -> _Child:
    """Start the child; inline: with posix_spawn when it can (same cwd), else with Popen."""
    if not argv:
        raise ValueError("ProcessSpec.argv is empty")
    # The engine's own folder only when it matters: a spawning thread (not inline) is given
    # an absolute cwd by the scheduler, so it spares a getcwd (a system call, a GIL hand-off).
    here = os.getcwd() if inline or not workdir else ""
    cwd = os.path.abspath(workdir) if workdir else here
    path_env = env.get("PATH")
    program = _resolve(argv[0], cwd, path_env)
    popen = None
    try:
        if inline and cwd == here:
            pid = os.posix_spawn(
                program,
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, out_fd, 1),
                    (os.POSIX_SPAWN_DUP2, out_fd, 2),
                ],
                setsid=True,
                setsigdef=_RESET_SIGNALS,
            )
        else:
            popen = subprocess.Popen(
                argv,
                executable=program,
                stdin=_stdin(),
                stdout=out_fd,
                stderr=out_fd,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
            pid = popen.pid
    except OSError as exc:
        _which_cache.pop((argv[0], path_env), None)
        raise _NotStarted(_spawn_error(exc, argv[0], cwd)) from None
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:  # out of descriptors: do not leave the child behind
        _kill_group(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if popen is not None:
            popen.returncode = -signal.SIGKILL
        raise ExecutionError(f"cannot watch process {pid}: {exc.strerror}") from exc
    return _Child(pid, pidfd, popen, spawned=time.monotonic())


def _stdin() -> int:
    global _stdin_fd
    if _stdin_fd < 0:
        with _stdin_lock:
            if _stdin_fd < 0:
                _stdin_fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)  # as Popen opens it
    return _stdin_fd


def _spawn_error(exc: OSError, name: str, cwd: str) -> str:
    if exc.filename == cwd or not os.path.isdir(cwd):
        return f"psr-engine: working directory not found: {cwd}"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"psr-engine: command not found: {name}"
    if exc.errno == errno.EACCES:
        return f"psr-engine: permission denied (not executable): {name}"
    return f"psr-engine: cannot run {name}: {exc.strerror}"


# --- waiting, stopping, reaping --------------------------------------------------------------


async def _reaped_in_thread(
    child: _Child, spec: ProcessSpec, started_at: float, start: float, floor: int
) -> ProcessResult:
    """The result of a child its spawning thread saw end and reaped. A cancellation that
    came meanwhile is delivered here, as _supervise would have: the attempt is charged
    (on_cancelled), then the cancellation goes on."""
    assert child.reaped is not None
    status, usage = child.reaped
    # No on_start: the group is gone and its pid reaped, so free for another process; a
    # watchdog told of it now could kill whoever gets it next.
    spent = time.monotonic() - start
    result = _result(
        child.pid, status, usage, False, started_at, spent, floor, child.private_files_gone
    )
    try:
        await anyio.lowlevel.checkpoint_if_cancelled()
    except BaseException:
        if spec.on_cancelled is not None:
            spec.on_cancelled(result)
        raise
    return result


async def _supervise(child: _Child, spec: ProcessSpec) -> bool:
    """Wait for the leader to exit; stop the group on timeout or cancellation. True: timed out."""
    try:
        if spec.timeout is None:
            await anyio.wait_readable(child.pidfd)
            child.exited = True
            return False
        # Counted from the spawn: the spawning thread may have waited for the child a while.
        with anyio.move_on_after(spec.timeout - (time.monotonic() - child.spawned)):
            await anyio.wait_readable(child.pidfd)
            child.exited = True
            return False
    except BaseException:  # cancelled from outside (or worse): the group must not outlive us
        if not child.exited:
            with anyio.CancelScope(shield=True):
                await _stop(child, spec.kill_grace)
        raise
    with anyio.CancelScope(shield=True):  # a cancellation during the grace must not skip KILL
        await _stop(child, spec.kill_grace)
    return True


async def _stop(child: _Child, grace: float) -> None:
    """SIGTERM the group, SIGKILL it if the leader outlives the grace; return once it exited."""
    _kill_group(child.pid, signal.SIGTERM)
    with anyio.move_on_after(grace):
        await anyio.wait_readable(child.pidfd)
        child.exited = True
    if not child.exited:
        _kill_group(child.pid, signal.SIGKILL)
        await anyio.wait_readable(child.pidfd)
        child.exited = True


def _kill_group(pgid: int, sig: int) -> None:
    try:  # noqa: SIM105 -- once per task: a plain try is cheaper than contextlib.suppress
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # nobody left in the group


def _reap(child: _Child) -> tuple[int, struct_rusage]:
    """Kill what is left of the group, then reap the leader. Call only once it has exited."""
    _kill_group(child.pid, signal.SIGKILL)  # the pid is still ours: the group id cannot be reused
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        os.close(child.pidfd)
    if child.popen is not None:
        child.popen.returncode = os.waitstatus_to_exitcode(status)
    return status, usage


def _result(
    pid: int,
    status: int,
    usage: struct_rusage,
    timed_out: bool,
    started_at: float,
    duration: float,
    floor_kib: int,
    private_files_gone: bool = False,
) -> ProcessResult:
    """``floor_kib``: the engine's own peak when it spawned the child (see the module's note
    on max_rss): a peak not above it is no measurement."""
    code = os.waitstatus_to_exitcode(status)
    sig = -code if code < 0 else None
    return ProcessResult(
        exit_code=128 + sig if sig is not None else code,
        signal=sig,
        timed_out=timed_out,
        started_at=started_at,
        duration=duration,
        cpu_user=usage.ru_utime,
        cpu_sys=usage.ru_stime,
        max_rss=usage.ru_maxrss * 1024 if usage.ru_maxrss > floor_kib else 0,  # KiB on Linux
        pid=pid,
        private_files_gone=private_files_gone,
    )


def _not_started(started_at: float) -> ProcessResult:
    return ProcessResult(
        exit_code=EXIT_NOT_STARTED,
        signal=None,
        timed_out=False,
        started_at=started_at,
        duration=0.0,
        cpu_user=0.0,
        cpu_sys=0.0,
        max_rss=0,
        pid=0,
    )


# --- the pipe path ---------------------------------------------------------------------------


async def _supervise_piped(child: _Child, spec: ProcessSpec, read_fd: int, log_fd: int) -> bool:
    """Like _supervise, while pumping the pipe into the log until EOF (or the drain timeout).

    The pump is shielded so it keeps reading while the group is being stopped: a child
    blocked on a full pipe could not exit on SIGTERM, and its last words belong in the log.
    """
    lines = LineWriter(log_fd, spec.output_filter, spec.on_line, spec.filter_window)
    pump_scope = anyio.CancelScope(shield=True)
    pumped = anyio.Event()

    async def pump() -> None:
        try:
            with pump_scope:
                await lines.pump(read_fd)
        finally:
            pumped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(pump)
        try:
            timed_out = await _supervise(child, spec)
        finally:
            with anyio.CancelScope(shield=True):
                if child.exited:
                    _kill_group(child.pid, signal.SIGKILL)  # leftovers may hold the pipe
                    with anyio.move_on_after(DRAIN_TIMEOUT):
                        await pumped.wait()
                pump_scope.cancel()
    return timed_out
