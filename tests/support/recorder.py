"""A sink that keeps every event, for tests that run the engine in process."""

from __future__ import annotations

from typing import Any


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def start(self) -> None:
        return None

    def emit(self, event: Any) -> None:
        self.events.append(event)

    async def aclose(self) -> None:
        return None

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]

    def started_order(self) -> list[str]:
        return [e.task or "" for e in self.of("task.started")]

    def finished(self) -> dict[str, Any]:
        return {e.task: e for e in self.of("task.finished")}
