"""Whether a run is to be traced: a question every `apply` asks, answered without importing
config.py (its TracingConfig record and urllib cost start-up, and only a traced run needs them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psr_engine.settings import TracingSettings

TRUE = frozenset({"true", "1", "yes", "on"})


def is_disabled(environ: Mapping[str, str]) -> bool:
    """OTEL_SDK_DISABLED=true: the standard off switch."""
    return environ.get("OTEL_SDK_DISABLED", "").strip().lower() in TRUE


def tracing_requested(
    tracing: TracingSettings | None,
    *,
    environ: Mapping[str, str] | None = None,
    force: bool = False,
    sink_listed: bool = False,
) -> bool:
    """Whether a run should be traced: `--trace` (force); else spec.tracing's `enabled`
    (true once the block is given); else an otel sink in spec.sinks or an OTLP endpoint in
    the environment. Never when OTEL_SDK_DISABLED is true."""
    env = os.environ if environ is None else environ
    if is_disabled(env):
        return False
    if force:
        return True
    if tracing is not None:
        return tracing.enabled
    if sink_listed:
        return True
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
