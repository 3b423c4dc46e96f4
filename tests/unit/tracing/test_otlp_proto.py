"""The hand-written OTLP encoder (otlp_proto.py) against opentelemetry-proto's messages filled
with the same spans: the same bytes, for every attribute type and the edge cases proto3 leaves
out (zeros, empty strings) or must keep (oneof members, an empty status)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue

from psr_engine._version import __version__
from psr_engine.tracing import TracingConfig
from psr_engine.tracing.otlp_http import resource_attributes
from psr_engine.tracing.otlp_proto import Encoder, varint
from psr_engine.tracing.recorder import OpenSpan, SpanRecorder

CI_PARENT = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "vendor=a,other=b",
}
_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def _any(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[_any(v) for v in value]))
    return AnyValue(string_value=str(value))


def _fill(repeated: Any, attributes: Mapping[str, Any]) -> None:
    for key, value in attributes.items():
        repeated.add(key=key, value=_any(value))


def reference(resource: Mapping[str, Any], spans: list[OpenSpan]) -> bytes:
    """The request as opentelemetry-proto's messages serialise it (the encoder this module
    replaced, which a test held to the SDK's own)."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    _fill(resource_spans.resource.attributes, resource)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "psr_engine"
    scope_spans.scope.version = __version__
    for span in spans:
        ids, parent = span.context, span.parent
        out = scope_spans.spans.add(
            trace_id=ids.trace_id.to_bytes(16, "big"),
            span_id=ids.span_id.to_bytes(8, "big"),
            name=span.name,
            kind=_KINDS[span.kind],
            start_time_unix_nano=span.start_time,
            end_time_unix_nano=span.end_time,
        )
        _fill(out.attributes, span.attributes)
        if parent is None:
            out.flags = 0x100
        else:
            out.parent_span_id = parent.span_id.to_bytes(8, "big")
            out.flags = 0x300 if parent.is_remote else 0x100
        if ids.trace_state:
            out.trace_state = ids.trace_state.to_header()
        for name, attributes, when in span.events:
            event = out.events.add(name=name, time_unix_nano=when)
            _fill(event.attributes, attributes)
        if span.error is None:
            out.status.SetInParent()
        else:
            out.status.code = 2
            out.status.message = span.error
    return request.SerializeToString()


def spans_of_every_shape(config: TracingConfig) -> list[OpenSpan]:
    spans: list[OpenSpan] = []
    recorder = SpanRecorder(config, spans.append)
    every_type = {
        "s": "text",
        "empty": "",
        "unicode": "h\u00e9llo \u2713",
        "long": "x" * 300,  # lengths over 127 take two varint bytes
        "zero": 0,
        "int": 7,
        "negative": -5,
        "large": 2**62,
        "float": 2.5,
        "float zero": 0.0,
        "true": True,
        "false": False,
        "array": ["a", 1, True, 2.5],
        "empty array": [],
        "bytes": b"\x00\xff",
        "other": None,
        "": "no key",
    }
    run = recorder.start("RUN etl", kind="server", attributes=dict(every_type), start_time=10)
    task = recorder.start("load", parent=run, attributes={"psr.attempt": 1}, start_time=11)
    recorder.add_event(task, "retry", {"psr.attempt": 1, "psr.retry.delay_s": 0.5}, timestamp=12)
    recorder.add_event(task, "", {}, timestamp=12)
    many = {f"psr.label.k{i}": "v" * i for i in range(40)}  # a span over 127 bytes, and more
    attempt = recorder.start("load attempt 1", parent=task, attributes=many, start_time=11)
    recorder.end(attempt, error="", end_time=12.0)  # ERROR without a message
    unnamed = recorder.start("", parent=run, attributes={}, start_time=13.0)
    recorder.end(unnamed, end_time=13.0)
    recorder.end(task, attributes={"psr.duration_s": 1.25}, error="exit code 3", end_time=13.5)
    recorder.end(run, attributes={"cicd.pipeline.result": "failure"}, error="failed", end_time=14)
    return spans


@pytest.mark.parametrize("parent", [{}, CI_PARENT], ids=["new trace", "joined with tracestate"])
def test_the_encoder_writes_the_bytes_opentelemetry_proto_writes_for_the_same_spans(parent):
    config = TracingConfig(service_name="etl-svc", parent=parent)
    spans = spans_of_every_shape(config)
    resource = resource_attributes(config)
    encoder = Encoder(resource)
    assert encoder.encode(spans) == reference(resource, spans)
    # Again, from the attributes it keeps encoded.
    assert encoder.encode(spans) == reference(resource, spans)


def test_a_batch_is_the_spans_encoded_one_by_one_under_one_resource_and_scope():
    config = TracingConfig()
    spans = spans_of_every_shape(config)
    encoder = Encoder(resource_attributes(config))
    assert encoder.request([encoder.span(s) for s in spans]) == encoder.encode(spans)
    assert len(ExportTraceServiceRequest.FromString(encoder.encode(spans[:2])).resource_spans) == 1


def test_an_int_outside_int64_is_refused_as_the_protobuf_runtime_refuses_it():
    encoder = Encoder({})
    span = spans_of_every_shape(TracingConfig())[0]
    span.attributes = {"huge": 2**63}
    with pytest.raises(ValueError, match="out of range"):
        encoder.span(span)


def test_varints_are_protobufs():
    for value in (0, 1, 127, 128, 300, 2**32, 2**64 - 1):
        assert AnyValue(int_value=value if value < 2**63 else value - 2**64).SerializeToString()[
            1:
        ] == varint(value)
