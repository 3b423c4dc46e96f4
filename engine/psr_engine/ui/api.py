"""The REST API: JSON with `status --output json`'s field names (see openapi.py)."""

from __future__ import annotations

import base64
import heapq
import json
import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from psr_engine.errors import HistoryError
from psr_engine.json_convention import rfc3339
from psr_engine.store import queries as q
from psr_engine.store.model import RunRecord
from psr_engine.ui import actions, live, logs
from psr_engine.ui.catalog import Source, as_seen
from psr_engine.ui.openapi import RUN_STATUSES, document
from psr_engine.ui.state import Dashboard, dashboard
from psr_engine.ui.views import load_detail, timed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class BadRequest(ValueError):
    pass


def error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


# -- runs ----------------------------------------------------------------------------------


def encode_cursor(run: RunRecord) -> str:
    raw = json.dumps([run.started_at, run.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        started, run_id = json.loads(raw)
        if isinstance(started, bool) or not isinstance(started, int | float):
            raise TypeError
        if not isinstance(run_id, str):
            raise TypeError
        return float(started), run_id
    except (ValueError, TypeError):
        raise BadRequest("cursor: not one this server gave (use `next` of a page)") from None


def run_filters(params: Any) -> dict[str, Any]:
    """The runs list's filters from a query string, checked."""
    status = params.get("status") or None
    if status is not None and status not in RUN_STATUSES:
        raise BadRequest(f"status: one of {', '.join(RUN_STATUSES)}")
    label = None
    if params.get("label"):
        key, sep, value = params["label"].partition("=")
        if not sep or not key:
            raise BadRequest("label: KEY=VALUE, e.g. label=team=data")
        label = (key, value)
    limit = DEFAULT_LIMIT
    if params.get("limit"):
        try:
            limit = int(params["limit"])
        except ValueError:
            raise BadRequest("limit: a whole number") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit: 1 to {MAX_LIMIT}")
    cursor = decode_cursor(params["cursor"]) if params.get("cursor") else None
    return {
        "workflow": params.get("workflow") or None,
        "status": status,
        "label": label,
        "text": params.get("q") or None,
        "before": cursor,
        "limit": limit,
    }


def search(state: Dashboard, filters: dict[str, Any]) -> tuple[list[RunRecord], str | None]:
    """One page of runs across every history, newest first, and the next page's cursor."""
    limit = filters["limit"]
    per_source: list[list[RunRecord]] = []
    for source in state.catalog.sources:
        found = state.catalog.read(
            source, lambda conn: q.search_runs(conn, **{**filters, "limit": limit + 1})
        )
        state.catalog.remember(source, found)
        per_source.append([as_seen(run) for run in found])
    merged = heapq.merge(*per_source, key=lambda r: (r.started_at, r.id), reverse=True)
    page: list[RunRecord] = []
    for run in merged:
        page.append(run)
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return page, encode_cursor(page[-1]) if more and page else None


async def list_runs(request: Request) -> Response:
    state = dashboard(request)
    try:
        filters = run_filters(request.query_params)
    except BadRequest as problem:
        return error(400, str(problem))
    page, cursor = search(state, filters)
    return JSONResponse({"runs": [timed(r.to_dict()) for r in page], "next": cursor})


def _find(state: Dashboard, run_id: str) -> tuple[Source, RunRecord] | None:
    try:
        return state.catalog.find(run_id)
    except HistoryError:
        return None


async def get_run(request: Request) -> Response:
    state = dashboard(request)
    found = _find(state, request.path_params["run_id"])
    if found is None:
        return error(404, f"no run {request.path_params['run_id']!r}")
    source, run = found
    detail = state.catalog.read(source, lambda conn: load_detail(conn, run))
    return JSONResponse(detail.to_dict())


async def list_workflows(request: Request) -> Response:
    state = dashboard(request)
    rows: list[dict[str, Any]] = []
    for source in state.catalog.sources:
        for name, count, newest, last in state.catalog.read(source, q.workflow_summaries):
            rows.append(
                {
                    "workflow": name,
                    "runs": count,
                    "lastStartedAt": rfc3339(newest),
                    "lastStatus": last,
                    "stateDir": source.state_dir,
                }
            )
    rows.sort(key=lambda r: (r["workflow"], r["stateDir"]))
    return JSONResponse({"workflows": rows})


# -- logs ----------------------------------------------------------------------------------


def _log_path(
    conn: sqlite3.Connection, run_id: str, task: str, attempt: int | None
) -> str | bool | None:
    """The recorded log of a task's attempt (the last when None); False: no such task."""
    tasks = {t.id: t for t in q.tasks_of(conn, run_id)}
    if task not in tasks:
        return False
    attempts = q.attempts_of(conn, run_id, task)
    if attempt is not None:
        chosen = [a for a in attempts if a.attempt == attempt]
        return chosen[0].log_path if chosen else False
    if attempts and attempts[-1].log_path:
        return attempts[-1].log_path
    return tasks[task].log_path


def _int_param(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}: {low} to {high}")
    return value


async def task_log(request: Request) -> Response:
    state = dashboard(request)
    run_id, task = request.path_params["run_id"], request.path_params["task"]
    try:
        attempt = _int_param(request, "attempt", 1, 1_000_000)
        lines = _int_param(request, "tail", 1, 100_000)
    except BadRequest as problem:
        return error(400, str(problem))
    found = _find(state, run_id)
    if found is None:
        return error(404, f"no run {run_id!r}")
    source, _ = found
    path = state.catalog.read(source, lambda conn: _log_path(conn, run_id, task, attempt))
    if path is False:
        return error(404, f"run {run_id} has no task (or attempt) {task!r}")
    if not path:
        return error(404, f"task {task!r} has no log yet")
    try:
        real = logs.contained(str(path), source.state_dir)
    except HistoryError as problem:
        return error(403, str(problem))
    if lines is not None:
        chunk = logs.tail(real, lines)
    else:
        try:
            size = _size(real)
            wanted = logs.parse_range(request.headers.get("range"), size)
        except ValueError as problem:
            return error(416 if "outside" in str(problem) else 400, str(problem))
        if wanted is None:
            chunk = logs.read_chunk(real, partial=False)
        else:
            chunk = logs.read_chunk(real, wanted[0], wanted[1], partial=True)
    headers = {
        "X-Log-Size": str(chunk.size),
        "X-Log-Start": str(chunk.start),
        "X-Log-End": str(chunk.end),
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
    }
    status = 200
    if chunk.partial and lines is None:
        status = 206
        last = max(chunk.start, chunk.end - 1)
        headers["Content-Range"] = f"bytes {chunk.start}-{last}/{chunk.size}"
    return Response(
        chunk.data, status_code=status, media_type="text/plain; charset=utf-8", headers=headers
    )


def _size(path: str) -> int:
    import os

    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# -- live ----------------------------------------------------------------------------------

_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def run_events(request: Request) -> Response:
    state = dashboard(request)
    found = _find(state, request.path_params["run_id"])
    if found is None:
        return error(404, f"no run {request.path_params['run_id']!r}")
    source, run = found
    last = live.parse_last_id(request.headers.get("last-event-id"))
    return StreamingResponse(
        live.run_events(source, run.id, last),
        media_type="text/event-stream",
        headers=_SSE_HEADERS,
    )


async def all_events(request: Request) -> Response:
    state = dashboard(request)
    last = live.parse_last_id(request.headers.get("last-event-id"))
    return StreamingResponse(
        live.runs_events(state.catalog, last), media_type="text/event-stream", headers=_SSE_HEADERS
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


# -- actions -------------------------------------------------------------------------------


async def act(request: Request) -> Response:
    state = dashboard(request)
    action = request.path_params["action"]
    if action not in ("cancel", "resume", "rerun"):
        return error(404, f"no action {action!r}: cancel, resume or rerun")
    if not state.allow_actions:
        return error(403, "actions are off: start the dashboard with --allow-actions")
    if not request.scope.get("state", {}).get("bearer") and not state.guard.csrf_ok(
        request.headers.get("x-csrf-token")
    ):
        return error(403, "missing or wrong X-CSRF-Token (reload the page)")
    found = _find(state, request.path_params["run_id"])
    if found is None:
        return error(404, f"no run {request.path_params['run_id']!r}")
    source, run = found
    try:
        if action == "cancel":
            pid = actions.cancel(run)
            return JSONResponse({"runId": run.id, "action": action, "pid": pid}, 202)
        from_task = None
        if action == "rerun":
            from_task = request.query_params.get("from")
            if not from_task:
                return error(400, "rerun needs ?from=TASK (an instance of the run)")
            known = {t.id for t in state.catalog.read(source, lambda c: q.tasks_of(c, run.id))}
            if from_task not in known:
                return error(400, f"run {run.id} has no task {from_task!r}")
        started = actions.apply_again(source, run, from_task=from_task)
    except actions.ActionRefused as refusal:
        return error(409, str(refusal))
    return JSONResponse(
        {"runId": run.id, "action": action, "pid": started.pid, "output": started.output}, 202
    )


ROUTES = [
    Route("/api/openapi.json", openapi),
    Route("/api/runs", list_runs),
    Route("/api/workflows", list_workflows),
    Route("/api/events", all_events),
    Route("/api/runs/{run_id}", get_run),
    Route("/api/runs/{run_id}/events", run_events),
    Route("/api/runs/{run_id}/tasks/{task:path}/logs", task_log),
    Route("/api/runs/{run_id}/{action:str}", act, methods=["POST"]),
]
