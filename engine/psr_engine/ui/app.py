"""The Starlette application of one dashboard."""

from __future__ import annotations

from starlette.applications import Starlette

from psr_engine.ui import api, pages
from psr_engine.ui.catalog import Catalog
from psr_engine.ui.security import Guard, GuardMiddleware
from psr_engine.ui.state import Dashboard


def create_app(catalog: Catalog, guard: Guard, *, allow_actions: bool = False) -> GuardMiddleware:
    app = Starlette(routes=[*api.ROUTES, *pages.ROUTES])
    app.state.dashboard = Dashboard(catalog=catalog, guard=guard, allow_actions=allow_actions)
    return GuardMiddleware(app, guard)
