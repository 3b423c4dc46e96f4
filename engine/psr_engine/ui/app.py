"""The Starlette application of one dashboard."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from psr_engine.ui import api, pages
from psr_engine.ui.catalog import Catalog
from psr_engine.ui.security import Guard, GuardMiddleware
from psr_engine.ui.state import Dashboard


async def _http_error(request: Request, error: Exception) -> Response:
    """The API answers in JSON (as its document says) even for paths no route matches."""
    assert isinstance(error, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": error.detail}, status_code=error.status_code)
    return PlainTextResponse(error.detail, status_code=error.status_code)


def create_app(
    catalog: Catalog,
    guard: Guard,
    *,
    allow_actions: bool = False,
    trace_url: str | None = None,
) -> GuardMiddleware:
    app = Starlette(
        routes=[*api.ROUTES, *pages.ROUTES],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.dashboard = Dashboard(
        catalog=catalog, guard=guard, allow_actions=allow_actions, trace_url=trace_url
    )
    return GuardMiddleware(app, guard)
