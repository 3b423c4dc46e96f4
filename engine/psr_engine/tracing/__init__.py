"""OpenTelemetry tracing of runs: configuration (spec.tracing, `--trace`, OTEL_*), the
TracingManager, CI/CD semantic-convention attributes, W3C context propagation and the otel sink.

Nothing here imports opentelemetry at import time: only building a TracingManager does, so a
run without tracing never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from psr_engine._lazy import attribute_loader

if TYPE_CHECKING:
    from psr_engine.plan.model import Plan
    from psr_engine.tracing.config import TracingConfig, resolve_config
    from psr_engine.tracing.requested import tracing_requested
    from psr_engine.tracing.setup import TracingManager
    from psr_engine.tracing.sink import OtelSink

# Loaded on first use (PEP 562): a run without tracing imports config.py only, and the
# exporter process (exporter_process.py, run with -m) none of the sink's modules.
_LAZY = {
    "OtelSink": "psr_engine.tracing.sink",
    "TracingConfig": "psr_engine.tracing.config",
    "TracingManager": "psr_engine.tracing.setup",
    "resolve_config": "psr_engine.tracing.config",
    "tracing_requested": "psr_engine.tracing.requested",
}

__all__ = [
    "OtelSink",
    "TracingConfig",
    "TracingManager",
    "build_sink",
    "resolve_config",
    "start_early",
    "tracing_requested",
]


def start_early(*, force: bool = False, environ: Mapping[str, str] | None = None) -> Any:
    """An exporter process (a EventShipper) started before the plan is compiled, when the
    environment or `--trace` already asks for tracing; None otherwise. It loads its
    libraries meanwhile, on a core the compiling engine leaves idle. Hand it to
    build_sink, which uses or discards it."""
    from psr_engine.tracing.requested import tracing_requested

    if not tracing_requested(None, environ=environ, force=force):
        return None
    if not sdk_installed():
        return None  # build_sink says what is missing
    # Loaded before the fork, which then has them: modules the exporter process needs and a
    # traced apply loads later all the same (asyncio's socket, concurrent.futures' queue,
    # the sink's span builder). The engine pays nothing more; the process ~6 ms less.
    import queue  # noqa: F401
    import socket  # noqa: F401
    import zlib  # noqa: F401

    import psr_engine.tracing.spans  # noqa: F401
    from psr_engine.tracing.shipping import EventShipper

    # First thing in `apply`: the engine has no other thread yet, so the process may be a
    # fork of it, which has loaded what a fresh interpreter would load again (~40 ms of CPU).
    return EventShipper(environ=environ, fork=True)


OTEL_INSTALL_HINT = "pip install 'psr-engine[otel]'"


def sdk_installed() -> bool:
    """Whether the opentelemetry SDK (the otel extra) can be imported: a lookup, no import.
    Without the `opentelemetry` package at all, find_spec of a submodule raises rather than
    answering None."""
    import importlib.util

    try:
        return importlib.util.find_spec("opentelemetry.sdk") is not None
    except ImportError:
        return False


def build_sink(
    plan: Plan,
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
    early: Any = None,
) -> OtelSink | None:
    """The otel sink for a run of `plan`, or None when tracing is off (see
    tracing_requested). Options of an `{type: otel}` entry in spec.sinks apply to it: the
    facade builds this one instead of creating that entry through the registry. Raises
    TracingConfigError (exit 2) for a setting that cannot be used. `early`: start_early's
    exporter process, used by the sink or discarded."""
    from psr_engine.tracing.requested import tracing_requested

    try:
        entries = [s for s in plan.sinks if s.type == "otel"]
        listed = bool(entries)
        if not tracing_requested(plan.tracing, environ=environ, force=force, sink_listed=listed):
            return None
        if not sdk_installed():
            _without_sdk(plan, force=force, listed=listed)
            return None
        from psr_engine.tracing.config import resolve_config
        from psr_engine.tracing.sink import OtelSink

        options = entries[0].options if entries else {}
        # Resolved now, not when the run starts: a bad setting is the user's error (exit 2)
        # before anything runs, not a sink turned off with a warning.
        config = resolve_config(
            plan.tracing, workflow=plan.workflow, environ=environ, overrides=options
        )
        sink = OtelSink(plan, config=config, shipper=early, environ=environ)
        sink.prepare()
        early = None
        return sink
    finally:
        if early is not None:
            early.discard()


def _without_sdk(plan: Plan, *, force: bool, listed: bool) -> None:
    """Tracing asked for without the otel extra. Asked by the run itself (`--trace`,
    spec.tracing, an otel sink): exit 2 before anything runs. Asked only by an OTEL_* variable
    of the environment (set for other tools too, often): one warning and an untraced run."""
    from psr_engine.errors import TracingConfigError

    if force or plan.tracing is not None or listed:
        asked = (
            "--trace"
            if force
            else "spec.tracing"
            if plan.tracing is not None
            else "the otel sink in spec.sinks"
        )
        raise TracingConfigError(
            f"{asked} asks for tracing, but the otel extra (opentelemetry) is not installed: "
            f"{OTEL_INSTALL_HINT}"
        )
    import sys

    sys.stderr.write(
        "warning: OTEL_EXPORTER_OTLP_ENDPOINT is set but the otel extra is not installed: "
        f"this run is not traced ({OTEL_INSTALL_HINT})\n"
    )


__getattr__ = attribute_loader(__name__, _LAZY, globals())
