"""The Dask executor: each task attempt runs as a process on a Dask worker.

``spec.executor: {type: dask, address: "tcp://scheduler:8786"}``. The engine stays the
scheduler of the workflow (DAG, retries, events, cache); Dask only decides which worker starts
each process. On the worker the attempt is run by the local executor itself (see
``dask_worker.py``), so a task behaves the same wherever it runs.

Faults, and what each becomes:

- The scheduler cannot be reached (nothing listens, or something that is not Dask does):
  ``connect`` gives up after ``connectTimeout`` with ExecutorUnreachable (exit 2), before
  anything runs: the engine connects before the run starts.
- A worker dies during an attempt: the attempt is ``lost`` (``worker_lost``) and the engine
  retries it per the task's ``retries``. Dask's own retry is turned off (the scheduler's
  ``allowed-failures`` is set to 0 on connect), so Dask never starts a second copy behind the
  engine's back, and the worker's watchdog kills the first copy's process group.
- The scheduler goes away mid-run: running attempts are lost (``scheduler_lost``) and the
  engine stops the run; later attempts (onExit) end the same way at once.
- Cancellation (Ctrl-C, a stop): the engine cancels the attempt's future; the worker sees it
  in its own task state, stops the process group, and reports on the engine's topic; the
  engine waits for that report up to the kill grace plus ``CANCEL_SLACK``.

Assumptions: the same psr-engine on the workers (they import ``dask_worker``). Without a
shared filesystem (the default) each attempt runs in a fresh folder on its worker, its files
shipped there and back (``ships_files``); with ``sharedFilesystem: true`` the worker opens
``spec.log_path``, runs in ``spec.cwd`` and writes ``$PSR_OUTPUT`` where the engine reads it.
Secrets are masked on the worker: the output filter (a picklable Masker) travels with the
attempt. ``on_line`` cannot cross processes: the worker sends the (masked) lines on the
executor's topic as they come, and the rest are replayed from the log once the attempt ends.

Per-task cost (``exec_bench --dask``): the attempts started at the same moment go to the
scheduler in one ``map`` (``_submit``) and their results come back in one ``gather``
(``_result``); the worker keeps its loop and executor warm (``dask_worker``).

``distributed`` is imported inside methods only: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.util import find_spec
from typing import Any

import anyio
import anyio.to_thread

from psr_engine.errors import ExecutionError, ExecutorUnreachable
from psr_engine.executors import dask_files
from psr_engine.executors.base import Lost, ProcessResult, ProcessSpec, TaskFiles
from psr_engine.executors.dask_placement import WORKERS_TTL, placement_of
from psr_engine.executors.dask_staging import Staged, Staging, validate_staging
from psr_engine.executors.dask_worker import Returned, Shipment, run_attempt
from psr_engine.units import parse_duration

# Beyond the kill grace, how long the engine waits for a cancelled attempt to report its end.
CANCEL_SLACK = 5.0
# How long the future of an ended attempt is kept, so that those ending close together are
# released together (see _let_go); its result is held on its worker until then.
RELEASE_AFTER = 0.1
# How long connecting to the scheduler may take, unless `connectTimeout` says otherwise.
CONNECT_TIMEOUT = 10.0
_KEY_PREFIX = "psr-attempt-"

_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
# Manifest option -> keyword of DaskExecutor (the manifest spells options in camelCase).
_OPTIONS = {"connectTimeout": "connect_timeout", "sharedFilesystem": "shared_filesystem"}
# Lines streamed live are also written to the log as they come, in appends of this many at most.
_LOG_BATCH = 1 << 16


def validate_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The registry's check of `spec.executor: {type: dask, ...}` at compile time, without
    importing distributed: the scheduler's address must be one Dask can connect to."""
    problems: list[tuple[str, str]] = []
    address = options.get("address")
    if address is not None:
        if not isinstance(address, str) or not address.strip():
            problems.append(
                ("address", "the dask scheduler's address must be text like tcp://host:8786")
            )
        else:
            scheme, found, _ = address.partition("://")
            if found and scheme not in _SCHEMES:
                problems.append(
                    (
                        "address",
                        f"dask cannot connect to {address!r}: use one of the schemes "
                        f"{', '.join(_SCHEMES)} (e.g. tcp://scheduler:8786)",
                    )
                )
    if "staging" in options:
        problems += validate_staging(options["staging"])
    if "connectTimeout" in options:
        try:
            if parse_duration(options["connectTimeout"]) <= 0:
                problems.append(("connectTimeout", "must be more than 0 seconds, e.g. 10s"))
        except (TypeError, ValueError) as error:
            problems.append(("connectTimeout", str(error)))
    return problems


