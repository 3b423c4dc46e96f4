"""The worker's side of the Dask executor: what runs inside a ``dask worker`` for one attempt.

``run_attempt`` is the function the engine submits (by reference: the worker imports this
module). It runs the attempt with the local executor (process group, timeout, SIGTERM then
SIGKILL, rusage), and around it:

- Cancellation without a round trip: when the engine cancels the attempt's future, the
  scheduler tells the worker, whose own task state turns ``cancelled``. The runner looks at that
  state every ``CANCEL_POLL`` seconds (a dict lookup, no message) and stops the group as a
  timeout would, then tells the engine the group is gone (a ``done`` notice on its topic).
- A watchdog per worker process (``_Reaper``): a small process that holds the read end of a
  pipe from the worker and the ids of the process groups the worker is running. When the
  worker dies (kill -9, OOM), the pipe reaches EOF and the watchdog SIGKILLs those groups, so
  an attempt the engine reports ``worker_lost`` does not go on running behind its back. It
  lives in its own session, so a signal to the worker's group does not take it down first.

- Without a shared filesystem (``Shipment.fresh``): a fresh folder under the worker's
  ``--local-directory`` holding the shipped files, paths in the spec relocated to it, the log,
  ``$PSR_OUTPUT`` and the artifacts sent back, the folder removed. Live lines are read from the
  growing (already masked) log every ``CANCEL_POLL`` seconds (``_Tail``).

Everything here imports only the standard library, anyio and the local executor, so a worker
pays for nothing else.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio

from psr_engine.executors.base import ProcessResult, ProcessSpec
from psr_engine.executors.dask_staging import Staged, Staging

# Seconds between two looks, on the worker, at whether the attempt was cancelled.
CANCEL_POLL = 0.1

# The watchdog: reads "+PGID" / "-PGID" lines; at EOF (the worker is gone) kills what is left.
_REAPER_SOURCE = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    try:
        pgid = int(line[1:])
    except ValueError:
        continue
    if line[0] == "+":
        groups.add(pgid)
    else:
        groups.discard(pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Reaper:
    """The watchdog process of this worker process (see the module's docstring)."""

    def __init__(self) -> None:
        read_fd, self._write_fd = os.pipe()  # both close-on-exec: tasks never hold them
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-S", "-c", _REAPER_SOURCE],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_fd)
        self._lock = threading.Lock()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")

    def _send(self, line: str) -> None:
        with self._lock:
            os.write(self._write_fd, line.encode())


_reaper: _Reaper | None = None
_reaper_lock = threading.Lock()


def _the_reaper() -> _Reaper:
    global _reaper
    with _reaper_lock:
        if _reaper is None or _reaper.process.poll() is not None:
            _reaper = _Reaper()
        return _reaper


@dataclass(frozen=True, slots=True)
class Shipment:
    """One attempt as the engine submits it: the spec (paths as on the engine's side) and, when
    the worker does not share the engine's folders, the files to run it with."""

    spec: ProcessSpec
    topic: str  # the engine's event topic: started/done notices, live lines
    stream: bool  # send output lines as they come
    # No shared filesystem: run in a fresh folder holding these (path relative to the task's
    # folder -> bytes, or a Staged object), and bring back what ``collect`` matches.
    fresh: bool = False
    files: tuple[tuple[str, bytes | Staged], ...] = ()
    collect: tuple[str, ...] = ()
    staging: Staging | None = None  # where files above ``staging.threshold`` travel
    python: bool = False  # argv[0] is the engine's interpreter: use this worker's own


@dataclass(frozen=True, slots=True)
class Returned:
    """What comes back: the result, and in a fresh folder the files the engine reads."""

    result: ProcessResult | None  # None when the engine cancelled the attempt
    log: bytes | None = None  # the whole (masked) log
    outputs: bytes | None = None  # the $PSR_OUTPUT file, when the task wrote one
    artifacts: tuple[tuple[str, bytes | Staged], ...] = ()
    lines_sent: int = 0  # how many lines went live on the topic


def run_attempt(shipment: Shipment) -> Returned:
    """Run one attempt on this worker; streams its lines on the engine's topic when asked, and
    when the engine cancelled it, says there that its process group is gone."""
    from distributed import get_worker

    worker = get_worker()
    key = str(worker.get_current_task())
    topic = shipment.topic
    reaper = _the_reaper()
    groups: list[int] = []
    tail: _Tail | None = None

    def started(pgid: int) -> None:
        groups.append(pgid)
        reaper.watch(pgid)

    stopped = False

    def send(batch: list[str]) -> None:
        worker.log_event(topic, {"key": key, "lines": batch})

    def cancelled() -> bool:
        nonlocal stopped
        if tail is not None:
            tail.poll()
        state = worker.state.tasks.get(key)
        stopped = state is None or state.state == "cancelled"
        return stopped

    spec = replace(shipment.spec, on_start=started, on_line=None)
    if shipment.python:
        spec = replace(spec, argv=(sys.executable, *spec.argv[1:]))
    folder = None
    try:
        if not shipment.fresh:
            if shipment.stream:
                tail = _Tail(spec.log_path, send)
            result = _run_here(spec, cancelled)
            return Returned(result, lines_sent=tail.sent if tail is not None else 0)
        folder = tempfile.mkdtemp(prefix="psr-attempt-", dir=worker.local_directory)
        work = os.path.join(folder, "work")
        os.mkdir(work)
        _place(work, shipment.files, shipment.staging)
        _folders_for(work, shipment.collect)
        spec = _relocated(spec, folder, work)
        if shipment.stream:
            tail = _Tail(spec.log_path, send)
        result = _run_here(spec, cancelled)
        log = _read(spec.log_path) or b""
        if result is not None and result.exit_code != 0 and _MISSING_FILE.search(log):
            result = replace(result, detail=FRESH_FOLDER_HINT)
        return Returned(
            result,
            log=log,
            outputs=_read(spec.env["PSR_OUTPUT"]),
            artifacts=_gather(work, shipment.collect, shipment.staging, key),
            lines_sent=tail.sent if tail is not None else 0,
        )
    finally:
        if tail is not None:
            tail.close()
        for pgid in groups:
            reaper.forget(pgid)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if stopped:  # the engine waits for this; otherwise nobody does, and no message is sent
            worker.log_event(topic, {"key": key, "phase": "done"})


# The engine's message for a task that failed on a missing file in its fresh folder.
FRESH_FOLDER_HINT = (
    "the attempt ran in a fresh folder on a Dask worker that shares no folder with the engine, "
    "holding only the task's script, its inputs: and the artifacts: of the tasks it needs; "
    "declare the files it reads in inputs: (or as an upstream task's artifacts:)"
)
_MISSING_FILE = re.compile(
    rb"No such file or directory|FileNotFoundError|can't open file|cannot open|not found"
)
# Lines go to the engine in batches: at most this many, or what CANCEL_POLL seconds gathered.
_BATCH = 500


class _Tail:
    """The attempt's log as it grows, sent on in whole lines every CANCEL_POLL seconds (from
    the attempt's event loop). Reading the file the process writes, rather than a pipe, keeps
    the local executor's fast path (fds 1 and 2 are the log) and costs nothing for an attempt
    shorter than one poll; masking, when set, happened before the bytes reached the file. The
    last partial line is left to the log that comes back with the result."""

    def __init__(self, path: str, send: Callable[[list[str]], None]) -> None:
        self._path = path
        self._send = send
        self._file: Any = None
        self._partial = b""
        self.sent = 0

    def poll(self) -> None:
        if self._file is None:
            try:
                self._file = open(self._path, "rb")  # noqa: SIM115 -- kept open across polls
            except FileNotFoundError:
                return  # not created yet
        data = self._file.read(1 << 20)
        if not data:
            return
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        for start in range(0, len(pieces), _BATCH):
            batch = [
                p.decode("utf-8", "replace").rstrip("\r") for p in pieces[start : start + _BATCH]
            ]
            self._send(batch)
            self.sent += len(batch)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _relocated(spec: ProcessSpec, folder: str, work: str) -> ProcessSpec:
    """The spec with the engine's paths replaced by this worker's: the task's folder by the
    fresh one (also where an argument names a file under it), log and outputs beside it."""
    root = spec.cwd.rstrip("/") + "/"

    def here(arg: str) -> str:
        if arg == spec.cwd:
            return work
        return os.path.join(work, arg[len(root) :]) if arg.startswith(root) else arg

    env = dict(spec.env)
    env["PSR_OUTPUT"] = os.path.join(folder, "attempt.out")
    return replace(
        spec,
        argv=tuple(here(a) for a in spec.argv),
        env=env,
        cwd=work,
        log_path=os.path.join(folder, "attempt.log"),
        direct=None if spec.direct is None else tuple(here(a) for a in spec.direct),
        private_files=(env["PSR_OUTPUT"],),
    )


def _inside(work: str, relative: str) -> str:
    path = os.path.normpath(os.path.join(work, relative))
    if not path.startswith(work + os.sep):
        raise ValueError(f"refusing a file outside the attempt's folder: {relative!r}")
    return path


def _folders_for(work: str, collect: tuple[str, ...]) -> None:
    """The literal folders of the artifact globs (``out/`` of ``out/*.csv``): a task writes
    into them as it would in the engine's folder, where they exist."""
    for pattern in collect:
        parts = pattern.split("/")[:-1]
        literal = list(itertools.takewhile(lambda part: not _GLOB_MAGIC.search(part), parts))
        if literal:
            os.makedirs(_inside(work, os.path.join(*literal)), exist_ok=True)


_GLOB_MAGIC = re.compile(r"[*?\[]")


def _place(
    work: str, files: tuple[tuple[str, bytes | Staged], ...], staging: Staging | None
) -> None:
    for relative, content in files:
        path = _inside(work, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(content, bytes):
            with open(path, "wb") as handle:
                handle.write(content)
        else:
            assert staging is not None
            staging.download(content, path)


def _gather(
    work: str, collect: tuple[str, ...], staging: Staging | None, key: str
) -> tuple[tuple[str, bytes | Staged], ...]:
    from psr_engine.globs import matching_files

    found: dict[str, bytes | Staged] = {}
    for pattern in collect:
        for path in matching_files(work, pattern):
            relative = os.path.relpath(path, work)
            if relative in found:
                continue
            if staging is not None and os.path.getsize(path) > staging.threshold:
                found[relative] = staging.upload(path, f"{key}/artifacts/{relative}")
            else:
                with open(path, "rb") as handle:
                    found[relative] = handle.read()
    return tuple(found.items())


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _run_here(spec: ProcessSpec, cancelled: Callable[[], bool]) -> ProcessResult | None:
    """Run the attempt on an event loop of this (the Dask task's) thread, spawning inline.
    Measured against a warm loop in a thread of its own (exec_bench --dask): the two thread
    hops per attempt cost more worker CPU than making a loop."""
    return anyio.run(_supervised, spec, cancelled)


async def _supervised(spec: ProcessSpec, cancelled: Callable[[], bool]) -> ProcessResult | None:
    """The local executor's run, its group stopped once ``cancelled()`` turns true."""
    from psr_engine.executors.local import LocalExecutor

    result: ProcessResult | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while not cancelled():
                await anyio.sleep(CANCEL_POLL)
            group.cancel_scope.cancel()

        group.start_soon(watch)
        result = await LocalExecutor(spawn_in_thread=False).run(spec)
        group.cancel_scope.cancel()
    return result
