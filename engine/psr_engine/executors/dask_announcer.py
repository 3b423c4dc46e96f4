"""The Dask worker plugin that sends an attempt's announced result with the task's own end.

A small result is announced on the engine's topic (``dask_worker._announced``) so that the
engine need not gather it. Sent by the task's thread, the announcement leaves the worker in a
message of its own: the worker's stream to the scheduler sends at most one batch per 2 ms, and
the word that the task is done follows a moment later, in the next one. Held until the worker
turns the task to ``memory`` and sent from that transition, on the worker's event loop, the
announcement goes in the same batch as that word, just before it: one message from the worker
per attempt, not two, and one fewer for the scheduler to read (exec_bench --dask).

The engine registers the plugin on connect (``idempotent``: once per cluster; the scheduler
installs it on workers that join later). A worker without it (its registration failed, or not
yet done) announces from the task's thread as before: the plugin only changes which message
carries the announcement.

Importing this module imports ``distributed``: the engine imports it only once connected, the
worker when it unpickles the plugin.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from psr_engine.executors import dask_worker


class ResultAnnouncer(WorkerPlugin):
    """Holds each attempt's announcement (``hold``) until its task's next transition, and sends
    it if that one puts the task in memory (else drops it: the attempt was cancelled)."""

    name = "psr-engine-result-announcer"
    idempotent = True  # registered once per cluster, whatever the number of engines

    def __init__(self) -> None:
        self._worker: Any = None
        self._held: dict[str, tuple[str, dict[str, Any]]] = {}

    def setup(self, worker: Any) -> None:
        self._worker = worker
        dask_worker.announcer = self

    def teardown(self, worker: Any) -> None:
        if dask_worker.announcer is self:
            dask_worker.announcer = None

    def hold(self, key: str, topic: str, message: dict[str, Any]) -> None:
        """Called from the task's thread before it returns (a dict store: atomic)."""
        self._held[key] = (topic, message)

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        held = self._held.pop(key, None)  # any task's transition: one dict lookup
        if held is not None and finish == "memory":
            self._worker.log_event(*held)  # on the event loop: into the current batch