def _lost(reason: Lost, detail: str) -> ProcessResult:
    return ProcessResult(
        exit_code=-1,
        signal=None,
        timed_out=False,
        started_at=0.0,
        duration=0.0,
        cpu_user=0.0,
        cpu_sys=0.0,
        max_rss=0,
        pid=0,
        lost=reason,
        detail=detail,
    )


class DaskExecutor:
    """Runs each ProcessSpec as a process on a worker of a Dask cluster.

    ``address``: the scheduler (``tcp://host:8786``); default ``$DASK_SCHEDULER_ADDRESS``, and
    without either a ``LocalCluster`` of worker processes on this machine, closed by
    ``aclose``. ``connect_timeout`` (``connectTimeout`` in the manifest): seconds, or a
    duration text, that connecting may take. Other ``options`` go to ``distributed.Client``.
    """

    name = "dask"

    def __init__(self, address: str | None = None, **options: Any) -> None:
        if find_spec("distributed") is None:  # fail at build time (exit 2), before any task runs
            raise ExecutionError(
                "executor 'dask' needs a missing package (distributed): "
                "pip install 'psr-engine[dask]'"
            )
        for manifest_name, keyword in _OPTIONS.items():
            if manifest_name in options:
                options[keyword] = options.pop(manifest_name)
        self.address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.connect_timeout = parse_duration(options.pop("connect_timeout", CONNECT_TIMEOUT))
        self.shared_filesystem = bool(options.pop("shared_filesystem", False))
        staging = options.pop("staging", None)
        self.staging: Staging | None = None
        if staging is not None:
            self.staging = (
                staging if isinstance(staging, Staging) else dask_files.staging_of(staging)
            )
        self.options = options
        self._client: Any = None
        self._cluster: Any = None
        self._connecting = anyio.Lock()
        self._topic = f"psr-engine-{uuid.uuid4().hex}"
        self._live: dict[str, _Live] = {}  # attempt key -> what its worker reported so far
        self._known_workers: tuple[float, dict[str, Any]] | None = None
        # Ended attempts whose results are fetched together (see _result).
        self._ready: list[tuple[Any, asyncio.Future[Returned]]] = []
        # Attempts to submit together (see _submit): shipment, key, placement, their future.
        self._unsent: list[tuple[Shipment, str, dict[str, Any], asyncio.Future[Any]]] = []
        self._filter_shipped: Any = None  # the output filter known to pickle (see _shippable)
        self._flushing: set[asyncio.Future[None]] = set()
        self._ended: list[Any] = []  # futures of ended attempts, to release together (_let_go)
        self._scheduler_lost: str | None = None

    async def connect(self) -> None:
        """Connect now (the engine calls this before the run): ExecutorUnreachable, exit 2,
        within ``connect_timeout`` when there is no Dask scheduler at the address."""
        await self._connect()

    def ships_files(self) -> bool:
        """Without a shared filesystem the runner says which files each attempt needs."""
        return not self.shared_filesystem

    async def run(self, spec: ProcessSpec) -> ProcessResult:
        """Run one attempt on a worker; on cancellation, have the worker stop its group."""
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        client = await self._connect()
        if self._scheduler_lost is not None:
            return _lost("scheduler_lost", self._scheduler_lost)
        key = f"{_KEY_PREFIX}{uuid.uuid4().hex}"
        fresh = not self.shared_filesystem
        live = self._live[key] = _Live(spec.log_path if fresh else None, spec.on_line)
        staged: list[Staged] = []
        future: Any = None
        try:
            shipment = await self._shipment(spec, key, fresh, staged)
            if fresh:  # the log exists from the start, for `logs --follow`
                dask_files.create(spec.log_path)
            placement = placement_of(spec, await self._workers(spec))
            future = await self._submit(shipment, key, placement)
            try:
                returned: Returned = await self._result(future, live)
            except KilledWorker as error:
                return _lost(
                    "worker_lost",
                    f"the Dask worker running this attempt died ({error.last_worker.address})",
                )
            except FutureCancelledError as error:
                if getattr(error, "reason", None) == "scheduler-connection-lost" or (
                    client.status != "running"
                ):
                    self._scheduler_lost = (
                        f"the connection to the Dask scheduler at {self.address} was lost"
                    )
                    return _lost("scheduler_lost", self._scheduler_lost)
                raise ExecutionError(f"the Dask scheduler cancelled the attempt: {error}") from None
            except BaseException:
                if not future.done():  # cancelled from the engine's side: stop the remote group
                    with anyio.CancelScope(shield=True):
                        running = await _running(client, key)
                        await _cancel(client, future)
                        if running:  # else it never started: nothing to wait for
                            with anyio.move_on_after(spec.kill_grace + CANCEL_SLACK):
                                await live.done.wait()
                raise
            staged += [c for _, c in returned.artifacts if isinstance(c, Staged)]
            if fresh:
                if dask_files.small(returned):
                    dask_files.unpack(spec, returned, self.staging)
                else:
                    await anyio.to_thread.run_sync(dask_files.unpack, spec, returned, self.staging)
            if spec.on_line is not None:
                await _replay(spec.log_path, spec.on_line, skip=live.delivered)
        finally:
            self._live.pop(key, None)
            if future is not None:
                self._let_go(future)
            if staged and self.staging is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(dask_files.forget, self.staging, staged)
        assert returned.result is not None  # None only when cancelled, handled above
        return returned.result

    def _let_go(self, future: Any) -> None:
        """Release the ended attempt's future together with those of the attempts ending within
        RELEASE_AFTER of it. Each release goes from the engine to the scheduler and from it to
        the worker (which then drops the result); released together they make one message
        each way per batch, not one per attempt."""
        self._ended.append(future)
        if len(self._ended) == 1:
            asyncio.get_running_loop().call_later(RELEASE_AFTER, self._release)

    def _release(self) -> None:
        batch, self._ended = self._ended, []
        for future in batch:
            future.release()

    async def _submit(self, shipment: Shipment, key: str, placement: dict[str, Any]) -> Any:
        """The attempt's Dask future, submitted with every attempt submitted at the same moment
        in one `map` (one update-graph message for the scheduler to take in, not one per
        attempt; Dask runs them in the order given). Cancelled before the batch went: never
        submitted; cancelled after: the future is cancelled (it cannot have started yet)."""
        loop = asyncio.get_running_loop()
        slot: asyncio.Future[Any] = loop.create_future()
        self._unsent.append((shipment, key, placement, slot))
        if len(self._unsent) == 1:
            loop.call_soon(self._send)  # the other attempts starting now join this batch
        try:
            return await slot
        except BaseException:
            if slot.done() and not slot.cancelled() and slot.exception() is None:
                with anyio.CancelScope(shield=True):
                    await _cancel(self._client, slot.result())
            raise

    def _send(self) -> None:
        batch, self._unsent = self._unsent, []
        groups: list[tuple[dict[str, Any], list[tuple[Shipment, str, asyncio.Future[Any]]]]] = []
        for shipment, key, placement, slot in batch:
            if slot.done():
                continue  # its waiter was cancelled: never submitted
            for wanted, members in groups:
                if wanted == placement:
                    members.append((shipment, key, slot))
                    break
            else:
                groups.append((placement, [(shipment, key, slot)]))
        for placement, members in groups:
            try:
                futures = self._client.map(
                    run_attempt,
                    [shipment for shipment, _, _ in members],
                    key=[key for _, key, _ in members],
                    pure=False,
                    **placement,
                )
            except Exception as error:
                for _, _, slot in members:
                    slot.set_exception(error)
                continue
            for (_, _, slot), future in zip(members, futures, strict=True):
                slot.set_result(future)

    async def _result(self, future: Any, live: _Live) -> Returned:
        """The attempt's result: as its worker announced it on the topic (a small one, which
        arrives before the scheduler says the future is done: the same two ordered streams,
        worker to scheduler to engine, carry both), else fetched with those of every attempt
        that ended at the same moment in one `gather`. A gather costs the scheduler a request
        and one to each worker concerned; an announced result costs neither. Errors and
        cancellations are raised by awaiting the future itself, as before."""
        from distributed.client import _wait

        with contextlib.suppress(Exception):  # a cancelled future: raised below, by await
            await _wait([future])
        if future.status != "finished":
            result: Returned = await future
            return result
        if live.returned is not None:
            return live.returned
        loop = asyncio.get_running_loop()
        slot: asyncio.Future[Returned] = loop.create_future()
        self._ready.append((future, slot))
        if len(self._ready) == 1:
            flush = asyncio.ensure_future(self._flush())
            self._flushing.add(flush)
            flush.add_done_callback(self._flushing.discard)
        return await slot

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # the other attempts ending now join this batch
        batch, self._ready = self._ready, []
        try:
            values = await self._client.gather([future for future, _ in batch])
        except Exception:
            values = None  # one of them failed to come: each on its own, to say which
        for index, (future, slot) in enumerate(batch):
            if slot.done():
                continue  # its waiter was cancelled
            try:
                slot.set_result(values[index] if values is not None else await future)
            except Exception as error:
                if not slot.done():
                    slot.set_exception(error)

    async def _workers(self, spec: ProcessSpec) -> Mapping[str, Any]:
        """The workers and the resources each declares, asked of the scheduler at most every
        WORKERS_TTL seconds, and only for a task that asks for resources."""
        wanted = spec.resources
        if wanted is None or not (wanted.cpu or wanted.memory or wanted.gpu):
            return {}
        now = time.monotonic()
        if self._known_workers is None or now - self._known_workers[0] > WORKERS_TTL:
            identity = await self._client.scheduler.identity(n_workers=-1)
            self._known_workers = (now, dict(identity.get("workers") or {}))
        return self._known_workers[1]

    async def _shipment(
        self, spec: ProcessSpec, key: str, fresh: bool, staged: list[Staged]
    ) -> Shipment:
        shipped = _shippable(spec, self._filter_shipped)
        self._filter_shipped = spec.output_filter
        python = bool(spec.argv) and spec.argv[0] == sys.executable
        stream = fresh or spec.on_line is not None
        if not fresh:
            return Shipment(shipped, self._topic, stream, python=python)
        files = spec.files or TaskFiles(root=spec.cwd)
        if files.send:
            packed = await anyio.to_thread.run_sync(
                dask_files.pack, files, self.staging, key, staged
            )
        else:
            packed = ()
        return Shipment(
            shipped,
            self._topic,
            stream,
            fresh=True,
            files=packed,
            collect=files.collect,
            staging=self.staging,
            python=python,
        )

    async def aclose(self) -> None:
        """Disconnect from the scheduler, and stop the local cluster if this executor made one."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        self._release()
        with anyio.move_on_after(CANCEL_SLACK):
            if client is not None:
                await _forget_topic(client, self._topic)
                await client.close()
        if cluster is not None:
            await cluster.close()

    def _on_notice(self, event: tuple[float, Any]) -> None:
        """A worker's notice on this executor's topic (called on the event loop)."""
        message = event[1]
        if not isinstance(message, dict):
            return
        live = self._live.get(str(message.get("key")))
        if live is None:
            return  # an attempt nobody waits for any more
        lines = message.get("lines")
        if lines:
            live.lines(lines)
        elif "returned" in message:
            with contextlib.suppress(Exception):  # unreadable: the result is gathered instead
                returned = pickle.loads(message["returned"])
                if isinstance(returned, Returned):
                    live.returned = returned
        elif message.get("phase") == "done":
            live.done.set()

    async def _connect(self) -> Any:
        if self._client is not None:
            # Connected: no lock. Taking it yields to the loop while held, which let the
            # attempts started at one moment through one loop turn each (and each alone
            # into its own submission batch).
            return self._client
        async with self._connecting:
            if self._client is None:
                self._client = await self._open_client()
                self._client.subscribe_topic(self._topic, self._on_notice)
                await _no_dask_retries(self._client)
                await _announcer_on_workers(self._client)
        return self._client

    async def _open_client(self) -> Any:
        from distributed import Client, LocalCluster

        address = self.address
        if address is None:
            self._cluster = await LocalCluster(
                processes=True, asynchronous=True, host="127.0.0.1", dashboard_address=":0"
            )
            address = self._cluster.scheduler_address
        timeout = self.connect_timeout
        client = Client(address, asynchronous=True, timeout=timeout, **self.options)
        problem = f"no answer within {timeout:g}s (connectTimeout)"
        try:
            # Dask's own timeout does not cover a listener that accepts and never answers.
            with anyio.move_on_after(timeout):
                return await client
        except (OSError, TimeoutError) as error:
            problem = str(error) or type(error).__name__
        with anyio.CancelScope(shield=True), anyio.move_on_after(2):
            await client.close()
        raise ExecutorUnreachable(
            f"cannot reach the Dask scheduler at {address}: {problem}\n"
            "  hint: check spec.executor.address (or $DASK_SCHEDULER_ADDRESS) and that a Dask "
            "scheduler is running there"
        )


async def _no_dask_retries(client: Any) -> None:
    """Set the scheduler's allowed-failures to 0: a task whose worker died is then erred
    (KilledWorker, our worker_lost) rather than started again elsewhere unbeknown to the engine.
    Made here so it pickles by value: the scheduler need not have psr-engine installed."""

    def no_retries(dask_scheduler: Any) -> int:
        before = int(dask_scheduler.allowed_failures)
        dask_scheduler.allowed_failures = 0
        return before

    # A scheduler that refuses run_on_scheduler keeps its own setting (docs/features/dask.md).
    with contextlib.suppress(Exception):
        await client.run_on_scheduler(no_retries)


async def _announcer_on_workers(client: Any) -> None:
    """Have the workers send announced results with their tasks' ends (dask_announcer):
    registered once per cluster, kept for workers that join later. Without it (a scheduler
    that refuses plug-ins), workers announce from the task's thread, in a message of its own."""
    from psr_engine.executors.dask_announcer import ResultAnnouncer

    with contextlib.suppress(Exception):
        await client.register_plugin(ResultAnnouncer())


