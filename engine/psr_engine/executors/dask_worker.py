"""The worker's side of the Dask executor: what runs inside a ``dask worker`` for one attempt.

``run_attempt`` is the function the engine submits (by reference: the worker imports this
module). It runs the attempt with the local executor (process group, timeout, SIGTERM then
SIGKILL, rusage), and around it:

- Cancellation without a round trip: when the engine cancels the attempt's future, the
  scheduler tells the worker, whose own task state turns ``cancelled``. The runner looks at that
  state every ``CANCEL_POLL`` seconds (a dict lookup, no message) and stops the group as a
  timeout would, then tells the engine the group is gone (a ``done`` notice on its topic).
- A watchdog per worker process: the local executor's keeper (``keeper.py``), started by the
  first attempt a worker process runs. It holds the read end of a pipe from the worker and the
  process groups of the attempts it runs; when the worker dies (kill -9, OOM), the pipe
  reaches EOF and the keeper SIGKILLs those groups (and whatever carries their token), so an
  attempt the engine reports ``worker_lost`` does not go on running behind its back.

- Without a shared filesystem (``Shipment.fresh``): a fresh folder under the worker's
  ``--local-directory`` (one ``mkdir``, named after the attempt's Dask key, in the worker's
  private ``psr-attempts`` folder) holding the shipped files, paths in the spec relocated to
  it, the log and ``$PSR_OUTPUT`` beside it; the log, the outputs and the artifacts sent back
  (small results also announced on the engine's topic), then the three removed. Live lines
  are read from the growing (already masked) log every ``CANCEL_POLL`` seconds (``_Tail``),
  from the first poll on: an attempt shorter than that never opens it twice.

What every attempt of a worker thread shares is kept warm: the local executor (and with it
the keeper) per worker process, an event loop per worker thread.

Everything here imports only the standard library, anyio and the local executor, so a worker
pays for nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from psr_engine.executors.base import ProcessResult, ProcessSpec
from psr_engine.executors.dask_staging import Staged, Staging, write_shipped

if TYPE_CHECKING:
    from psr_engine.executors.local import LocalExecutor

# Seconds between two looks, on the worker, at whether the attempt was cancelled.
CANCEL_POLL = 0.1


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
    log: bytes | None = None  # the whole (masked) log; None: empty, or the engine's own
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
    tail: _Tail | None = None
    stopped = False

    def send(batch: list[str]) -> None:
        worker.log_event(topic, {"key": key, "lines": batch})

    def cancelled() -> bool:
        nonlocal stopped
        state = worker.state.tasks.get(key)
        stopped = state is None or state.state == "cancelled"
        return stopped

    def tick() -> None:
        if tail is not None:
            tail.poll()

    spec = shipment.spec
    if shipment.python:
        spec = replace(spec, argv=(sys.executable, *spec.argv[1:]))
    work = None
    try:
        if not shipment.fresh:
            if shipment.stream:
                tail = _Tail(spec.log_path, send)
            result = _run_here(spec, cancelled, tick)
            return _announced(
                worker, topic, key, Returned(result, lines_sent=tail.sent if tail else 0)
            )
        work = _fresh_folder(worker.local_directory, key)
        _place(work, shipment.files, shipment.staging)
        _folders_for(work, shipment.collect)
        spec = _relocated(spec, work)
        if shipment.stream:
            tail = _Tail(spec.log_path, send)
        result = _run_here(spec, cancelled, tick)
        log = _read(spec.log_path) or b""
        if result is not None and result.exit_code != 0 and _MISSING_FILE.search(log):
            result = replace(result, detail=FRESH_FOLDER_HINT)
        returned = Returned(
            result,
            # None when empty: the engine's copy is the empty log it made at the start, and
            # with no outputs it writes no file to read back.
            log=log or None,
            outputs=_read(spec.env["PSR_OUTPUT"]) or None,
            artifacts=_gather(work, shipment.collect, shipment.staging, key),
            lines_sent=tail.sent if tail is not None else 0,
        )
        return _announced(worker, topic, key, returned)
    finally:
        if tail is not None:
            tail.close()
        if work is not None:
            _remove(work)
        if stopped:  # the engine waits for this; otherwise nobody does, and no message is sent
            worker.log_event(topic, {"key": key, "phase": "done"})


def _announced(worker: Any, topic: str, key: str, returned: Returned) -> Returned:
    """``returned``, also sent on the engine's topic when small: the engine then need not
    gather it (a request to the scheduler, and from it to this worker). Sent before the task
    ends, so it reaches the engine before the scheduler's word that the task is done. Still
    returned: a result that did not come that way is gathered as before.

    Only a result made of the status and the (masked) log: the scheduler keeps a topic's last
    events until the engine closes, as it keeps live lines; ``$PSR_OUTPUT`` (raw, maybe with
    a secret) and artifacts only pass through it, in a gather."""
    if returned.result is None:
        return returned  # cancelled: the engine waits for the "done" notice instead
    if returned.outputs is not None or returned.artifacts:
        return returned
    data = pickle.dumps(returned, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) <= ANNOUNCE_BYTES:
        message = {"key": key, "returned": data}
        if announcer is not None:
            announcer.hold(key, topic, message)  # sent with the task's end (dask_announcer)
        else:
            worker.log_event(topic, message)
    return returned


# The largest result announced on the topic (the scheduler keeps a topic's last 1,000 events).
ANNOUNCE_BYTES = 16 << 10


class Announcer(Protocol):
    def hold(self, key: str, topic: str, message: dict[str, Any]) -> None: ...


# This worker process's dask_announcer.ResultAnnouncer, once the engine has registered it.
announcer: Announcer | None = None


def _fresh_folder(local_directory: str, key: str) -> str:
    """The attempt's own new folder, named after its (unique) Dask key: one mkdir, in this
    worker's private folder of attempts (``_attempts``). Its log and outputs go beside it
    (``_relocated``), not in it: the task's folder holds only what it was sent and writes."""
    base = _attempts(local_directory)
    try:
        work = os.path.join(base, key)
        os.mkdir(work, 0o700)
    except FileExistsError:  # cannot happen with Dask's retries off; never reuse a folder
        work = tempfile.mkdtemp(prefix=f"{key}-", dir=base)
    return work


