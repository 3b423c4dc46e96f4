"""Tracing configuration: `spec.tracing`, an otel sink's options, `--trace` and the standard
OTEL_* variables, merged into one TracingConfig. Pure: reads mappings, imports nothing heavy.

Precedence, field by field: what the manifest (or the sink entry) states, then the OTEL_*
variables, then the defaults. `OTEL_SDK_DISABLED=true` turns tracing off whatever else says.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import TracingConfigError as TracingConfigError
from psr_engine.tracing.requested import is_disabled as is_disabled
from psr_engine.tracing.requested import tracing_requested as tracing_requested

if TYPE_CHECKING:
    from psr_engine.settings import TracingSettings

SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
PROTOCOLS = ("http/protobuf", "grpc")
EXPORTERS = ("otlp", "console", "none")
DEFAULT_SAMPLER = "parentbased_always_on"
_DEFAULT_ENDPOINTS = {"http/protobuf": "http://localhost:4318", "grpc": "http://localhost:4317"}


@dataclass(frozen=True, slots=True)
class TracingConfig:
    """Everything TracingManager needs. `endpoint` is the full URL (or host:port for gRPC)
    spans are sent to; `parent` the W3C carrier (traceparent/tracestate) the run joins."""

    service_name: str = "psr-engine"
    sampler: str = DEFAULT_SAMPLER
    ratio: float = 1.0
    exporter: Literal["otlp", "console", "none"] = "otlp"
    protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"
    endpoint: str = "http://localhost:4318/v1/traces"
    headers: Mapping[str, str] = field(default_factory=dict)
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    parent: Mapping[str, str] = field(default_factory=dict)
    close_timeout_s: float = 10.0  # how long closing waits for the last spans to go out


def resolve_config(
    tracing: TracingSettings | None = None,
    *,
    workflow: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> TracingConfig:
    """Merge a Plan's tracing settings, an otel sink's options (`overrides`, by their
    manifest names) and the OTEL_* variables of `environ`."""
    # Imported here: the exporter process reads a TracingConfig and resolves none.
    from psr_engine.settings import TracingSettings

    env = os.environ if environ is None else environ
    given = (tracing or TracingSettings()).overlay(overrides or {})
    protocol = str(
        given.protocol
        or env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol not in PROTOCOLS:
        raise TracingConfigError(
            f"tracing: unknown OTLP protocol {protocol!r}; use one of {', '.join(PROTOCOLS)} "
            "(spec.tracing.protocol or OTEL_EXPORTER_OTLP_PROTOCOL)"
        )
    exporter = str(given.exporter or env.get("OTEL_TRACES_EXPORTER") or "otlp")
    exporter = exporter.split(",")[0].strip().lower()
    if exporter not in EXPORTERS:
        raise TracingConfigError(
            f"tracing: unknown exporter {exporter!r} in OTEL_TRACES_EXPORTER; "
            f"use one of {', '.join(EXPORTERS)}"
        )
    sampler, ratio = _sampler(given, env)
    attributes = _parse_pairs(env.get("OTEL_RESOURCE_ATTRIBUTES", ""))
    attributes.update(given.resource_attributes)
    service = (
        given.service_name
        or env.get("OTEL_SERVICE_NAME")
        or attributes.get("service.name")
        or workflow
        or "psr-engine"
    )
    headers = _parse_pairs(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers.update(_parse_pairs(env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "")))
    headers.update(given.headers)
    parent = {}
    if env.get("TRACEPARENT"):
        parent["traceparent"] = env["TRACEPARENT"]
        if env.get("TRACESTATE"):
            parent["tracestate"] = env["TRACESTATE"]
    return TracingConfig(
        service_name=str(service),
        sampler=sampler,
        ratio=ratio,
        exporter=exporter,  # type: ignore[arg-type]
        protocol=protocol,  # type: ignore[arg-type]
        endpoint=_endpoint(given.endpoint, env, protocol),
        headers=headers,
        resource_attributes=attributes,
        parent=parent,
    )


def _sampler(given: TracingSettings, env: Mapping[str, str]) -> tuple[str, float]:
    name = str(given.sampler or env.get("OTEL_TRACES_SAMPLER") or DEFAULT_SAMPLER)
    name = name.strip().lower()
    if name not in SAMPLERS:
        raise TracingConfigError(
            f"tracing: unknown sampler {name!r}; use one of {', '.join(SAMPLERS)} "
            "(spec.tracing.sampler or OTEL_TRACES_SAMPLER)"
        )
    raw: Any = given.ratio
    if raw is None:
        raw = env.get("OTEL_TRACES_SAMPLER_ARG") or 1.0
    try:
        ratio = float(raw)
    except ValueError:
        raise TracingConfigError(
            f"tracing: OTEL_TRACES_SAMPLER_ARG={raw!r} is not a number; give a ratio in 0..1"
        ) from None
    if not 0.0 <= ratio <= 1.0:
        raise TracingConfigError(f"tracing: the sampling ratio {ratio} is not in 0..1")
    return name, ratio


def _endpoint(given: Any, env: Mapping[str, str], protocol: str) -> str:
    """The traces URL. A base endpoint (the manifest's, OTEL_EXPORTER_OTLP_ENDPOINT) gets
    `/v1/traces` appended over HTTP, as the OTLP exporter spec says; a signal-specific one
    (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is used as it is."""
    if given is None and env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = str(given or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or _DEFAULT_ENDPOINTS[protocol])
    if protocol == "grpc" or base.rstrip("/").endswith("/v1/traces"):
        return base
    return base.rstrip("/") + "/v1/traces"


def _parse_pairs(text: str) -> dict[str, str]:
    """`k1=v1,k2=v2` with percent-encoded values (OTEL_RESOURCE_ATTRIBUTES, *_HEADERS)."""
    pairs: dict[str, str] = {}
    if not text:
        return pairs
    import urllib.parse

    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            pairs[urllib.parse.unquote(key.strip())] = urllib.parse.unquote(value.strip())
    return pairs