async def _forget_topic(client: Any, topic: str) -> None:
    """Drop this executor's topic from the scheduler, which keeps a topic's last 1,000 events
    (announced results, live lines) for as long as it runs, run after run. Through Dask's
    private broker, made here so it pickles by value; a scheduler without one keeps them."""

    def forget(dask_scheduler: Any, topic: str) -> None:
        broker = getattr(dask_scheduler, "_broker", None)
        topics = getattr(broker, "_topics", None)
        if isinstance(topics, dict):
            topics.pop(topic, None)

    with contextlib.suppress(Exception):
        await client.run_on_scheduler(forget, topic=topic)


def _shippable(spec: ProcessSpec, checked: Any = None) -> ProcessSpec:
    """The attempt as the worker gets it: plain env, no callback, a filter that pickles
    (tried once per filter: a run's attempts share its masker, ``checked``)."""
    if spec.output_filter is not None and spec.output_filter is not checked:
        try:
            pickle.dumps(spec.output_filter)
        except Exception as error:
            raise ExecutionError(
                f"the dask executor cannot ship this output filter to its workers ({error}); "
                "masking secrets with it needs the local executor (spec.executor: {type: local})"
            ) from None
    return replace(spec, env=dict(spec.env), on_line=None, on_start=None, on_cancelled=None)


