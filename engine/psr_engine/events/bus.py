"""Fan-out of events to sinks. A sink that fails is reported once, then left out: observing a
run must never fail it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

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

    @property
    def sinks(self) -> list[Sink]:
        return list(self._sinks)

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
        for sink in list(self._sinks):
            try:
                await sink.start()
            except Exception as error:
                self._drop(sink, error)

    def emit(self, event: Event) -> None:
        if self._mask is not None:
            event = self._mask(event)
        for sink in list(self._sinks):
            try:
                sink.emit(event)
            except Exception as error:
                self._drop(sink, error)
        for listener in list(self._listeners):
            listener(event)

    async def aclose(self) -> None:
        for sink in list(self._sinks):
            try:
                await sink.aclose()
            except Exception as error:
                self._drop(sink, error)

    def _drop(self, sink: Sink, error: BaseException) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)
            self._on_sink_error(getattr(sink, "name", type(sink).__name__), error)


def _report_to_stderr(name: str, error: BaseException) -> None:
    sys.stderr.write(f"warning: sink {name} failed and was turned off for this run: {error}\n")
