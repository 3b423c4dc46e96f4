"""Fan-out of events to sinks. A sink that fails is reported once, then left out: observing a
run must never fail it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.from_thread
import anyio.lowlevel

from psr_engine.events.model import Event


@runtime_checkable
class Sink(Protocol):
    """What a sink implements. `emit` is called on the scheduler's path: it must not block
    (buffer, or hand the event to a background task started in `start`)."""

    name: str

    async def start(self) -> None: ...

    def emit(self, event: Event) -> None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class MaskingSink(Protocol):
    """A sink that holds data of its own, not carried by events (the history's planned task
    ids): it is handed the run's text masker before the run starts, as events are masked."""

    def use_mask(self, *, mask: Callable[[str], str]) -> None: ...


@runtime_checkable
class DurableSink(Sink, Protocol):
    """A sink that makes events durable (the run history). Commit, then announce: an event it
    records reaches the other sinks and the listeners only once it is on disk, so a success
    the console printed is never lost with the engine (kill -9 between the two)."""

    def records(self, event_type: str) -> bool:
        """Does this sink write events of this type (the ones the others then wait for)?"""
        ...

    def on_durable(self, *, notify: Callable[[int, bool], None]) -> None:
        """Call ``notify(count, failed)`` from any thread when the first ``count`` events it
        records are on disk, ``failed=True`` when it stopped writing (no more will be)."""
        ...


class EventBus:
    def __init__(
        self,
        sinks: Iterable[Sink] = (),
        *,
        mask: Callable[[Any], Any] | None = None,
        on_sink_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self._sinks: list[Sink] = list(sinks)
        self._mask = mask
        self._on_sink_error = on_sink_error or _report_to_stderr
        self._listeners: list[Callable[[Event], None]] = []
        self._durable: DurableSink | None = None  # None too once it stopped writing
        self._recorder: DurableSink | None = None  # the durable sink, which _deliver never feeds
        self._handed = 0  # events given to the durable sink
        self._on_disk = 0  # of those, committed
        self._held: deque[tuple[int, Event]] = deque()  # (handed count it waits for, event)
        self._settled: anyio.Event | None = None
        self._call_in_loop: Callable[[Callable[[], None]], object] | None = None
        self._on_durable_failure: Callable[[], None] | None = None
        self.durable_failed = False  # the durable sink stopped writing: see durable_error
        self.durable_error: BaseException | None = None

    @property
    def sinks(self) -> list[Sink]:
        return list(self._sinks)

    def on_durable_failure(self, callback: Callable[[], None]) -> None:
        """Called once, on the event loop, when the durable sink stops writing: what it would
        announce from then on could not be kept (the engine stops the run)."""
        self._on_durable_failure = callback

    def add(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def listen(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """In-process subscribers (stream_events, the dashboard). Returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def set_mask(
        self, mask: Callable[[Any], Any] | None, *, text: Callable[[str], str] | None = None
    ) -> None:
        """``mask``: applied to every event; ``text``: the same masking for a string, handed
        to the sinks that hold data of their own (MaskingSink)."""
        self._mask = mask
        if text is not None:
            for sink in self._sinks:
                if isinstance(sink, MaskingSink):
                    sink.use_mask(mask=text)

    async def start(self) -> None:
        self._call_in_loop = _loop_caller()
        self._durable = next((s for s in self._sinks if isinstance(s, DurableSink)), None)
        self._recorder = self._durable
        if self._durable is not None:
            self._durable.on_durable(notify=self._notify)
        for sink in list(self._sinks):
            try:
                await sink.start()
            except Exception as error:
                self._drop(sink, error)

    def emit(self, event: Event) -> None:
        if self._mask is not None:
            event = self._mask(event)
        durable = self._durable
        waits_for = 0
        if durable is not None and durable.records(event.type):
            try:
                durable.emit(event)
            except Exception as error:
                self._drop(durable, error)
                return  # not recorded: not announced either
            else:
                self._handed += 1
                waits_for = self._handed
        elif (
            self.durable_failed
            and self._recorder is not None
            and self._recorder.records(event.type)
        ):
            return  # the history stopped: an ending it cannot record is not announced
        if self._held or waits_for > self._on_disk:
            self._held.append((waits_for, event))  # behind what waits: order is kept
            return
        self._deliver(event)

    async def settled(self) -> None:
        """Return once every event the durable sink records so far is on disk (and has been
        announced): the engine waits for its `run.started` so a killed run is never lost."""
        while self._held:
            self._settled = anyio.Event()
            await self._settled.wait()

    async def aclose(self) -> None:
        durable = self._recorder
        if (
            durable is not None and durable in self._sinks
        ):  # first: once it has written everything, the rest hear it
            try:
                await durable.aclose()
            except Exception as error:
                self._drop(durable, error)
            await anyio.lowlevel.checkpoint()  # its last notice, posted from its thread
            # Closed: all it will ever write is written; announce what is still held.
            self._durable = None
            self._release(self._handed)
        for sink in list(self._sinks):
            if sink is durable:
                continue
            try:
                await sink.aclose()
            except Exception as error:
                self._drop(sink, error)

    def _deliver(self, event: Event) -> None:
        recorder = self._recorder
        for sink in list(self._sinks):
            if sink is recorder:
                continue
            try:
                sink.emit(event)
            except Exception as error:
                self._drop(sink, error)
        for listener in list(self._listeners):
            listener(event)

    def _notify(self, count: int, failed: bool) -> None:
        """From the durable sink's thread: hand the release to the event loop."""
        call = self._call_in_loop
        if call is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is left to tell
            call(lambda: self._release(count, failed=failed))

    def _release(self, count: int, *, failed: bool = False) -> None:
        self._on_disk = max(self._on_disk, count)
        held = self._held
        if failed and self._durable is not None:
            # It wrote what it could. What it did not write is never announced (commit, then
            # announce); what only waited behind it, in order, still is.
            self._durable = None
            self.durable_failed = True
            self._held = deque(
                (0, event) for waits_for, event in held if waits_for <= self._on_disk
            )
            held = self._held
            if self._on_durable_failure is not None:
                self._on_durable_failure()
        while held and held[0][0] <= self._on_disk:
            self._deliver(held.popleft()[1])
        if not held and self._settled is not None:
            self._settled.set()
            self._settled = None

    def _drop(self, sink: Sink, error: BaseException) -> None:
        if sink is self._recorder:
            self.durable_error = self.durable_error or error
            self._release(self._on_disk, failed=True)
            if sink in self._sinks:  # the owner of the bus says it (durable_failed)
                self._sinks.remove(sink)
            return
        if sink in self._sinks:
            self._sinks.remove(sink)
            self._on_sink_error(getattr(sink, "name", type(sink).__name__), error)


def _loop_caller() -> Callable[[Callable[[], None]], object]:
    """How another thread runs a callable on this event loop, without waiting for it."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another anyio backend: its portal waits, which is fine here
        token = anyio.lowlevel.current_token()
        return lambda fn: anyio.from_thread.run_sync(fn, token=token)
    return loop.call_soon_threadsafe


def _report_to_stderr(name: str, error: BaseException) -> None:
    sys.stderr.write(f"warning: sink {name} failed and was turned off for this run: {error}\n")
