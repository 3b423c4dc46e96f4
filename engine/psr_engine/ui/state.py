"""What every request handler of one dashboard shares."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from psr_engine.ui.catalog import Catalog
from psr_engine.ui.security import Guard


@dataclass(frozen=True, slots=True)
class Dashboard:
    catalog: Catalog
    guard: Guard
    allow_actions: bool = False
    trace_url: str | None = None  # a template with {runId} (and maybe {workflow})

    def trace_link(self, run_id: str, workflow: str) -> str | None:
        if not self.trace_url:
            return None
        return self.trace_url.replace("{runId}", quote(run_id, safe="")).replace(
            "{workflow}", quote(workflow, safe="")
        )


def dashboard(request: Request) -> Dashboard:
    state: Dashboard = request.app.state.dashboard
    return state
