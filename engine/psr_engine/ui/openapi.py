"""The OpenAPI 3.1 document of the dashboard's API, served at /api/openapi.json.

Written out rather than generated: it is the contract (docs/features/dashboard.md is made
from it, and a schemathesis test holds the server to it). Field names are those of
`status --output json`.
"""

from __future__ import annotations

from typing import Any, get_args

from psr_engine._version import __version__
from psr_engine.status import RunStatus, TaskState

# The enums are status.py's Literal types, read once: a status added there shows up here.
RUN_STATUSES: list[str] = list(get_args(RunStatus))
TASK_STATES: list[str] = list(get_args(TaskState))

_str_or_null: dict[str, Any] = {"type": ["string", "null"]}
_num_or_null: dict[str, Any] = {"type": ["number", "null"]}
_int_or_null: dict[str, Any] = {"type": ["integer", "null"]}
# Times as `status --output json` writes them: RFC 3339 text in UTC, milliseconds and `Z`.
_time: dict[str, Any] = {"type": "string", "format": "date-time"}
_time_or_null: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "what is wrong, how to fix"}},
    },
    "Run": {
        "type": "object",
        "required": ["runId", "workflow", "status", "startedAt"],
        "properties": {
            "runId": {"type": "string"},
            "workflow": {"type": "string"},
            "status": {"enum": RUN_STATUSES},
            "reason": _str_or_null,
            "startedAt": {**_time, "description": "RFC 3339, UTC: 2026-11-25T06:00:01.250Z"},
            "endedAt": _time_or_null,
            "durationS": _num_or_null,
            "manifest": _str_or_null,
            "manifestDigest": _str_or_null,
            "params": {"type": "object", "description": "as recorded: secrets masked"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "host": _str_or_null,
            "user": _str_or_null,
            "pid": _int_or_null,
            "ciJobUrl": {**_str_or_null, "description": "the CI job that ran it"},
            "runDir": _str_or_null,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "resumedFrom": _str_or_null,
            "traceId": {
                **_str_or_null,
                "description": "the run's OpenTelemetry trace id (32 hex digits); null for a "
                "run that was not traced",
            },
        },
    },
    "Task": {
        "type": "object",
        "required": ["task", "status", "attempt", "durationS", "needs", "level"],
        "properties": {
            "task": {"type": "string", "description": "the instance name"},
            "status": {"enum": TASK_STATES},
            "reason": _str_or_null,
            "attempt": {"type": "integer", "description": "attempts made"},
            "exitCode": _int_or_null,
            "durationS": {"type": "number"},
            "cpuUserS": {"type": "number"},
            "cpuSysS": {"type": "number"},
            "maxRssBytes": {"type": "integer"},
            "outputs": {"type": "object", "additionalProperties": {"type": "string"}},
            "startedAt": _time_or_null,
            "endedAt": _time_or_null,
            "matrix": {"type": "object"},
            "logPath": _str_or_null,
            "message": _str_or_null,
            "needs": {"type": "array", "items": {"type": "string"}},
            "level": {"type": "integer"},
            "onExit": {"type": "boolean"},
            "cost": {"type": "object", "description": "reserved, used, currency, rates"},
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["task", "attempt", "status"],
        "properties": {
            "task": {"type": "string"},
            "attempt": {"type": "integer"},
            "status": {"type": "string"},
            "reason": _str_or_null,
            "exitCode": _int_or_null,
            "startedAt": _time_or_null,
            "endedAt": _time_or_null,
            "durationS": _num_or_null,
            "logPath": _str_or_null,
        },
    },
    "Gate": {
        "type": "object",
        "required": ["gate", "status"],
        "properties": {
            "gate": {"type": "string"},
            "status": {"type": "string"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "findings": {"type": "array"},
            "startedAt": _time_or_null,
            "endedAt": _time_or_null,
            "message": _str_or_null,
        },
    },
    "RunDetail": {
        "type": "object",
        "required": ["run", "tasks", "gates", "attempts", "criticalPath"],
        "properties": {
            "run": _ref("Run"),
            "tasks": {"type": "object", "additionalProperties": _ref("Task")},
            "gates": {"type": "object", "additionalProperties": _ref("Gate")},
            "attempts": {"type": "array", "items": _ref("Attempt")},
            "criticalPath": {"type": "array", "items": {"type": "string"}},
            "cost": {
                "type": ["object", "null"],
                "properties": {
                    "used": {"type": "object", "additionalProperties": {"type": "number"}},
                    "reserved": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
        },
    },
    "RunPage": {
        "type": "object",
        "required": ["runs", "next"],
        "properties": {
            "runs": {"type": "array", "items": _ref("Run")},
            "next": {**_str_or_null, "description": "the cursor of the next (older) page"},
        },
    },
    "Workflow": {
        "type": "object",
        "required": ["workflow", "runs", "lastStartedAt", "lastStatus", "stateDir"],
        "properties": {
            "workflow": {"type": "string"},
            "runs": {"type": "integer"},
            "lastStartedAt": _time,
            "lastStatus": {"type": "string"},
            "stateDir": {"type": "string"},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["runId", "action"],
        "properties": {
            "runId": {"type": "string"},
            "action": {"enum": ["cancel", "resume", "rerun"]},
            "pid": {"type": "integer", "description": "the engine signalled, or started"},
            "output": {"type": "string", "description": "where a started engine's output goes"},
        },
    },
}

_run_id = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
_csrf = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "description": "the page's CSRF token; not needed with a bearer token",
    "schema": {"type": "string"},
}


def _action(summary: str, *, from_param: bool = False) -> dict[str, Any]:
    params: list[dict[str, Any]] = [_run_id, _csrf]
    if from_param:
        params.append(
            {
                "name": "from",
                "in": "query",
                "required": True,
                "description": "the task instance to rerun, with everything downstream of it",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    return {
        "post": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "202": {
                    "description": "done (cancel) or started (resume, rerun)",
                    "content": {"application/json": {"schema": _ref("Accepted")}},
                },
                "400": _error("a parameter is wrong"),
                "401": _error("a token is required"),
                "403": _error("actions are off (--allow-actions), or the CSRF token is wrong"),
                "404": _error("no such run"),
                "409": _error("not possible on this run now (the message says why)"),
            },
        }
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "psr-engine dashboard API",
            "version": __version__,
            "description": "The run histories `psr-engine ui` serves. Field names are those "
            "of `psr-engine status --output json`.",
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/api/runs": {
                "get": {
                    "summary": "Runs of every workflow served, newest first",
                    "parameters": [
                        {"name": "workflow", "in": "query", "schema": {"type": "string"}},
                        {"name": "status", "in": "query", "schema": {"enum": RUN_STATUSES}},
                        {
                            "name": "label",
                            "in": "query",
                            "description": "KEY=VALUE: runs with that label",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "q",
                            "in": "query",
                            "description": "text in the id, workflow, labels or reason",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "`next` of the previous page",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "description": "runs a page (default 50)",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "one page of runs",
                            "content": {"application/json": {"schema": _ref("RunPage")}},
                        },
                        "400": _error("a filter or the cursor is malformed"),
                        "401": _error("a token is required"),
                    },
                }
            },
            "/api/runs/{run_id}": {
                "get": {
                    "summary": "One run: its tasks, attempts, gates, critical path, cost",
                    "parameters": [_run_id],
                    "responses": {
                        "200": {
                            "description": "the run",
                            "content": {"application/json": {"schema": _ref("RunDetail")}},
                        },
                        "401": _error("a token is required"),
                        "404": _error("no such run"),
                    },
                }
            },
            "/api/runs/{run_id}/tasks/{task}/logs": {
                "get": {
                    "summary": "A task's log: whole, a byte range (Range header), or its tail",
                    "parameters": [
                        _run_id,
                        {
                            "name": "task",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "attempt",
                            "in": "query",
                            "description": "which attempt (default: the last)",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "tail",
                            "in": "query",
                            "description": "only the last N lines",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                        },
                        {
                            "name": "Range",
                            "in": "header",
                            "description": "bytes=START-END, START- or -LAST",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the log (X-Log-Size: the file's size now)",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "206": {
                            "description": "part of the log (Content-Range)",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "400": _error("a parameter is malformed"),
                        "401": _error("a token is required"),
                        "403": _error("the recorded log lies outside the history's folder"),
                        "404": _error("no such run, task, attempt or log"),
                        "416": _error("the range is outside the log"),
                    },
                }
            },
            "/api/runs/{run_id}/events": {
                "get": {
                    "summary": "Server-Sent Events of one run: `tasks` (the tasks that changed "
                    "since the last event, each with its name and the fields that changed, "
                    "whole the first time, attempts included; a task pending when the stream "
                    "starts is first sent when it moves), `critical` and `run`; "
                    "resumable with Last-Event-ID; ends once the run has ended and its final "
                    "state was sent",
                    "parameters": [
                        _run_id,
                        {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "401": _error("a token is required"),
                        "404": _error("no such run"),
                    },
                }
            },
            "/api/events": {
                "get": {
                    "summary": "Server-Sent Events of every history: `run` when a run starts "
                    "or changes status",
                    "parameters": [
                        {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "401": _error("a token is required"),
                    },
                }
            },
            "/api/workflows": {
                "get": {
                    "summary": "The workflows in the histories served",
                    "responses": {
                        "200": {
                            "description": "workflows by name",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["workflows"],
                                        "properties": {
                                            "workflows": {
                                                "type": "array",
                                                "items": _ref("Workflow"),
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "401": _error("a token is required"),
                    },
                }
            },
            "/api/runs/{run_id}/cancel": _action(
                "Stop a running run as Ctrl-C would: onExit runs, the engine exits 130"
            ),
            "/api/runs/{run_id}/resume": _action(
                "Rerun what did not succeed (`apply --resume RUN`), detached"
            ),
            "/api/runs/{run_id}/rerun": _action(
                "Rerun a task and everything downstream (`apply --resume RUN --from TASK`)",
                from_param=True,
            ),
        },
    }


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and "items" in schema:
        return f"array of {_type_of(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type_of(schema['additionalProperties'])}"
    if schema.get("format") == "date-time":
        kind = kind.replace("string", "RFC 3339 time")
    return str(kind)


def markdown() -> str:
    """The API reference as Markdown (docs/features/dashboard.md holds it; a test keeps the
    two equal: `python -m psr_engine.ui.openapi` prints it afresh)."""
    doc = document()
    out: list[str] = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            out.append(f"### `{method.upper()} {path}`\n")
            out.append(op["summary"] + "\n")
            params = op.get("parameters", [])
            if params:
                out.append("| parameter | in | type | |")
                out.append("|---|---|---|---|")
                for p in params:
                    note = p.get("description", "")
                    required = "required" if p.get("required") else ""
                    text = "; ".join(x for x in (required, note) if x)
                    out.append(f"| `{p['name']}` | {p['in']} | {_type_of(p['schema'])} | {text} |")
                out.append("")
            codes = ", ".join(f"{code} {r['description']}" for code, r in op["responses"].items())
            out.append(f"Responses: {codes}.\n")
    out.append("### Schemas\n")
    for name, schema in SCHEMAS.items():
        needed = set(schema.get("required", []))
        fields = ", ".join(
            f"`{field}`{'' if field in needed else '?'}: {_type_of(spec)}"
            for field, spec in schema.get("properties", {}).items()
        )
        out.append(f"- **{name}**: {fields}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
