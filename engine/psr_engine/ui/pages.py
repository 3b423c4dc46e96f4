"""The pages: server-rendered HTML (Jinja2, autoescaped), with small scripts from /static for
what changes live. Every task node carries `data-task` and `data-status`; the run page
`data-run` and `data-run-status` (stable hooks for tests and users' scripts)."""

from __future__ import annotations

import os
import sqlite3
import time
from functools import partial
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from psr_engine.store import queries as q
from psr_engine.store.model import RunRecord
from psr_engine.ui import charts, nodes, views
from psr_engine.ui.api import BadRequest, _find, run_filters, search
from psr_engine.ui.catalog import Source, as_seen
from psr_engine.ui.openapi import RUN_STATUSES
from psr_engine.ui.security import COOKIE, safe_next
from psr_engine.ui.state import Dashboard, dashboard
from psr_engine.units import format_duration

HERE = os.path.dirname(os.path.abspath(__file__))
_env = Environment(
    loader=FileSystemLoader(os.path.join(HERE, "templates")),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["duration"] = format_duration
_env.filters["bytes"] = views.format_bytes
_env.filters["when"] = views.format_time
_env.globals["nodes"] = nodes.nodes


# A column's nodes come in chunks of this many, each rendered only when on screen (or near):
# a live change off screen then costs the browser no style, layout or paint, and a frame's
# work walks a few dozen chunks rather than every node of a run of thousands.
CHUNK = 40


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = dashboard(request)
    html = _env.get_template(template).render(
        csrf=state.guard.csrf,
        actions=state.allow_actions,
        login=state.guard.token is not None,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _workflow_names(state: Dashboard) -> list[str]:
    names: set[str] = set()
    for source in state.catalog.sources:
        names.update(row[0] for row in state.catalog.read(source, q.workflow_summaries))
    return sorted(names)


async def runs_page(request: Request) -> Response:
    state = dashboard(request)
    params = dict(request.query_params)
    try:
        filters = run_filters(params)
    except BadRequest as problem:
        return render(request, "error.html", 400, message=str(problem))
    page, cursor = search(state, filters)
    costs: dict[str, str] = {}
    ids = [r.id for r in page]
    for source in state.catalog.sources:
        costs.update(state.catalog.read(source, lambda conn: views.run_costs(conn, ids)))
    kept = {k: v for k, v in params.items() if k in ("workflow", "status", "label", "q") and v}
    older = "/?" + urlencode({**kept, "cursor": cursor}) if cursor else None
    newest = "/?" + urlencode(kept) if params.get("cursor") else None
    return render(
        request,
        "runs.html",
        runs=page,
        costs=costs,
        filters=kept,
        workflows=_workflow_names(state),
        statuses=RUN_STATUSES,
        older=older,
        newest=newest,
        first_page=not params.get("cursor"),
        now=time.time(),
    )


def _run_context(
    state: Dashboard, source: Source, run: RunRecord, drawn: str | None = None
) -> dict[str, Any]:
    """What `_run.html` draws a run from: the run page's and the follow page's. `drawn`: the
    plan (views.plan_of) of the DAG the asking page has on screen; when it is this run's
    too, the DAG is left out (`dag_kept`: the page keeps its own, statuses cleared)."""

    def read(conn: sqlite3.Connection) -> tuple[str, views.RunDetail | None]:
        plan = views.plan_of(conn, run.id)
        if plan == drawn:
            return plan, None
        return plan, views.load_detail(conn, run, attempts=False)

    plan, detail = state.catalog.read(source, read)
    kept = detail is None
    if detail is None:  # the page keeps its DAG: only the run's own facts and gates
        gates = tuple(state.catalog.read(source, lambda conn: q.gates_of(conn, run.id)))
        detail = views.RunDetail(run=run, tasks=(), attempts=(), gates=gates)
    levels, on_exit = views.layout(detail.tasks)
    path = set(views.critical_path(detail.tasks))
    return dict(
        run=run,
        plan=plan,
        dag_kept=kept,
        detail=detail,
        levels=levels,
        on_exit=on_exit,
        critical=path,
        cost=views.cost_summary(detail.tasks),
        trace=state.trace_link(run),
        chunk_size=CHUNK,
        now=time.time(),
    )


async def run_page(request: Request) -> Response:
    state = dashboard(request)
    found = _find(state, request.path_params["run_id"])
    if found is None:
        return render(request, "error.html", 404, message="no such run in the histories served")
    drawn = request.query_params.get("plan")  # the follow page's, taking this run in
    return render(request, "run.html", **_run_context(state, *found, drawn=drawn))


def _newest_run(state: Dashboard, workflow: str) -> tuple[Source, RunRecord] | None:
    """The workflow's newest run across every history served (as the catalog sees it)."""
    newest: tuple[Source, RunRecord] | None = None
    for source in state.catalog.sources:
        found = state.catalog.read(
            source, lambda conn: q.search_runs(conn, workflow=workflow, limit=1)
        )
        state.catalog.remember(source, found)
        if found and (newest is None or found[0].started_at > newest[1].started_at):
            newest = (source, as_seen(found[0]))
    return newest


async def follow_page(request: Request) -> Response:
    """`/workflows/{name}/latest`: the workflow's newest run, live, followed into each run that
    starts after it (the page swaps in the new run's DAG, no reload). Open before a run starts,
    it costs the browser nothing while it waits and no page load once the run goes."""
    state = dashboard(request)
    name = request.path_params["name"]
    found = _newest_run(state, name)
    context = _run_context(state, *found) if found else {}
    return render(request, "follow.html", name=name, **context)


async def workflow_page(request: Request) -> Response:
    state = dashboard(request)
    name = request.path_params["name"]
    runs: list[Any] = []
    stats: list[Any] = []
    for source in state.catalog.sources:
        found = state.catalog.read(
            source, lambda conn: q.search_runs(conn, workflow=name, limit=charts.RUNS_SHOWN)
        )
        state.catalog.remember(source, found)
        runs += found
        if found:
            ids = [r.id for r in found]
            stats += state.catalog.read(source, partial(charts.task_stats, run_ids=ids))
    if not runs:
        return render(request, "error.html", 404, message=f"no runs of workflow {name!r}")
    runs.sort(key=lambda r: r.started_at)
    runs = runs[-charts.RUNS_SHOWN :]
    merged = charts.merge_stats(stats)
    return render(
        request,
        "workflow.html",
        name=name,
        runs=list(reversed(runs))[:20],
        chart=charts.runs_chart(runs),
        slowest=sorted(merged, key=lambda s: -s.mean_s)[:10],
        retried=[s for s in sorted(merged, key=lambda s: -s.retries) if s.retries][:10],
        total=len(runs),
    )


async def login_page(request: Request) -> Response:
    state = dashboard(request)
    target = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", next=target, failed=False)
    form = await request.form()
    offered = str(form.get("token") or "")
    target = safe_next(str(form.get("next") or "/"))
    if state.guard.token is None:
        return RedirectResponse(target, status_code=303)
    if not state.guard.token_ok(offered):
        return render(request, "login.html", 401, next=target, failed=True)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        state.guard.session,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
        path="/",
    )
    return response


ROUTES = [
    Route("/", runs_page),
    Route("/runs/{run_id}", run_page),
    Route("/workflows/{name:path}/latest", follow_page),
    Route("/workflows/{name:path}", workflow_page),
    Route("/login", login_page, methods=["GET", "POST"]),
    Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
]