_bases: dict[str, str] = {}


def _attempts(local_directory: str) -> str:
    """``psr-attempts`` under the worker's local directory, 0700 (tightened if it was not),
    made once per worker process: nobody but the worker's user can enter it, so the
    ``$PSR_OUTPUT`` files in it need not be made 0600 before the task writes them (creating a
    file costs a file system far more than truncating or removing one)."""
    base = _bases.get(local_directory)
    if base is None:
        from psr_engine.store.private import make_private_dirs, tighten

        base = os.path.join(local_directory, "psr-attempts")
        make_private_dirs(base)
        tighten(base)
        _bases[local_directory] = base
    return base


def _remove(work: str) -> None:
    """The attempt's folder and the two files beside it: three system calls when the task
    left its folder empty (the common case), a tree walk otherwise."""
    for path in (work + ".log", work + ".out"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            shutil.rmtree(path, ignore_errors=True)  # the task made it a folder of its own
    try:
        os.rmdir(work)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(work, ignore_errors=True)


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


def _relocated(spec: ProcessSpec, work: str) -> ProcessSpec:
    """The spec with the engine's paths replaced by this worker's: the task's folder by the
    fresh one (also where an argument names a file under it), log and outputs beside it."""
    root = spec.cwd.rstrip("/") + "/"

    def here(arg: str) -> str:
        if arg == spec.cwd:
            return work
        return os.path.join(work, arg[len(root) :]) if arg.startswith(root) else arg

    env = dict(spec.env)
    env["PSR_OUTPUT"] = work + ".out"  # made by the task's first write, if any (_attempts)
    return replace(
        spec,
        argv=tuple(here(a) for a in spec.argv),
        env=env,
        cwd=work,
        log_path=work + ".log",
        direct=None if spec.direct is None else tuple(here(a) for a in spec.direct),
        private_files=(),
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
        write_shipped(_inside(work, relative), content, staging)


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


def _run_here(
    spec: ProcessSpec, cancelled: Callable[[], bool], tick: Callable[[], None]
) -> ProcessResult | None:
    """Run the attempt on this (the Dask task's) thread's own event loop, spawning inline.
    Measured against a warm loop in a thread of its own (exec_bench --dask): the two thread
    hops per attempt cost more worker CPU than a loop in the task's thread; and making that
    loop per attempt (anyio.run) cost 0.5 ms of CPU more than keeping one per thread."""
    return _thread_loop().run_until_complete(_supervised(spec, cancelled, tick))


_threads = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This worker thread's event loop, made by its first attempt and kept: Dask's worker
    threads live as long as the worker, and an idle loop holds two descriptors, no thread."""
    loop: asyncio.AbstractEventLoop | None = getattr(_threads, "loop", None)
    if loop is None or loop.is_closed():
        loop = _threads.loop = asyncio.new_event_loop()
    return loop


_local: LocalExecutor | None = None


def _executor() -> LocalExecutor:
    """The worker process's local executor, shared by its threads (it is safe to call
    concurrently): its keeper is started once, by the first attempt."""
    global _local
    if _local is None:
        from psr_engine.executors.local import LocalExecutor

        _local = LocalExecutor(spawn_in_thread=False)
    return _local


async def _supervised(
    spec: ProcessSpec, cancelled: Callable[[], bool], tick: Callable[[], None]
) -> ProcessResult | None:
    """The local executor's run, its group stopped once ``cancelled()`` turns true; ``tick``
    every CANCEL_POLL seconds after the first (live lines)."""
    result: ProcessResult | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while not cancelled():
                await anyio.sleep(CANCEL_POLL)
                tick()
            group.cancel_scope.cancel()

        group.start_soon(watch)
        result = await _executor().run(spec)
        group.cancel_scope.cancel()
    return result
