"""OpenTelemetry tracing of runs: configuration (spec.tracing, `--trace`, OTEL_*), the
TracingManager, CI/CD semantic-convention attributes, W3C context propagation and the otel sink.

Nothing here imports opentelemetry at import time: only building a TracingManager does, so a
run without tracing never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from psr_engine.tracing.config import TracingConfig, resolve_config, tracing_requested
from psr_engine.tracing.setup import TracingManager
from psr_engine.tracing.sink import OtelSink

if TYPE_CHECKING:
    from psr_engine.plan.model import Plan

__all__ = [
    "OtelSink",
    "TracingConfig",
    "TracingManager",
    "build_sink",
    "resolve_config",
    "tracing_requested",
]


def build_sink(
    plan: Plan, *, force: bool = False, environ: Mapping[str, str] | None = None
) -> OtelSink | None:
    """The otel sink for a run of `plan`, or None when tracing is off (see
    tracing_requested). Options of an `{type: otel}` entry in spec.sinks apply to it: the
    facade builds this one instead of creating that entry through the registry. Raises
    TracingConfigError (exit 2) for a setting that cannot be used."""
    entries = [s for s in plan.sinks if s.get("type") == "otel"]
    if not tracing_requested(plan.tracing, environ=environ, force=force, sink_listed=bool(entries)):
        return None
    options: dict[str, Any] = {k: v for k, v in (entries[0] if entries else {}).items()}
    options.pop("type", None)
    # Resolved now, not when the run starts: a bad setting is the user's error (exit 2)
    # before anything runs, not a sink turned off with a warning.
    config = resolve_config(
        plan.tracing, workflow=plan.workflow, environ=environ, overrides=options
    )
    return OtelSink(plan, config=config)
