"""SpanBuilder: a run's events become one trace.

    RUN <workflow>                    the root; joins TRACEPARENT of the engine's environment
    +-- gate <name>                   spec.gates, before any task
    +-- <task>                        one per task instance, from its first start to its end
    |   +-- <task> attempt 1          one per attempt; its process gets TRACEPARENT of it
    |   +-- <task> attempt 2
    +-- <workflow task>
        +-- <workflow task>/<child>   sub-workflow tasks, under their parent task

Spans are started and ended at the events' own times, so the tree is exact even though the
builder only sees events. It runs where the spans are made: in the exporter process, fed the
events the engine's otel sink forwards (with the ids the engine gave the run and attempt
spans, which its processes already carry), or in the engine itself for a sink given a
TracingManager.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from psr_engine.tracing import attributes as attrs
from psr_engine.tracing.attributes import SpanEvent
from psr_engine.tracing.recorder import OpenSpan, SpanRecorder


@dataclass(slots=True)
class _TaskSpans:
    span: OpenSpan
    attempt: OpenSpan | None = None  # the open attempt span, if any
    attempts: int = 0


class SpanBuilder:
    """Events in, spans out through `recorder`. `planned(task_id)` gives what the plan says
    of a task (attributes.planned_task_attributes), {} for one it does not know."""

    def __init__(self, recorder: SpanRecorder, planned: Callable[[str], Mapping[str, Any]]) -> None:
        self._recorder = recorder
        self._planned = planned
        self._run: OpenSpan | None = None
        self._tasks: dict[str, _TaskSpans] = {}
        self._gates: dict[str, OpenSpan] = {}
        self._handlers: dict[str, Callable[[SpanEvent, Any], None]] = {
            "run.started": self._run_started,
            "run.finished": self._run_finished,
            "gate.started": self._gate_started,
            "gate.finished": self._gate_finished,
            "task.started": self._task_started,
            "task.retrying": self._task_retrying,
            "task.finished": self._task_finished,
            "task.skipped": self._task_finished,
        }

    @property
    def run_span(self) -> OpenSpan | None:
        """The run's span while it is open."""
        return self._run

    def attempt_span(self, task_id: str) -> OpenSpan | None:
        """The open attempt span of a task, if any."""
        task = self._tasks.get(task_id)
        return None if task is None else task.attempt

    def handle(self, event: SpanEvent, ids: Any = None) -> None:
        """One event. `ids`: for run.started the run span's SpanIds and its parent's (a
        pair), for task.started the attempt span's id, as the engine drew them; None to
        draw them here."""
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event, ids)

    # -- run ----------------------------------------------------------------------------

    def _run_started(self, event: SpanEvent, ids: Any = None) -> None:
        self._run = self._recorder.start(
            attrs.run_span_name(event.workflow),
            kind="server",
            attributes=attrs.run_attributes(event),
            start_time=event.ts,
            ids=ids,
        )

    def _run_finished(self, event: SpanEvent, _ids: Any = None) -> None:
        if self._run is None:
            return
        self.end_open(event.ts)
        ending = attrs.run_end_attributes(event)
        self._end(self._run, ending, event, result=ending[attrs.PIPELINE_RESULT])
        self._run = None

    # -- gates --------------------------------------------------------------------------

    def _gate_started(self, event: SpanEvent, _ids: Any = None) -> None:
        assert event.task is not None
        gate = event.task.rpartition("/")[2]
        self._gates[event.task] = self._recorder.start(
            attrs.gate_span_name(gate),
            parent=self._parent_of(event.task),
            attributes=attrs.gate_attributes(event, gate=gate),
            start_time=event.ts,
        )

    def _gate_finished(self, event: SpanEvent, _ids: Any = None) -> None:
        span = self._gates.pop(event.task or "", None)
        if span is not None:
            ending = attrs.gate_end_attributes(event)
            self._end(span, ending, event, result=ending[attrs.TASK_RESULT])

    # -- tasks --------------------------------------------------------------------------

    def _task_started(self, event: SpanEvent, span_id: Any = None) -> None:
        assert event.task is not None
        task = self._tasks.get(event.task) or self._open_task(event)
        number = event.attempt or task.attempts + 1
        task.attempts = number
        task.attempt = self._recorder.start(
            attrs.attempt_span_name(event.task, number),
            parent=task.span,
            attributes=attrs.attempt_attributes(event, task_id=event.task, attempt=number),
            start_time=event.ts,
            span_id=span_id,
        )

    def _task_retrying(self, event: SpanEvent, _ids: Any = None) -> None:
        task = self._tasks.get(event.task or "")
        if task is None:
            return
        attempt = event.attempt or task.attempts
        self._end_attempt(task, event)
        details: dict[str, Any] = {"psr.attempt": attempt}
        if event.reason:
            details["psr.reason"] = event.reason
        if event.exit_code is not None:
            details["psr.exit_code"] = event.exit_code
        delay = (event.data or {}).get("delayS")
        if delay is not None:
            details["psr.retry.delay_s"] = float(delay)
        self._recorder.add_event(task.span, "retry", details, timestamp=event.ts)

    def _task_finished(self, event: SpanEvent, _ids: Any = None) -> None:
        assert event.task is not None
        task = self._tasks.pop(event.task, None)
        if task is None:
            # Ended without starting (skipped, or cancelled while waiting): a point span,
            # so every planned task shows in the trace with its result.
            task = self._open_task(event)
            del self._tasks[event.task]
        self._end_attempt(task, event)
        ending = attrs.task_end_attributes(event, attempts=task.attempts)
        self._end(task.span, ending, event, result=ending[attrs.TASK_RESULT])

    # -- helpers ------------------------------------------------------------------------

    def _open_task(self, event: SpanEvent) -> _TaskSpans:
        assert event.task is not None
        span = self._recorder.start(
            event.task,
            parent=self._parent_of(event.task),
            attributes=attrs.task_attributes(
                event, task_id=event.task, planned=self._planned(event.task)
            ),
            start_time=event.ts,
        )
        task = _TaskSpans(span=span)
        self._tasks[event.task] = task
        return task

    def _end_attempt(self, task: _TaskSpans, event: SpanEvent) -> None:
        if task.attempt is None:
            return
        ending = attrs.attempt_end_attributes(event)
        if ending.get(attrs.ERROR_TYPE) == "timeout":
            self._recorder.add_event(
                task.attempt, "timeout", {"psr.attempt": task.attempts}, timestamp=event.ts
            )
        self._end(task.attempt, ending, event, result=ending[attrs.TASK_RESULT])
        task.attempt = None

    def _end(
        self, span: OpenSpan, ending: dict[str, Any], event: SpanEvent, *, result: str
    ) -> None:
        error = None
        if attrs.is_error(result):
            error = event.reason or event.message or result
        self._recorder.end(span, attributes=ending, error=error, end_time=event.ts)

    def _parent_of(self, task_id: str) -> OpenSpan | None:
        """A sub-workflow's task `etl/extract` (or gate `etl/code`) goes under the span of
        task `etl`; the rest under the run. Matrix values may hold '/', so every split point
        is tried, the longest known prefix first."""
        cut = task_id.rfind("/")
        while cut > 0:
            parent = self._tasks.get(task_id[:cut])
            if parent is not None:
                return parent.span
            cut = task_id.rfind("/", 0, cut)
        return self._run

    def end_open(self, ts: float | None) -> None:
        """Spans still open when the run ends (the engine stopped before their events, or
        died): ended at `ts` (None: now), marked incomplete, so nothing is lost and
        nothing leaks."""
        recorder = self._recorder
        for task in list(self._tasks.values())[::-1]:
            if task.attempt is not None:
                recorder.end(task.attempt, attributes=_INCOMPLETE, end_time=ts)
            recorder.end(task.span, attributes=_INCOMPLETE, end_time=ts)
        for span in self._gates.values():
            recorder.end(span, attributes=_INCOMPLETE, end_time=ts)
        self._tasks.clear()
        self._gates.clear()
        if ts is None and self._run is not None:
            recorder.end(self._run, attributes=_INCOMPLETE)
            self._run = None


_INCOMPLETE = {"psr.incomplete": True}


def planned_attributes(plan: Any) -> dict[str, dict[str, Any]]:
    """What the plan says of each of its tasks (onExit ones too), by task id."""
    tasks = (*plan.tasks, *plan.on_exit)
    return {t.id: attrs.planned_task_attributes(t) for t in tasks}
