"""What every request handler of one dashboard shares."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from psr_engine.store.model import RunRecord
from psr_engine.ui.catalog import Catalog
from psr_engine.ui.security import Guard


@dataclass(frozen=True, slots=True)
class Dashboard:
    catalog: Catalog
    guard: Guard
    allow_actions: bool = False
    trace_url: str | None = None  # a template with {traceId} or {runId} (maybe {workflow})

    def trace_link(self, run: RunRecord) -> str | None:
        """The run's trace in the tracing UI, for a run that was traced (the history has its
        trace id); None for any other, which has no trace to show."""
        if not self.trace_url or not run.trace_id:
            return None
        link = self.trace_url
        for name, value in (
            ("{traceId}", run.trace_id),
            ("{runId}", run.id),
            ("{workflow}", run.workflow),
        ):
            link = link.replace(name, quote(value, safe=""))
        return link


def dashboard(request: Request) -> Dashboard:
    state: Dashboard = request.app.state.dashboard
    return state
