"""Masking: every secret value, and the common ways it gets re-encoded, becomes ``***``.

A task may print a secret as is, base64-encode it (alone, or inside a longer base64 stream
such as an encoded JSON config or a basic-auth header), URL-encode it or JSON-escape it.
Each of those forms is precomputed once, and all of them go into one compiled regex
alternation, longest first, so a line costs one scan whatever the number of secrets.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from psr_engine.errors import SecretError

REPLACEMENT = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words ("on", "yes", "123")


class Masker:
    """Replaces secret values in text, bytes and nested event data with ``***``.

    Callable on bytes so it can be an executor's ``output_filter`` (called once per line).
    """

    def __init__(self, values: Iterable[str] | Mapping[str, str]) -> None:
        """``values``: the secret values, or a mapping of secret name -> value."""
        # A mapping is name -> value (what resolve_all returns): mask its values, not its keys.
        named = values.items() if isinstance(values, Mapping) else (("given", v) for v in values)
        forms: set[str] = set()
        for name, value in named:
            self.check_value(name, value)
            forms.update(encoded_forms(value))
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._count = len(ordered)
        self._text: re.Pattern[str] | None = None
        self._bytes: re.Pattern[bytes] | None = None
        if ordered:
            self._text = re.compile("|".join(re.escape(form) for form in ordered))
            encoded = sorted({form.encode() for form in ordered}, key=lambda b: (-len(b), b))
            self._bytes = re.compile(b"|".join(re.escape(form) for form in encoded))

    @staticmethod
    def check_value(name: str, value: str) -> None:
        """Refuse a value too short to mask safely (the resolver calls this for each secret)."""
        if len(value) < MIN_LENGTH:
            raise SecretError(
                f"secret {name} is shorter than {MIN_LENGTH} characters; "
                "masking it would hide ordinary text\n"
                "  hint: use a longer secret value (a real credential is never this short)"
            )

    def __bool__(self) -> bool:
        return self._text is not None

    def __len__(self) -> int:
        """How many distinct forms (value, lines, encodings) are masked."""
        return self._count

    def __call__(self, data: bytes) -> bytes:
        return self.mask_bytes(data)

    def mask_text(self, text: str) -> str:
        if self._text is None:
            return text
        return self._text.sub(REPLACEMENT, text)

    def mask_bytes(self, data: bytes) -> bytes:
        if self._bytes is None:
            return data
        return self._bytes.sub(REPLACEMENT.encode(), data)

    def mask_obj(self, obj: Any) -> Any:
        """``obj`` with every string inside it masked: dicts (keys and values), lists, tuples,
        sets and dataclass instances (such as events) are rebuilt; anything else is kept."""
        if self._text is None:
            return obj
        if isinstance(obj, str):
            return self.mask_text(obj)
        if isinstance(obj, bytes | bytearray):
            return self.mask_bytes(bytes(obj))
        if isinstance(obj, Mapping):
            return {self.mask_obj(k): self.mask_obj(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.mask_obj(item) for item in obj]
        if isinstance(obj, tuple):
            items = [self.mask_obj(item) for item in obj]
            return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
        if isinstance(obj, set | frozenset):
            return type(obj)(self.mask_obj(item) for item in obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self._mask_dataclass(obj)
        return obj

    def _mask_dataclass(self, obj: Any) -> Any:
        changes = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            value = getattr(obj, f.name)
            masked = self.mask_obj(value)
            if masked is not value and masked != value:
                changes[f.name] = masked
        return dataclasses.replace(obj, **changes) if changes else obj


def encoded_forms(value: str) -> set[str]:
    """Every form of ``value`` worth masking, each at least MIN_LENGTH long."""
    forms = {value}
    # A multi-line secret (a PEM key) reaches the filter one line at a time.
    for line in value.splitlines():
        if len(line.strip()) >= MIN_LENGTH:
            forms.add(line.strip())
    raw = value.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms.update((whole, whole.rstrip("=")))
        forms.update(_base64_fragments(raw, encode))
    forms.update((quote(value), quote(value, safe=""), quote_plus(value)))
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return {form for form in forms if len(form) >= MIN_LENGTH}


def _base64_fragments(raw: bytes, encode: Any) -> set[str]:
    """The characters that encode ``raw`` whatever its offset inside a longer base64 stream.

    Base64 turns 3 bytes into 4 characters, so the value starts at one of three alignments.
    For each, encode it behind 0, 1 or 2 filler bytes and keep only the characters made of
    the value's bits alone: the first and last may mix with the neighbouring bytes.
    """
    fragments = set()
    for shift in (0, 1, 2):
        encoded = encode(b"\0" * shift + raw).decode()
        first = -(-8 * shift // 6)  # the first character not touching the filler
        last = 8 * (shift + len(raw)) // 6  # past the last character made only of the value
        fragments.add(encoded[first:last])
    return fragments


__all__ = ["MIN_LENGTH", "REPLACEMENT", "Masker", "encoded_forms"]
