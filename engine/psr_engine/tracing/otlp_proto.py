"""OTLP's ExportTraceServiceRequest written as protobuf bytes directly, span by span.

Why by hand: opentelemetry-proto's messages (on the protobuf runtime) cost the exporter process
~35 ms of CPU to import, more than encoding a thousand spans, and filling them calls into the
runtime once per field. The message is small and fixed (opentelemetry/proto/trace/v1,
common/v1, resource/v1): written here field by field, in field-number order and with proto3's
rules for what is left out (a zero, an empty string; members of a oneof always written),
it is the byte string the runtime's SerializeToString gives for the same message; a test
holds the two to that, byte for byte.

Each span is encoded once, when it ends (`Encoder.span`); a batch is those bytes joined
under the resource and scope, which are encoded once per run (`Encoder.request`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psr_engine._version import __version__
from psr_engine.tracing.recorder import INSTRUMENTATION, OpenSpan

_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
# SpanFlags: the SDK's encoder sets "has is_remote", and "is remote" for a remote parent.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_STATUS_ERROR = 2
_INT64 = 1 << 63
_UINT64 = (1 << 64) - 1

_double = struct.Struct("<d").pack
_fixed64 = struct.Struct("<Q").pack
_fixed32 = struct.Struct("<I").pack
_BYTE = [bytes((i,)) for i in range(128)]

# Tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
# Span (trace/v1)
_TRACE_ID = b"\x0a\x10"  # 1, 16 bytes
_SPAN_ID = b"\x12\x08"  # 2, 8 bytes
_TRACE_STATE = b"\x1a"  # 3
_PARENT_SPAN_ID = b"\x22\x08"  # 4, 8 bytes
_NAME = b"\x2a"  # 5
_KIND = b"\x30"  # 6
_START = b"\x39"  # 7
_END = b"\x41"  # 8
_ATTRIBUTE = b"\x4a"  # 9
_EVENT = b"\x5a"  # 11
_STATUS = b"\x7a"  # 15
_FLAGS = b"\x85\x01"  # 16
_UNSET = b"\x7a\x00"  # a status present and empty: UNSET, as the SDK writes it
# Span.Event: time_unix_nano 1, name 2, attributes 3; Status: message 2, code 3.
_EVENT_TIME, _EVENT_NAME, _EVENT_ATTRIBUTE = b"\x09", b"\x12", b"\x1a"
_STATUS_MESSAGE, _STATUS_CODE = b"\x12", b"\x18"
# KeyValue: key 1, value 2; AnyValue: string 1, bool 2, int 3, double 4, array 5, bytes 7;
# ArrayValue: values 1.
_KEY, _VALUE, _ARRAY_VALUE = b"\x0a", b"\x12", b"\x0a"
_STRING, _BOOL, _INT, _DOUBLE, _ARRAY, _BYTES = b"\x0a", b"\x10", b"\x18", b"\x21", b"\x2a", b"\x3a"
_TRUE, _FALSE = b"\x10\x01", b"\x10\x00"
# ExportTraceServiceRequest.resource_spans 1; ResourceSpans: resource 1, scope_spans 2;
# Resource.attributes 1; ScopeSpans: scope 1, spans 2; InstrumentationScope: name 1, version 2.
_RESOURCE_SPANS, _RESOURCE, _SCOPE_SPANS = b"\x0a", b"\x0a", b"\x12"
_RESOURCE_ATTRIBUTE, _SCOPE, _SPAN = b"\x0a", b"\x0a", b"\x12"
_SCOPE_NAME, _SCOPE_VERSION = b"\x0a", b"\x12"


def varint(value: int) -> bytes:
    """An unsigned varint (a length, a tag, a non-negative int64)."""
    if value < 0x80:
        return _BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag + varint(len(payload)) + payload


def _text(tag: bytes, value: str) -> bytes:
    """A string field, left out when empty (proto3)."""
    return _field(tag, value.encode()) if value else b""


def any_value(value: Any) -> bytes:
    """An AnyValue's body, as opentelemetry's encoder picks the member: bool before int (True
    is an int too); a sequence as an array; anything else as its str."""
    kind = value.__class__
    if kind is str:
        return _field(_STRING, value.encode())
    if kind is int:
        return _INT + _int64(value)
    if kind is float:
        return _DOUBLE + _double(value)
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, str):
        return _field(_STRING, value.encode())
    if isinstance(value, int):
        return _INT + _int64(value)
    if isinstance(value, float):
        return _DOUBLE + _double(value)
    if isinstance(value, bytes):
        return _field(_BYTES, value)
    if isinstance(value, Sequence):
        return _field(_ARRAY, b"".join(_field(_ARRAY_VALUE, any_value(v)) for v in value))
    return _field(_STRING, str(value).encode())


def _int64(value: int) -> bytes:
    if not -_INT64 <= value < _INT64:
        raise ValueError(f"Value out of range: {value}")
    return varint(value & _UINT64)  # a negative one as its two's complement (10 bytes)


class Encoder:
    """Spans into an ExportTraceServiceRequest of one resource and one scope (psr_engine).
    Attributes repeat from span to span: each key's bytes are made once, and a whole
    attribute's for values that recur (ints, bools, short strings: results, kinds, counts)."""

    def __init__(self, resource: Mapping[str, Any]) -> None:
        self._keys: dict[str, bytes] = {}
        # By the field they are in (a span's or an event's attributes): key, type, value.
        self._known: dict[bytes, dict[tuple[str, type, Any], bytes]] = {
            _ATTRIBUTE: {},
            _EVENT_ATTRIBUTE: {},
        }
        attributes = b"".join(
            _field(_RESOURCE_ATTRIBUTE, self._pair(k, v)) for k, v in resource.items()
        )
        scope = _text(_SCOPE_NAME, INSTRUMENTATION) + _text(_SCOPE_VERSION, __version__)
        self._resource = _field(_RESOURCE, attributes)
        self._scope = _field(_SCOPE, scope)
        self._ids: dict[int, bytes] = {}  # a run's trace id, encoded once

    def encode(self, spans: Iterable[OpenSpan]) -> bytes:
        """One request of these ended spans."""
        return self.request([self.span(s) for s in spans])

    def request(self, spans: Sequence[bytes]) -> bytes:
        """One request of spans encoded by `span`."""
        scope_spans = self._scope + b"".join([_SPAN + varint(len(s)) + s for s in spans])
        body = self._resource + _field(_SCOPE_SPANS, scope_spans)
        return _field(_RESOURCE_SPANS, body)

    def span(self, span: OpenSpan) -> bytes:
        """An ended span's Span message (its body, without tag and length)."""
        ids = span.context
        trace_id = self._ids.get(ids.trace_id)
        if trace_id is None:
            trace_id = self._ids[ids.trace_id] = _TRACE_ID + ids.trace_id.to_bytes(16, "big")
        parts = [trace_id, _SPAN_ID, ids.span_id.to_bytes(8, "big")]
        state = ids.trace_state
        if state:
            parts.append(_text(_TRACE_STATE, str(state.to_header())))
        parent = span.parent
        if parent is not None:
            parts.append(_PARENT_SPAN_ID)
            parts.append(parent.span_id.to_bytes(8, "big"))
        if span.name:
            parts.append(_field(_NAME, span.name.encode()))
        parts.append(_KIND + _BYTE[_KINDS[span.kind]])
        if span.start_time:
            parts.append(_START + _fixed64(span.start_time))
        if span.end_time:
            parts.append(_END + _fixed64(span.end_time))
        parts += self._attributes_of(_ATTRIBUTE, span.attributes)
        for name, attributes, when in span.events:
            event = [_EVENT_TIME + _fixed64(when)] if when else []
            if name:
                event.append(_field(_EVENT_NAME, name.encode()))
            event += self._attributes_of(_EVENT_ATTRIBUTE, attributes)
            parts.append(_field(_EVENT, b"".join(event)))
        if span.error is None:
            parts.append(_UNSET)
        else:
            status = _text(_STATUS_MESSAGE, span.error) + _STATUS_CODE + _BYTE[_STATUS_ERROR]
            parts.append(_field(_STATUS, status))
        remote = parent is not None and bool(parent.is_remote)
        parts.append(_FLAGS + _fixed32(_HAS_IS_REMOTE | _IS_REMOTE if remote else _HAS_IS_REMOTE))
        return b"".join(parts)

    def _attributes_of(self, tag: bytes, attributes: Mapping[str, Any]) -> list[bytes]:
        """Each attribute as a field `tag` of KeyValue. The common cases inline: this runs
        ten times a span."""
        known = self._known[tag]
        keys = self._keys
        out = []
        for key, value in attributes.items():
            kind = value.__class__
            recurs = kind is int or kind is bool or (kind is str and len(value) <= 16)
            if recurs:
                done = known.get((key, kind, value))
                if done is not None:
                    out.append(done)
                    continue
            head = keys.get(key)
            if head is None:
                head = keys[key] = _text(_KEY, key)
            if kind is str and len(value) < 42:  # at most 3 bytes a character: lengths < 128
                data = value.encode()
                size = len(data)
                pair = head + _VALUE + _BYTE[size + 2] + _STRING + _BYTE[size] + data
            elif kind is float:
                pair = head + b"\x12\x09" + _DOUBLE + _double(value)
            else:
                pair = head + _field(_VALUE, any_value(value))
            size = len(pair)
            done = tag + (_BYTE[size] if size < 0x80 else varint(size)) + pair
            if recurs:
                if len(known) >= _KNOWN_LIMIT:
                    known.clear()
                known[(key, kind, value)] = done
            out.append(done)
        return out

    def _pair(self, key: str, value: Any) -> bytes:
        """A KeyValue's body."""
        return _text(_KEY, key) + _field(_VALUE, any_value(value))


_KNOWN_LIMIT = 4096  # attributes kept encoded; a run of many distinct values starts over
