"""What every request handler of one dashboard shares."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from psr_engine.ui.catalog import Catalog
from psr_engine.ui.security import Guard


@dataclass(frozen=True, slots=True)
class Dashboard:
    catalog: Catalog
    guard: Guard
    allow_actions: bool = False


def dashboard(request: Request) -> Dashboard:
    state: Dashboard = request.app.state.dashboard
    return state
