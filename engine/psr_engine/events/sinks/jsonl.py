"""The JSON lines sink: one event per line, the spec's camelCase wire form."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import IO, Any

from psr_engine.events.model import Event
from psr_engine.events.selection import EventSelection
from psr_engine.store.private import open_report

# Flush at most this often, and at run/task ends: other processes (`logs --follow`, CI
# annotations) tail the file, but a flush per event costs too much on 10,000-task runs.
_FLUSH_EVERY_S = 0.5
_FLUSH_ON = frozenset({"run.started", "run.finished", "task.finished", "gate.finished"})


class JsonlSink:
    """Appends events to `path`, those `events` and `logs` select (events/selection.py):
    task.log lines come only when the run sends them (--log-events, or a sink asking)."""

    name = "jsonl"

    def __init__(
        self,
        path: str,
        *,
        events: Iterable[str] | None = None,
        logs: bool = False,
        **_: Any,
    ) -> None:
        self.path = path
        self.selection = EventSelection.of(events, logs=logs)
        self._file: IO[str] | None = None
        self._last_flush = 0.0

    async def start(self) -> None:
        fd = open_report(self.path)
        self._file = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - closed in aclose

    def emit(self, event: Event) -> None:
        if self._file is None or not self.selection.wants(event.type):
            return
        self._file.write(json.dumps(event.to_dict(), separators=(",", ":"), default=str) + "\n")
        now = time.monotonic()
        if event.type in _FLUSH_ON or now - self._last_flush > _FLUSH_EVERY_S:
            self._file.flush()
            self._last_flush = now

    async def aclose(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
