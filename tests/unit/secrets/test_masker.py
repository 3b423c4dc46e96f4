"""The masker: every value and its usual encodings become ***, fast, in text, bytes and events."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psr_engine.errors import SecretError
from psr_engine.secrets.masker import Masker

SECRET = 's3cr3t/Pa ss+wörd&"x"=1'
PEM = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----"


def test_masks_the_plain_value_anywhere_in_a_line() -> None:
    assert Masker([SECRET]).mask_text(f"pw={SECRET}; again {SECRET}") == "pw=***; again ***"


def test_text_without_secrets_is_returned_unchanged() -> None:
    masker = Masker([SECRET])
    assert masker.mask_text("nothing to see here") == "nothing to see here"
    assert Masker([]).mask_text(SECRET) == SECRET
    assert not Masker([])


@pytest.mark.parametrize(
    "encode",
    [
        base64.b64encode,
        base64.urlsafe_b64encode,
        lambda raw: base64.b64encode(raw).rstrip(b"="),
        lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"="),
    ],
    ids=["std", "urlsafe", "std-nopad", "urlsafe-nopad"],
)
def test_masks_base64_of_the_value(encode: object) -> None:
    encoded = encode(SECRET.encode()).decode()  # type: ignore[operator]
    assert Masker([SECRET]).mask_text(f"auth {encoded} end") == "auth *** end"


@pytest.mark.parametrize("prefix_len", range(6))
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_masks_the_value_inside_a_longer_base64_stream(prefix_len: int, encode: object) -> None:
    prefix, suffix = os.urandom(prefix_len), os.urandom(7)
    blob = encode(prefix + SECRET.encode() + suffix).decode()  # type: ignore[operator]
    masked = Masker([SECRET]).mask_text(blob)
    n = len(SECRET.encode())
    first, last = -(-8 * prefix_len // 6), 8 * (prefix_len + n) // 6
    assert "***" in masked
    assert blob[first:last] not in masked  # the characters carrying only the secret's bits


def test_masks_basic_auth_header() -> None:
    header = "Authorization: Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert "***" in Masker([SECRET]).mask_text(header)


@pytest.mark.parametrize(
    "form",
    [quote(SECRET), quote(SECRET, safe=""), quote_plus(SECRET)],
    ids=["quote", "quote-nosafe", "quote_plus"],
)
def test_masks_url_encoded_forms(form: str) -> None:
    assert form != SECRET
    assert Masker([SECRET]).mask_text(f"GET /?p={form}&x=1") == "GET /?p=***&x=1"


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_masks_json_escaped_forms(ensure_ascii: bool) -> None:
    line = json.dumps({"password": SECRET, "pem": PEM}, ensure_ascii=ensure_ascii)
    masked = Masker([SECRET, PEM]).mask_text(line)
    assert json.loads(masked) == {"password": "***", "pem": "***"}


def test_multiline_secret_is_masked_whole_and_line_by_line() -> None:
    masker = Masker([PEM])
    assert masker.mask_text(f"key:\n{PEM}\n") == "key:\n***\n"
    # The executor's filter sees one line at a time: every non-trivial line is masked alone.
    for line in PEM.splitlines():
        assert masker.mask_bytes(line.encode() + b"\n") == b"***\n"


def test_secret_split_across_output_lines_leaves_no_line_of_it() -> None:
    value = "first-half-of-it\nsecond-half-of-it"
    masker = Masker([value])
    out = b"".join(masker(line + b"\n") for line in (b"a first-half-of-it", b"second-half-of-it z"))
    assert out == b"a ***\n*** z\n"


def test_longest_value_wins_when_one_secret_contains_another() -> None:
    masker = Masker(["abcd1234", "abcd1234efgh5678"])
    assert masker.mask_text("x abcd1234efgh5678 y abcd1234 z") == "x *** y *** z"


def test_bytes_and_call_mask_utf8_output() -> None:
    masker = Masker([SECRET])
    line = f"value={SECRET}\n".encode()
    assert masker.mask_bytes(line) == b"value=***\n"
    assert masker(line) == b"value=***\n"
    assert masker(b"\xff\xfe binary " + SECRET.encode()) == b"\xff\xfe binary ***"


@pytest.mark.parametrize("value", ["", "a", "ab", "abc"])
def test_values_shorter_than_four_characters_are_refused(value: str) -> None:
    with pytest.raises(SecretError) as info:
        Masker.check_value("PIN", value)
    assert str(info.value).startswith(
        "secret PIN is shorter than 4 characters; masking it would hide ordinary text"
    )
    with pytest.raises(SecretError):
        Masker([value])


def test_a_mapping_masks_its_values_and_names_short_ones() -> None:
    masker = Masker({"DB_PASSWORD": SECRET})
    assert masker.mask_text("DB_PASSWORD=" + SECRET) == "DB_PASSWORD=***"
    with pytest.raises(SecretError, match="secret PIN is shorter"):
        Masker({"PIN": "123"})


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    outputs: dict[str, str]
    args: tuple[str, ...]


def test_mask_obj_masks_deeply_and_keeps_shapes() -> None:
    masker = Masker([SECRET])
    event = Event("task.finished", {"token": SECRET, SECRET: "key"}, ("--pw", SECRET))
    data = {"events": [event], "nested": {"list": [SECRET, 3, None]}, "raw": SECRET.encode()}
    masked = masker.mask_obj(data)
    assert masked["events"][0] == Event(
        "task.finished", {"token": "***", "***": "key"}, ("--pw", "***")
    )
    assert masked["nested"] == {"list": ["***", 3, None]}
    assert masked["raw"] == b"***"
    assert SECRET in data["nested"]["list"]  # the input is not modified
    untouched = Event("x", {}, ())
    assert masker.mask_obj(untouched) is untouched


@given(
    # No NUL: a secret holding one is refused before masking (it cannot reach an environment).
    secret=st.text(min_size=4, max_size=40).filter(lambda s: len(s.strip()) >= 4 and "\0" not in s),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_a_secret_never_survives_masking(secret: str, before: str, after: str) -> None:
    masked = Masker([secret]).mask_text(before + secret + after)
    assert secret not in masked


def test_benchmark_masking_a_one_megabyte_line() -> None:
    """Speed belongs in benchmarks: this only runs the big case and prints the time."""
    secrets = [base64.b64encode(os.urandom(18)).decode() for _ in range(20)]
    masker = Masker(secrets)
    line = (os.urandom(300_000).hex()[:1_000_000] + secrets[3]).encode()
    started = time.perf_counter()
    masked = masker(line)
    print(f"masked 1 MB with {len(masker)} forms in {time.perf_counter() - started:.3f}s")
    assert masked.endswith(b"***")
