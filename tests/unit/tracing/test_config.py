"""Tracing configuration: what turns it on, and how spec.tracing, sink options and OTEL_*
variables combine."""

from __future__ import annotations

import pytest

from psr_engine.settings import TracingSettings
from psr_engine.tracing.config import TracingConfigError, resolve_config, tracing_requested

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


@pytest.mark.parametrize(
    ("tracing", "environ", "force", "listed", "expected"),
    [
        (None, {}, False, False, False),
        (None, ENDPOINT, False, False, True),
        (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/v1/traces"}, False, False, True),
        (TracingSettings(enabled=True), {}, False, False, True),
        (TracingSettings(enabled=False), ENDPOINT, False, False, False),
        (TracingSettings(enabled=False), {}, True, False, True),
        (None, {}, True, False, True),
        (None, {}, False, True, True),
        (TracingSettings(enabled=True), {"OTEL_SDK_DISABLED": "true"}, True, True, False),
        (None, {**ENDPOINT, "OTEL_SDK_DISABLED": "TRUE"}, False, False, False),
        (None, {**ENDPOINT, "OTEL_SDK_DISABLED": "false"}, False, False, True),
    ],
)
def test_what_turns_tracing_on(tracing, environ, force, listed, expected):
    assert tracing_requested(tracing, environ=environ, force=force, sink_listed=listed) is expected


def test_defaults_without_any_setting():
    config = resolve_config(None, workflow="etl", environ={})
    assert config.service_name == "etl"
    assert config.sampler == "parentbased_always_on"
    assert config.protocol == "http/protobuf"
    assert config.endpoint == "http://localhost:4318/v1/traces"
    assert config.exporter == "otlp"
    assert config.parent == {}


def test_the_standard_variables_apply_when_the_manifest_is_silent():
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        "OTEL_SERVICE_NAME": "ci",
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=data%20eng",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20t0k",
        "TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "TRACESTATE": "vendor=1",
    }
    config = resolve_config(None, workflow="etl", environ=environ)
    assert config.endpoint == "http://collector:4318/v1/traces"
    assert config.service_name == "ci"
    assert (config.sampler, config.ratio) == ("traceidratio", 0.25)
    assert config.resource_attributes == {"deployment.environment": "prod", "team": "data eng"}
    assert config.headers == {"authorization": "Bearer t0k"}
    assert config.parent == {
        "traceparent": environ["TRACEPARENT"],
        "tracestate": "vendor=1",
    }


def test_the_manifest_wins_over_the_variables_and_sink_options_over_the_manifest():
    plan_tracing = TracingSettings.from_options(
        {
            "serviceName": "from-manifest",
            "sampler": "always_off",
            "endpoint": "http://manifest:4318",
            "headers": {"x-team": "a"},
            "resourceAttributes": {"team": "m"},
        }
    )
    environ = {
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
        "OTEL_RESOURCE_ATTRIBUTES": "team=e,region=eu",
    }
    config = resolve_config(
        plan_tracing,
        workflow="etl",
        environ=environ,
        overrides={"endpoint": "http://sink:4318/v1/traces", "headers": {"x-sink": "b"}},
    )
    assert config.service_name == "from-manifest"
    assert config.sampler == "always_off"
    assert config.endpoint == "http://sink:4318/v1/traces"
    assert config.headers == {"x-team": "a", "x-sink": "b"}
    assert config.resource_attributes == {"team": "m", "region": "eu"}


def test_a_traces_specific_endpoint_is_used_as_given():
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
    }
    assert resolve_config(None, environ=environ).endpoint == "http://traces:9999/custom"


def test_grpc_keeps_the_endpoint_as_it_is():
    config = resolve_config(None, environ={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", **ENDPOINT})
    assert (config.protocol, config.endpoint) == ("grpc", "http://collector:4318")
    grpc = TracingSettings(protocol="grpc")
    assert resolve_config(grpc, environ={}).endpoint == "http://localhost:4317"


def test_the_console_exporter_is_chosen_by_OTEL_TRACES_EXPORTER():
    assert resolve_config(None, environ={"OTEL_TRACES_EXPORTER": "console"}).exporter == "console"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, ["unknown sampler 'sometimes'", "always_on"]),
        ({"OTEL_TRACES_SAMPLER_ARG": "half"}, ["OTEL_TRACES_SAMPLER_ARG='half'", "0..1"]),
        ({"OTEL_TRACES_SAMPLER_ARG": "1.5"}, ["1.5 is not in 0..1"]),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, ["'http/json'", "grpc"]),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, ["'zipkin'", "otlp, console, none"]),
    ],
)
def test_bad_settings_are_errors_that_say_how_to_fix_them(environ, words):
    with pytest.raises(TracingConfigError) as caught:
        resolve_config(None, environ=environ)
    assert caught.value.exit_code == 2
    for word in words:
        assert word in str(caught.value)


def test_build_sink_refuses_a_bad_setting_before_the_run():
    from psr_engine.plan.model import Plan
    from psr_engine.tracing import build_sink

    plan = Plan(workflow="w", manifest_path="/x/w.yaml", manifest_digest="", params={}, tasks=())
    assert build_sink(plan, environ={}) is None
    assert build_sink(plan, environ=ENDPOINT) is not None
    with pytest.raises(TracingConfigError):
        build_sink(plan, force=True, environ={"OTEL_TRACES_SAMPLER": "sometimes"})
