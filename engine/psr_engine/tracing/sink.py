"""The otel sink: a run's events become one trace.

    RUN <workflow>                    the root; joins TRACEPARENT of the engine's environment
    +-- gate <name>                   spec.gates, before any task
    +-- <task>                        one per task instance, from its first start to its end
    |   +-- <task> attempt 1          one per attempt; its process gets TRACEPARENT of it
    |   +-- <task> attempt 2
    +-- <workflow task>
        +-- <workflow task>/<child>   sub-workflow tasks, under their parent task

Spans are started and ended at the events' own times, so the tree is exact even though the
sink only sees events. `emit` stays cheap: spans go through a SpanRecorder (plain records
while open) and, once ended, to the exporter process (shipping.py), where opentelemetry's
SDK turns them into ReadableSpans and exports them: the engine's process never imports it.
A sink given a TracingManager hands its spans to that manager's processor instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psr_engine.events.model import Event
from psr_engine.tracing import attributes as attrs
from psr_engine.tracing import propagation
from psr_engine.tracing.config import TracingConfig, resolve_config
from psr_engine.tracing.recorder import OpenSpan, SpanRecorder
from psr_engine.tracing.shipping import SpanShipper

if TYPE_CHECKING:
    from psr_engine.plan.model import Plan
    from psr_engine.tracing.setup import TracingManager


@dataclass(slots=True)
class _TaskSpans:
    span: OpenSpan
    attempt: OpenSpan | None = None  # the open attempt span, if any
    attempts: int = 0


class OtelSink:
    """Events as OpenTelemetry spans. Give it the Plan (kind, resources and retry limits of
    tasks go on their spans) or at least the tracing config; manifest sink options
    (`endpoint`, `protocol`, `headers`) override spec.tracing's. `shipper`: an exporter
    process started early (see SpanShipper) for this sink to use."""

    name = "otel"

    def __init__(
        self,
        plan: Plan | None = None,
        *,
        config: TracingConfig | None = None,
        manager: TracingManager | None = None,
        environ: Mapping[str, str] | None = None,
        shipper: SpanShipper | None = None,
        **options: Any,
    ) -> None:
        self._plan = plan
        self._config = config
        self._manager = manager
        self._environ = environ
        self._options = {k: v for k, v in options.items() if v is not None}
        self._recorder: SpanRecorder | None = None
        self._shipper: SpanShipper | None = None
        self._early = shipper  # an exporter process started before the config was known
        self._run: OpenSpan | None = None
        self._tasks: dict[str, _TaskSpans] = {}
        self._gates: dict[str, OpenSpan] = {}
        self._planned_tasks: dict[str, Any] | None = None
        self._handlers: dict[str, Callable[[Event], None]] = {
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
    def manager(self) -> TracingManager | None:
        return self._manager

    # -- the Sink protocol --------------------------------------------------------------

    def prepare(self) -> None:
        """Start the exporter process now rather than at `start`: it loads its libraries
        (~50 ms of CPU) while the engine still prepares the run, on a core that is idle
        then. Raises PsrError when the SDK is missing. Safe to skip or to call twice."""
        if self._manager is not None or self._shipper is not None:
            return
        _require_sdk()
        self._config = self._config or resolve_config(
            self._plan.tracing if self._plan else None,
            workflow=self._plan.workflow if self._plan else None,
            environ=self._environ,
            overrides=self._options,
        )
        if self._early is not None:
            self._shipper, self._early = self._early, None
            self._shipper.configure(self._config)
        else:
            self._shipper = SpanShipper(self._config, environ=self._environ)

    async def start(self) -> None:
        """Ready to record at once: spans the exporter process gets before it is ready
        wait in its pipe. A sink given a manager records into that manager instead."""
        if self._manager is not None:
            self._recorder = self._manager.recorder()
            return
        self.prepare()
        assert self._shipper is not None and self._config is not None
        self._recorder = SpanRecorder(self._config, self._shipper.send)

    def emit(self, event: Event) -> None:
        handler = self._handlers.get(event.type)
        if handler is not None and self._recorder is not None:
            handler(event)

    async def aclose(self) -> None:
        import anyio

        if self._recorder is not None:
            self._end_open(None)
        if self._shipper is not None:
            result = await anyio.to_thread.run_sync(self._shipper.close)
            self._shipper = None
            finished, problems = result.finished, result.errors
        elif self._manager is not None:
            finished = await anyio.to_thread.run_sync(self._manager.shutdown)
            problems = self._manager.export_errors
        else:
            return
        if not finished or problems:
            config = self._config or (self._manager.config if self._manager else None)
            assert config is not None
            where = config.endpoint if config.exporter == "otlp" else "exporter"
            detail = "; ".join(dict.fromkeys(problems)) or "timed out"
            sys.stderr.write(f"warning: tracing: spans not all sent to {where} ({detail})\n")

    # -- context for others -------------------------------------------------------------

    def attempt_env(self, task_id: str, attempt: int) -> Mapping[str, str]:
        """TRACEPARENT/TRACESTATE of the attempt span opened by task.started: the scheduler
        adds them to the attempt's environment before spawning it."""
        task = self._tasks.get(task_id)
        if task is None or task.attempt is None:
            return {}
        return propagation.process_env(task.attempt)

    def trace_headers(self) -> dict[str, str]:
        """W3C headers of the run span (empty before run.started): for outgoing HTTP calls
        made on the run's behalf, e.g. the webhook sink's POSTs."""
        return propagation.carrier(self._run) if self._run is not None else {}

    # -- run ----------------------------------------------------------------------------

    def _run_started(self, event: Event) -> None:
        assert self._recorder is not None
        self._run = self._recorder.start(
            attrs.run_span_name(event.workflow),
            kind="server",
            attributes=attrs.run_attributes(event),
            start_time=event.ts,
        )

    def _run_finished(self, event: Event) -> None:
        if self._run is None:
            return
        self._end_open(event.ts)
        ending = attrs.run_end_attributes(event)
        self._end(self._run, ending, event, result=ending[attrs.PIPELINE_RESULT])
        self._run = None

    # -- gates --------------------------------------------------------------------------

    def _gate_started(self, event: Event) -> None:
        assert self._recorder is not None and event.task is not None
        gate = event.task.rpartition("/")[2]
        self._gates[event.task] = self._recorder.start(
            attrs.gate_span_name(gate),
            parent=self._parent_of(event.task),
            attributes=attrs.gate_attributes(event, gate=gate),
            start_time=event.ts,
        )

    def _gate_finished(self, event: Event) -> None:
        span = self._gates.pop(event.task or "", None)
        if span is not None:
            ending = attrs.gate_end_attributes(event)
            self._end(span, ending, event, result=ending[attrs.TASK_RESULT])

    # -- tasks --------------------------------------------------------------------------

    def _task_started(self, event: Event) -> None:
        assert self._recorder is not None and event.task is not None
        task = self._tasks.get(event.task) or self._open_task(event)
        number = event.attempt or task.attempts + 1
        task.attempts = number
        task.attempt = self._recorder.start(
            attrs.attempt_span_name(event.task, number),
            parent=task.span,
            attributes=attrs.attempt_attributes(event, task_id=event.task, attempt=number),
            start_time=event.ts,
        )

    def _task_retrying(self, event: Event) -> None:
        task = self._tasks.get(event.task or "")
        if task is None:
            return
        assert self._recorder is not None
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

    def _task_finished(self, event: Event) -> None:
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

    def _open_task(self, event: Event) -> _TaskSpans:
        assert self._recorder is not None and event.task is not None
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

    def _end_attempt(self, task: _TaskSpans, event: Event) -> None:
        if task.attempt is None:
            return
        assert self._recorder is not None
        ending = attrs.attempt_end_attributes(event)
        if ending.get(attrs.ERROR_TYPE) == "timeout":
            self._recorder.add_event(
                task.attempt, "timeout", {"psr.attempt": task.attempts}, timestamp=event.ts
            )
        self._end(task.attempt, ending, event, result=ending[attrs.TASK_RESULT])
        task.attempt = None

    def _end(self, span: OpenSpan, ending: dict[str, Any], event: Event, *, result: str) -> None:
        assert self._recorder is not None
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

    def _planned(self, task_id: str) -> dict[str, Any]:
        if self._plan is None:
            return {}
        if self._planned_tasks is None:
            self._planned_tasks = {t.id: t for t in (*self._plan.tasks, *self._plan.on_exit)}
        task = self._planned_tasks.get(task_id)
        return {} if task is None else attrs.planned_task_attributes(task)

    def _end_open(self, ts: float | None) -> None:
        """Spans still open when the run ends (the engine stopped before their events):
        ended now, marked incomplete, so nothing is lost and nothing leaks."""
        recorder = self._recorder
        assert recorder is not None
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


def _require_sdk() -> None:
    """A missing opentelemetry SDK fails the sink's start, as building the manager there did
    (a lookup, not an import)."""
    import importlib.util

    from psr_engine.errors import PsrError

    try:
        found = importlib.util.find_spec("opentelemetry.sdk") is not None
    except ImportError:
        found = False
    if not found:
        raise PsrError(
            "tracing needs a missing package (opentelemetry-sdk): pip install 'psr-engine[otel]'"
        )
