"""Span names, kinds and attributes: OpenTelemetry's CI/CD semantic conventions (`cicd.*`,
development status in semconv 1.37) plus psr-engine's own `psr.*`. Pure functions of events.

    run      "RUN <workflow>"       SERVER    cicd.pipeline.{name,run.id,action.name,result}
    gate     "gate <name>"          INTERNAL  cicd.pipeline.task.* (type test), psr.gate.*
    task     "<task id>"            INTERNAL  cicd.pipeline.task.{name,run.id,type,run.result}
    attempt  "<task id> attempt N"  INTERNAL  the same, run.id per attempt, psr.attempt
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol


class SpanEvent(Protocol):
    """What spans are made of: the fields of an Event (events.model) that the span builder
    reads. The engine's Events have them, and so do the exporter process's records
    (wire.EventRecord), which cost it a fraction of an Event to make and need none of
    events.model's imports."""

    @property
    def type(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def workflow(self) -> str: ...
    @property
    def ts(self) -> float: ...
    @property
    def task(self) -> str | None: ...
    @property
    def attempt(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def cpu_user_s(self) -> float | None: ...
    @property
    def cpu_sys_s(self) -> float | None: ...
    @property
    def max_rss_bytes(self) -> int | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any] | None: ...


PIPELINE_NAME = "cicd.pipeline.name"
PIPELINE_RUN_ID = "cicd.pipeline.run.id"
PIPELINE_ACTION = "cicd.pipeline.action.name"
PIPELINE_RESULT = "cicd.pipeline.result"
TASK_NAME = "cicd.pipeline.task.name"
TASK_RUN_ID = "cicd.pipeline.task.run.id"
TASK_TYPE = "cicd.pipeline.task.type"
TASK_RESULT = "cicd.pipeline.task.run.result"
ERROR_TYPE = "error.type"

# Engine states -> the conventions' result values (success, failure, error, timeout,
# cancellation, skip).
_TASK_RESULTS = {
    "succeeded": "success",
    "failed": "failure",
    "timed_out": "timeout",
    "skipped": "skip",
    "cancelled": "cancellation",
    "retrying": "failure",
}
_RUN_RESULTS = {
    "succeeded": "success",
    "failed": "failure",
    "blocked": "failure",
    "cancelled": "cancellation",
}
_GATE_RESULTS = {"passed": "success", "blocked": "failure", "error": "error"}
# The conventions' task types; a task says which it is with the label `type`.
TASK_TYPES = frozenset({"build", "test", "deploy"})
# Failures that are the engine's or the manifest's fault rather than the task's: `error`.
_ERROR_REASONS = frozenset({"expression", "outputs", "gate error", "sub-workflow"})


def run_span_name(workflow: str) -> str:
    return f"RUN {workflow}"


def gate_span_name(gate: str) -> str:
    return f"gate {gate}"


def attempt_span_name(task_id: str, attempt: int) -> str:
    return f"{task_id} attempt {attempt}"


def task_result(status: str | None, reason: str | None = None) -> str:
    if status == "failed" and reason in _ERROR_REASONS:
        return "error"
    return _TASK_RESULTS.get(status or "", "error")


def run_result(status: str | None) -> str:
    return _RUN_RESULTS.get(status or "", "error")


def gate_result(status: str | None) -> str:
    return _GATE_RESULTS.get(status or "", "error")


def is_error(result: str) -> bool:
    """Span status ERROR: the operation failed. Skips and cancellations are outcomes, not
    errors of the span's own operation."""
    return result in ("failure", "error", "timeout")


def error_type(status: str | None, reason: str | None) -> str:
    """A low-cardinality `error.type`: `timeout`, `exit_code`, or the reason as a slug."""
    if status == "timed_out" or reason == "timeout":
        return "timeout"
    if reason and reason.startswith("exit code"):
        return "exit_code"
    if reason and reason.startswith("blocked by gate"):
        return "gate_blocked"
    return re.sub(r"[^a-z0-9]+", "_", (reason or status or "error").lower()).strip("_")


def run_attributes(event: SpanEvent) -> dict[str, Any]:
    data = event.data or {}
    attributes: dict[str, Any] = {
        PIPELINE_NAME: event.workflow,
        PIPELINE_RUN_ID: event.run_id,
        PIPELINE_ACTION: "RUN",
        "psr.run.tasks": int(data.get("tasks") or 0),
    }
    for key, value in (data.get("labels") or {}).items():
        attributes[f"psr.label.{key}"] = str(value)
    return attributes


def run_end_attributes(event: SpanEvent) -> dict[str, Any]:
    result = run_result(event.status)
    attributes: dict[str, Any] = {PIPELINE_RESULT: result, "psr.run.status": event.status or ""}
    if event.reason:
        attributes["psr.reason"] = event.reason
    if is_error(result):
        attributes[ERROR_TYPE] = error_type(event.status, event.reason)
    for state, count in ((event.data or {}).get("counts") or {}).items():
        attributes[f"psr.tasks.{state}"] = int(count)
    return attributes


def task_attributes(
    event: SpanEvent, *, task_id: str, planned: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Attributes known when a task starts: who it is, what kind, what it asked for."""
    # The pipeline's name and run id are on the run span only: every attribute costs on the
    # scheduler's path and again in the exporter, and the trace already groups them.
    attributes: dict[str, Any] = {TASK_NAME: task_id, TASK_RUN_ID: f"{event.run_id}/{task_id}"}
    for key, value in ((event.data or {}).get("matrix") or {}).items():
        attributes[f"psr.matrix.{key}"] = str(value)
    if planned:
        attributes.update(planned)
    return attributes


def attempt_attributes(event: SpanEvent, *, task_id: str, attempt: int) -> dict[str, Any]:
    return {
        TASK_NAME: task_id,
        TASK_RUN_ID: f"{event.run_id}/{task_id}/{attempt}",
        "psr.attempt": attempt,
    }


def attempt_end_attributes(event: SpanEvent) -> dict[str, Any]:
    """An attempt's outcome: from task.retrying (this attempt) or task.finished (the last)."""
    status = "retrying" if event.type == "task.retrying" else event.status
    reason = event.reason
    if event.type == "task.retrying" and reason == "timeout":
        status = "timed_out"
    result = task_result(status, reason)
    attributes: dict[str, Any] = {TASK_RESULT: result}
    if event.exit_code is not None:
        attributes["psr.exit_code"] = event.exit_code
    if reason:
        attributes["psr.reason"] = reason
    if is_error(result):
        attributes[ERROR_TYPE] = error_type(status, reason)
    return attributes


def task_end_attributes(event: SpanEvent, *, attempts: int) -> dict[str, Any]:
    result = task_result(event.status, event.reason)
    attributes: dict[str, Any] = {
        TASK_RESULT: result,
        "psr.attempts": attempts,
        "psr.retries": max(0, attempts - 1),
    }
    optional = {
        "psr.reason": event.reason,
        "psr.exit_code": event.exit_code,
        "psr.duration_s": event.duration_s,
        "psr.cpu.user_s": event.cpu_user_s,
        "psr.cpu.sys_s": event.cpu_sys_s,
        "psr.memory.peak_rss_bytes": event.max_rss_bytes,
        "psr.message": event.message,
    }
    cost = (event.data or {}).get("cost")
    if isinstance(cost, dict):  # cost attribution (spec.cost) puts it on task.finished
        optional.update(
            {
                "psr.cost.reserved": cost.get("reserved"),
                "psr.cost.used": cost.get("used"),
                "psr.cost.currency": cost.get("currency"),
            }
        )
    attributes.update({k: v for k, v in optional.items() if v is not None})
    if is_error(result):
        attributes[ERROR_TYPE] = error_type(event.status, event.reason)
    return attributes


def gate_attributes(event: SpanEvent, *, gate: str) -> dict[str, Any]:
    data = event.data or {}
    return {
        TASK_NAME: gate,
        TASK_RUN_ID: f"{event.run_id}/gate/{gate}",
        TASK_TYPE: "test",
        "psr.gate.type": str(data.get("type") or ""),
        "psr.gate.fail_on": str(data.get("failOn") or ""),
    }


def gate_end_attributes(event: SpanEvent) -> dict[str, Any]:
    result = gate_result(event.status)
    data = event.data or {}
    attributes: dict[str, Any] = {TASK_RESULT: result, "psr.gate.status": event.status or ""}
    for severity, count in (data.get("counts") or {}).items():
        attributes[f"psr.gate.findings.{severity}"] = int(count)
    if data.get("findingsTotal") is not None:
        attributes["psr.gate.findings"] = int(data["findingsTotal"])
    if event.message:
        attributes["psr.message"] = event.message
    if is_error(result):
        attributes[ERROR_TYPE] = "gate_blocked" if event.status == "blocked" else "gate_error"
    return attributes


def planned_task_attributes(task: Any) -> dict[str, Any]:
    """What the plan says of a task (a PlannedTask): kind, type, resources, retry limit."""
    attributes: dict[str, Any] = {"psr.task.kind": task.kind}
    if task.task != task.id:
        attributes["psr.task.name"] = task.task  # a matrix instance's task
    if task.retries.limit:
        attributes["psr.retries.limit"] = int(task.retries.limit)
    if task.resources.cpu:
        attributes["psr.resources.cpu"] = float(task.resources.cpu)
    if task.resources.memory:
        attributes["psr.resources.memory_bytes"] = int(task.resources.memory)
    kind = task.labels.get("type") or ("test" if task.kind == "gate" else None)
    if kind:
        attributes[TASK_TYPE] = str(kind)
    if task.timeout is not None:
        attributes["psr.timeout_s"] = float(task.timeout)
    if task.continue_on_error:
        attributes["psr.continue_on_error"] = True
    return attributes
