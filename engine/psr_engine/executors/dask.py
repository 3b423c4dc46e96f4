"""The Dask executor: each task attempt runs as a process on a Dask worker.

``spec.executor: {type: dask, address: "tcp://scheduler:8786"}``. The engine stays the
scheduler of the workflow (DAG, retries, events, cache); Dask only decides which worker starts
each process. On the worker the attempt is run by the local executor itself (its own process
group, log file, timeout with SIGTERM then SIGKILL to the group, exit codes, rusage), inside a
short-lived event loop, so a task behaves the same wherever it runs.

Assumptions, and why:

- A shared filesystem and the same installation: the worker opens ``spec.log_path``, runs in
  ``spec.cwd`` and the task writes ``$PSR_OUTPUT`` at the paths the engine chose, and the
  engine reads them back. Workers import psr_engine to run the attempt.
- Secrets masking happens on the worker: the output filter (a picklable Masker) is shipped with
  the attempt, so no unmasked line is ever written. A filter that cannot be pickled is refused.
- ``on_line`` (live ``task.log`` events) cannot cross processes: the lines are replayed from
  the (already masked) log once the attempt has ended.
- Cancellation: the engine sets a Dask ``Event`` named for the attempt; the worker polls it
  every ``CANCEL_POLL`` seconds and then stops the process group exactly as on a timeout, and
  the engine waits (up to the kill grace plus ``CANCEL_SLACK``) for it to report back before
  cancelling the future. A worker that is gone or unreachable cannot be reached this way.

``distributed`` is imported inside methods only: importing this module is cheap.
"""

from __future__ import annotations

import os
import pickle
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.util import find_spec
from typing import Any

import anyio
import anyio.to_thread

from psr_engine.errors import ExecutionError
from psr_engine.executors.base import ProcessResult, ProcessSpec

# Seconds between two looks, on the worker, at the attempt's cancel event.
CANCEL_POLL = 0.5
# Beyond the kill grace, how long the engine waits for a cancelled attempt to report its end.
CANCEL_SLACK = 5.0
_EVENT_PREFIX = "psr-engine-cancel-"


_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


def validate_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The registry's check of `spec.executor: {type: dask, ...}` at compile time, without
    importing distributed: the scheduler's address must be one Dask can connect to."""
    address = options.get("address")
    if address is None:
        return []
    if not isinstance(address, str) or not address.strip():
        return [("address", "the dask scheduler's address must be text like tcp://host:8786")]
    scheme, found, _ = address.partition("://")
    if found and scheme not in _SCHEMES:
        return [
            (
                "address",
                f"dask cannot connect to {address!r}: use one of the schemes "
                f"{', '.join(_SCHEMES)} (e.g. tcp://scheduler:8786)",
            )
        ]
    return []


