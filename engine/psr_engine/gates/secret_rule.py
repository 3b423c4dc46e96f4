"""One credential rule of the secret scanner, the helpers that build rules, and value validators.

The rule tables live in ``secret_rules`` (cloud, code hosts, keys, the generic rule),
``secret_rules_saas`` (prefixed service tokens) and ``secret_rules_url`` (credentials inside
URLs and basic-auth strings). Each rule names the literal keywords that must occur in a text
before its regexes run at all: most files contain none of them, so most rules cost one
substring search per file. Every pattern has a group named ``secret`` (or ``bare``, an unquoted
value) holding the credential itself, which is what is hashed, redacted and allowlisted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from psr_engine.gates.findings import Confidence, Severity

# `name = value`, `name: value`, `"name": "value"`, `name := value`, `name => value`
ASSIGN = r"""[\w.\-]*["'\]]*[ \t]*(?::=|=>|\?=|=(?!=)|:)[ \t]*[rbu]?\\?["'`]?"""
END = r"(?![A-Za-z0-9_\-])"  # the credential ends here: no token character follows
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Which of the allowlist's checks a rule's values go through (see secret_filters.is_allowed):
#   standard    placeholders, published examples, hashes and UUIDs
#   structural  key material: only published examples; its structure is the rule's validator
#               (a real key body has runs of A's and the like, which read as placeholders)
#   uuid        placeholders and examples, but a UUID is the credential's own shape
Allowlist = Literal["standard", "structural", "uuid"]


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One credential type: how to find it, how sure a match is, how bad a leak is."""

    id: str  # kebab-case, the Finding's rule_id
    title: str  # human name used in messages: "GitHub token"
    patterns: tuple[re.Pattern[str], ...]
    shape: re.Pattern[str]  # fullmatch of a bare value: validate_secret_type
    keywords: tuple[str, ...]  # lowercase; the rule runs only when one occurs in the text
    severity: Severity
    confidence: Confidence = "high"
    context: re.Pattern[str] | None = None  # must also occur somewhere in the same text
    validator: Callable[[str], bool] | None = None  # extra check of the value
    at_match_start: bool = False  # report the match start (a PEM BEGIN line), not the value
    generic: bool = False  # the entropy-checked `name = value` rule
    allowlist: Allowlist = "standard"


def rule(
    id: str,
    title: str,
    patterns: str | tuple[str, ...],
    *,
    shape: str,
    keywords: tuple[str, ...],
    severity: Severity,
    confidence: Confidence = "high",
    context: str | None = None,
    validator: Callable[[str], bool] | None = None,
    at_match_start: bool = False,
    generic: bool = False,
    allowlist: Allowlist = "standard",
) -> SecretRule:
    sources = (patterns,) if isinstance(patterns, str) else patterns
    return SecretRule(
        id=id,
        title=title,
        patterns=tuple(re.compile(p, re.MULTILINE) for p in sources),
        shape=re.compile(shape, re.DOTALL),
        keywords=keywords,
        severity=severity,
        confidence=confidence,
        context=re.compile(context) if context else None,
        validator=validator,
        at_match_start=at_match_start,
        generic=generic,
        allowlist=allowlist,
    )


def token(value: str, *, before: str = r"A-Za-z0-9_\-") -> str:
    """A prefixed token standing on its own: not glued to other token characters."""
    return rf"(?<![{before}])(?P<secret>{value}){END}"


def in_context(names: str, value: str) -> str:
    """A value assigned to one of ``names`` (case-insensitive names, exact value)."""
    return rf"(?i:{names}){ASSIGN}(?P<secret>{value}){END}"


def prefixed(
    id: str,
    title: str,
    value: str,
    *,
    keywords: tuple[str, ...],
    severity: Severity = "high",
    validator: Callable[[str], bool] | None = None,
) -> SecretRule:
    """A self-identifying token (a literal prefix, then its body): found bare, anywhere."""
    return rule(
        id,
        title,
        token(value),
        shape=value,
        keywords=keywords,
        severity=severity,
        validator=validator,
    )


# -- validators --------------------------------------------------------------------------------


def _b64decode(text: str, *, urlsafe: bool = False) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (ValueError, binascii.Error):
        return None


def _b64url_json(part: str) -> object:
    raw = _b64decode(part, urlsafe=True)
    if raw is None:
        raise ValueError("not base64url")
    return json.loads(raw)


def jwt_header_ok(value: str) -> bool:
    """A JWT's header is base64url JSON naming its ``alg``; anything else is not a JWT."""
    try:
        header = _b64url_json(value.split(".", 1)[0])
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def looks_random(value: str) -> bool:
    """Real keys mix upper, lower and digits (or base64 symbols); words and names do not."""
    has_digit_or_symbol = any(c.isdigit() or c in "/+" for c in value)
    return (
        has_digit_or_symbol and any(c.isupper() for c in value) and any(c.islower() for c in value)
    )


def mixed_case(value: str) -> bool:
    """Letters-only tokens (Hugging Face's) are random when both cases occur throughout."""
    return any(c.isupper() for c in value) and any(c.islower() for c in value)


def mixed_hex(value: str) -> bool:
    """Random hex has both digits and letters; all-digit or all-letter runs are not keys."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def mixed_hex_tail(value: str) -> bool:
    """`mixed_hex` of the 32 hex digits after a literal prefix (``SK``, ``key-``)."""
    return mixed_hex(value[-32:])


def _whole_quads(value: str) -> str:
    return value[: len(value) - len(value) % 4]


def _first_body_line(value: str) -> str:
    """The value itself, or the first base64 line of a whole PEM block (headers skipped)."""
    if "-----BEGIN" not in value:
        return value
    lines = value.split("-----BEGIN", 1)[1].splitlines()[1:]
    return next((line.strip() for line in lines if line.strip() and ":" not in line), "")


def openssh_key_ok(value: str) -> bool:
    """The first body line of an OpenSSH key decodes to the ``openssh-key-v1`` magic."""
    raw = _b64decode(_whole_quads(_first_body_line(value).rstrip("=")))
    return raw is not None and raw.startswith(b"openssh-key-v1\0")


def pem_body_ok(value: str) -> bool:
    """A PEM body line is base64 (what it encodes may be encrypted: no more can be asked)."""
    line = _first_body_line(value)
    return bool(line) and _b64decode(_whole_quads(line.rstrip("="))) is not None


def discord_token_ok(value: str) -> bool:
    """A Discord bot token's first part is the bot's snowflake id (digits), base64-encoded."""
    raw = _b64decode(value.split(".", 1)[0], urlsafe=True)
    return raw is not None and raw.isdigit() and 15 <= len(raw) <= 20
