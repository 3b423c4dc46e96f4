"""Which events a sink keeps: the rule behind the `events:` and `logs:` options of the jsonl
and webhook sinks, in one place (the facade asks it too, to know whether a run must send
task.log lines at all)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

LOG = "task.log"


@dataclass(frozen=True, slots=True)
class EventSelection:
    """`types`: only these event types (None: every type but task.log); `logs`: task.log lines
    too. Naming task.log in `types` asks for the lines as well."""

    types: frozenset[str] | None = None
    logs: bool = False

    @classmethod
    def of(cls, events: Iterable[str] | None = None, *, logs: bool = False) -> EventSelection:
        types = None if events is None else frozenset(events)
        return cls(types, logs or (types is not None and LOG in types))

    def wants(self, event_type: str) -> bool:
        if event_type == LOG:
            return self.logs
        return self.types is None or event_type in self.types


@runtime_checkable
class LogWanting(Protocol):
    """A sink built in code that may want task.log lines (the console in live mode): asked,
    with the manifest's sinks, whether the run sends them at all (api.sinks_want_logs)."""

    @property
    def wants_logs(self) -> bool: ...