class DaskExecutor:
    """Runs each ProcessSpec as a process on a worker of a Dask cluster.

    ``address``: the scheduler (``tcp://host:8786``); default ``$DASK_SCHEDULER_ADDRESS``, and
    without either a ``LocalCluster`` of worker processes on this machine, closed by
    ``aclose``. Other ``options`` are passed to ``distributed.Client``. The connection is made
    on the first ``run``.
    """

    name = "dask"

    def __init__(self, address: str | None = None, **options: Any) -> None:
        if find_spec("distributed") is None:  # fail at build time (exit 2), before any task runs
            raise ExecutionError(
                "executor 'dask' needs a missing package (distributed): "
                "pip install 'psr-engine[dask]'"
            )
        self.address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.options = options
        self._client: Any = None
        self._cluster: Any = None
        self._connecting = anyio.Lock()

    async def run(self, spec: ProcessSpec) -> ProcessResult:
        """Run one attempt on a worker; on cancellation, have the worker stop its group."""
        shipped = _shippable(spec)
        client = await self._connect()
        from distributed import Event

        cancel = Event(f"{_EVENT_PREFIX}{uuid.uuid4().hex}", client=client)
        future = client.submit(_run_on_worker, shipped, cancel.name, pure=False)
        try:
            result: ProcessResult = await future
        except BaseException:
            if not future.done():  # cancelled from the engine's side: stop the remote group
                with anyio.CancelScope(shield=True):
                    await _cancel(client, future, cancel, spec.kill_grace + CANCEL_SLACK)
            raise
        if spec.on_line is not None:
            await _replay(spec.log_path, spec.on_line)
        return result

    async def aclose(self) -> None:
        """Disconnect from the scheduler, and stop the local cluster if this executor made one."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            await client.close()
        if cluster is not None:
            await cluster.close()

    async def _connect(self) -> Any:
        async with self._connecting:
            if self._client is None:
                self._client = await self._open_client()
        return self._client

    async def _open_client(self) -> Any:
        from distributed import Client, LocalCluster

        address = self.address
        try:
            if address is None:
                self._cluster = await LocalCluster(
                    processes=True, asynchronous=True, host="127.0.0.1", dashboard_address=":0"
                )
                address = self._cluster.scheduler_address
            return await Client(address, asynchronous=True, **self.options)
        except (OSError, TimeoutError) as error:
            raise ExecutionError(
                f"cannot reach the Dask scheduler at {address}: {error}\n"
                "  hint: check spec.executor.address (or $DASK_SCHEDULER_ADDRESS) and that the "
                "scheduler is running"
            ) from None


def _shippable(spec: ProcessSpec) -> ProcessSpec:
    """The attempt as the worker gets it: plain env, no callback, a filter that pickles."""
    if spec.output_filter is not None:
        try:
            pickle.dumps(spec.output_filter)
        except Exception as error:
            raise ExecutionError(
                f"the dask executor cannot ship this output filter to its workers ({error}); "
                "masking secrets with it needs the local executor (spec.executor: {type: local})"
            ) from None
    return replace(spec, env=dict(spec.env), on_line=None)


async def _cancel(client: Any, future: Any, cancel: Any, wait: float) -> None:
    """Ask the worker to stop the attempt's group, give it time to report, drop the future."""
    try:
        with anyio.move_on_after(wait):
            await cancel.set()
            await future  # returns once the worker has stopped the group (or raises)
    except Exception:  # the attempt is being abandoned: any ending will do
        pass
    finally:
        with anyio.move_on_after(CANCEL_SLACK):
            await client.cancel(future)
            await cancel.clear()


async def _replay(log_path: str, on_line: Callable[[str], None]) -> None:
    data = await anyio.Path(log_path).read_bytes()
    for line in data.splitlines():
        on_line(line.decode("utf-8", "replace").rstrip("\r"))


# --- on the worker ---------------------------------------------------------------------------


def _run_on_worker(spec: ProcessSpec, cancel_name: str) -> ProcessResult | None:
    """Run the attempt with the local executor; stop it when the engine sets the cancel event.

    None when cancelled (the engine has stopped waiting for it: nothing to report).

    Top level so that Dask pickles it by reference: the worker imports this module.
    """
    from distributed import Event, get_client

    cancel = Event(cancel_name, client=get_client())  # made here: the task thread knows its worker
    return anyio.run(_supervised, spec, cancel.wait)


async def _supervised(
    spec: ProcessSpec, cancelled: Callable[[float], bool]
) -> ProcessResult | None:
    """The local executor's run, cancelled (its group stopped) once ``cancelled(poll)`` is true."""
    from psr_engine.executors.local import LocalExecutor

    result: ProcessResult | None = None
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while not await anyio.to_thread.run_sync(
                cancelled, CANCEL_POLL, abandon_on_cancel=True
            ):
                pass
            group.cancel_scope.cancel()

        group.start_soon(watch)
        result = await LocalExecutor().run(spec)
        group.cancel_scope.cancel()
    return result
