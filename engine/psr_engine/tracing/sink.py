"""The otel sink: a run's events become one trace (the span tree: spans.py).

The engine's side is kept to what its processes need at once: the run's trace id and the
sampling decision, drawn when the engine asks for the id just before run.started (which
carries it to the history: `traceId`), an id for each attempt span at task.started (its process
gets TRACEPARENT of it) and the traced events, forwarded as plain tuples to the exporter
process (shipping.py). There a SpanBuilder makes the spans with those ids and the
exporter sends them, so attribute building, encoding and export all run on another core.
A sink given a TracingManager builds the spans here instead and hands them to its processor.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_args

from psr_engine.events.model import Event, EventType
from psr_engine.tracing import propagation
from psr_engine.tracing.config import TracingConfig, resolve_config
from psr_engine.tracing.recorder import OpenSpan, SpanIds, SpanRecorder
from psr_engine.tracing.shipping import EventShipper
from psr_engine.tracing.spans import SpanBuilder, planned_attributes
from psr_engine.tracing.wire import event_record

if TYPE_CHECKING:
    from psr_engine.plan.model import Plan
    from psr_engine.tracing.setup import TracingManager

# The events that make or end spans, which the sink forwards: all but the lines tasks print.
TRACED_EVENTS = frozenset(get_args(EventType)) - {"task.log"}


class OtelSink:
    """Events as OpenTelemetry spans. Give it the Plan (kind, resources and retry limits of
    tasks go on their spans) or at least the tracing config; manifest sink options
    (`endpoint`, `protocol`, `headers`) override spec.tracing's. `shipper`: an exporter
    process started early (see EventShipper) for this sink to use."""

    name = "otel"

    def __init__(
        self,
        plan: Plan | None = None,
        *,
        config: TracingConfig | None = None,
        manager: TracingManager | None = None,
        environ: Mapping[str, str] | None = None,
        shipper: EventShipper | None = None,
        **options: Any,
    ) -> None:
        self._plan = plan
        self._config = config
        self._manager = manager
        self._environ = environ
        self._options = {k: v for k, v in options.items() if v is not None}
        self._early = shipper  # an exporter process started before the config was known
        self._shipper: EventShipper | None = None
        self._builder: SpanBuilder | None = None  # with a manager: spans made here
        # Forwarding (no manager): the ids the engine's processes and webhooks carry.
        self._recorder: SpanRecorder | None = None
        # The run span's ids and its parent's: drawn by run_trace_id (the engine, before
        # run.started) or else at run.started.
        self._run: tuple[SpanIds, Any] | None = None
        # task -> attempt -> its span's ids, drawn by whichever comes first: the scheduler
        # asking for the attempt's environment before it spawns it, or task.started (which
        # the history may hold back until it is committed, after the spawn).
        self._attempts: dict[str, dict[int, int]] = {}  # ... -> its span id
        # TRACEPARENT around an attempt's span id, and TRACESTATE: the run's, made once.
        self._env_parts: tuple[str, str, str] | None = None
        self._planned_tasks: dict[str, Any] | None = None

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
        planned = planned_attributes(self._plan) if self._plan is not None else {}
        if self._early is not None:
            self._shipper, self._early = self._early, None
            self._shipper.configure(self._config, planned)
        else:
            self._shipper = EventShipper(self._config, planned, environ=self._environ)

    async def start(self) -> None:
        """Ready at once: events the exporter process gets before it is ready wait in its
        pipe. A sink given a manager builds spans into that manager instead."""
        if self._manager is not None:
            self._recorder = self._manager.recorder()
            self._builder = SpanBuilder(self._recorder, self._planned)
            return
        self.prepare()
        assert self._shipper is not None and self._config is not None
        self._recorder = SpanRecorder(self._config, _never)

    def emit(self, event: Event) -> None:
        kind = event.type
        if kind not in TRACED_EVENTS:
            return
        if self._builder is not None:
            if kind == "run.started":
                self._builder.handle(event, self._run)
            else:
                self._builder.handle(event)
            return
        shipper, recorder = self._shipper, self._recorder
        if shipper is None or recorder is None:
            return
        ids: Any = None
        if kind == "task.started" and event.task is not None:
            ids = self._attempt_span_id(event.task, event.attempt or 1, recorder)
        elif kind == "run.started":
            self._run = ids = self._run or recorder.root_ids()
        elif kind in ("task.finished", "task.skipped") and event.task is not None:
            self._attempts.pop(event.task, None)
        if self._run is not None and not self._run[0].trace_flags & 0x01:
            return
        shipper.send(event_record(event, ids))
        if kind == "run.finished":
            # The run's last event: the exporter process ends its spans and sends the last
            # batch while the engine closes its other sinks, not after.
            shipper.finish()

    async def aclose(self) -> None:
        import anyio

        if self._builder is not None:
            self._builder.end_open(None)
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

    def run_trace_id(self) -> str | None:
        """The run's trace id, drawn now (the run span takes these ids at run.started); None
        for a run that is not sampled, whose spans are never sent."""
        if self._recorder is None:
            return None
        if self._run is None:
            self._run = self._recorder.root_ids()
        own = self._run[0]
        return f"{own.trace_id:032x}" if own.trace_flags & 0x01 else None

    def attempt_env(self, *, task_id: str, attempt: int) -> Mapping[str, str]:
        """TRACEPARENT/TRACESTATE of the attempt span opened by task.started: the scheduler
        adds them to the attempt's environment before spawning it."""
        if self._builder is not None:
            span = self._builder.attempt_span(task_id)
            return {} if span is None else propagation.process_env(span)
        if self._recorder is None:
            return {}
        span_id = self._attempt_span_id(task_id, attempt, self._recorder)
        parts = self._env_parts
        if span_id is None or parts is None:
            return {}
        # propagation.process_env of the attempt's ids, the run's part of it made once.
        head, flags, state = parts
        return {"TRACEPARENT": f"{head}{span_id:016x}{flags}", "TRACESTATE": state}

    def trace_headers(self) -> dict[str, str]:
        """W3C headers of the run span (empty before run.started): for outgoing HTTP calls
        made on the run's behalf, e.g. the webhook sink's POSTs."""
        if self._builder is not None:
            run = self._builder.run_span
            return propagation.carrier(run) if run is not None else {}
        return {} if self._run is None else propagation.carrier(self._run[0])

    # -- helpers ------------------------------------------------------------------------

    def _attempt_span_id(self, task_id: str, attempt: int, recorder: SpanRecorder) -> int | None:
        """The attempt span's id in the run's trace, as far as its process needs it (the
        exporter process makes the span), drawn once per attempt. None before run.started
        (the exporter process then draws the ids; nothing propagates). Unsampled ids still
        propagate, with the flag that says so."""
        run = self._run
        if run is None:
            return None
        drawn = self._attempts.get(task_id)
        if drawn is None:
            drawn = self._attempts[task_id] = {}
        span_id = drawn.get(attempt)
        if span_id is None:
            span_id = drawn[attempt] = recorder.new_span_id()
        if self._env_parts is None:
            own = run[0]
            state = own.trace_state.to_header() if own.trace_state else ""
            self._env_parts = (f"00-{own.trace_id:032x}-", f"-{own.trace_flags:02x}", state)
        return span_id

    def _planned(self, task_id: str) -> Mapping[str, Any]:
        if self._plan is None:
            return {}
        if self._planned_tasks is None:
            self._planned_tasks = planned_attributes(self._plan)
        return self._planned_tasks.get(task_id, {})


def _never(span: OpenSpan) -> None:
    raise AssertionError("the forwarding sink ends no span itself")


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