async def _running(client: Any, key: str) -> bool:
    """Whether a worker is running the attempt now (asked only when cancelling one)."""
    try:
        with anyio.fail_after(CANCEL_SLACK):
            processing = await client.processing()
    except Exception:
        return True  # cannot tell: wait for the worker's word, up to the grace
    return any(key in keys for keys in processing.values())


async def _cancel(client: Any, future: Any) -> None:
    """Cancel the future: the worker running it sees that and stops the attempt's group."""
    with anyio.move_on_after(CANCEL_SLACK):
        await client.cancel(future)


async def _replay(log_path: str, on_line: Callable[[str], None], *, skip: int = 0) -> None:
    """The log's lines after the first ``skip`` (those already delivered live)."""
    data = await anyio.Path(log_path).read_bytes()
    lines = data.split(b"\n")  # as the worker counts them (see dask_worker._Tail)
    if lines and not lines[-1]:
        lines.pop()
    for line in lines[skip:]:
        on_line(line.decode("utf-8", "replace").rstrip("\r"))


class _Live:
    """What the worker of one attempt has reported so far."""

    def __init__(self, log_path: str | None, on_line: Callable[[str], None] | None) -> None:
        self.log_path = log_path  # append streamed lines here (no shared filesystem)
        self.on_line = on_line
        self.done = anyio.Event()
        self.delivered = 0
        self.returned: Returned | None = None  # the result, when its worker announced it

    def lines(self, batch: list[str]) -> None:
        if self.log_path is not None:
            # A small synchronous append on the loop: lines arrive in batches, and the final
            # log replaces this file when the attempt ends.
            with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
                log.write("".join(f"{line}\n" for line in batch))
        if self.on_line is not None:
            for line in batch:
                self.on_line(line)
        self.delivered += len(batch)
