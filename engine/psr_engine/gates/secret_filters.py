"""False-positive control for the secret scanner: what looks like a credential but is not one.

Placeholders, documented examples, template variables, environment reads, hashes and UUIDs
are dropped here, and the generic `name = value` rule's values must look random (entropy over
their alphabet) before they count. All checks are pure functions of the value and its line.
"""

from __future__ import annotations

import base64
import itertools
import math
import re
from collections import Counter
from urllib.parse import unquote

PRAGMA = "psr: ignore-secret"
# Other scanners' inline allowlist comments: the author already said "not a secret" there.
FOREIGN_PRAGMAS = ("pragma: allowlist secret", "gitleaks:allow")

# Published examples (AWS documentation and friends): real shape, never real credentials.
KNOWN_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)

PLACEHOLDER_VALUES = frozenset(
    {
        "changeme",
        "change_me",
        "change-me",
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "apikey",
        "api_key",
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "redacted",
        "hidden",
        "masked",
        "admin",
        "root",
        "guest",
        "default",
        "letmein",
        "qwerty",
        "your_api_key_here",
        "pwd",
        "foo",
        "bar",
        "baz",
        "foobar",
        "hunter2",
        "username",
        "user",
        "login",
        "key",
        "apitoken",
        "access_token",
        "auth_token",
        "client_secret",
        "private_key",
        "secret_key",
    }
)

# Substrings that mark a value as a stand-in (compared lowercase).
PLACEHOLDER_MARKERS = (
    "example",
    "dummy",
    "fake",
    "sample",
    "test",
    "placeholder",
    "changeme",
    "change_me",
    "your_",
    "your-",
    "yourkey",
    "your.key",
    "xxxx",
    "****",
    "....",
    "redacted",
    "replace",
    "insert",
    "<",
    ">",
    "${",
    "$(",
    "{{",
    "}}",
    "{%",
    "%(",
    "%s",
    "os.environ",
    "getenv",
    "process.env",
)

# Reading a secret from the environment is the right way to do it, not a leak.
_ENV_READ = re.compile(
    r"os\.environ(?:\.get)?\s*[\[(]|os\.getenv\s*\(|process\.env\b|ENV\s*\[|System\.getenv"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
# Names whose last word says "credential" (squeezed: no _-.): a strong context for hex.
_CREDENTIAL_END = re.compile(r"(?:secret|token|passw(?:or)?d|pass|key|auth)$")
_HASH_CONTEXT = re.compile(
    r"(?i)sha|md5|digest|checksum|integrity|commit|hash|etag|revision|\brev\b|fingerprint"
)
_SRI = re.compile(r"(?i)(?:sha1|sha256|sha384|sha512|md5)[-:]")
_SEQUENCES = (
    "0123456789",
    "9876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiop",
    "asdfghjkl",
)
_RUN = re.compile(r"(.)\1{5,}")  # six or more of one character
_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
_TEMPLATE = re.compile(r"\{[^{}]*\}")  # f-string, str.format and template interpolation
# Leetspeak spellings of placeholder words (P@55w0rd!, s3cr3t): compared after undoing them.
_LEET = str.maketrans("0134578@$!", "oieastbasi")
_DIGITS_AND_PUNCT = re.compile(r"[\d\W_]+$")
_WORD_SEPARATORS = re.compile(r"[\s\-_.]+")
_CAMEL_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_FILLER = re.compile(r"^(?:my|your|some|the|a|new|old|default)(?=[a-z]{3})")
_NOT_A_VALUE = re.compile(
    r"""(?x)
    ^(?:[a-z][a-z0-9+.\-]*://|/|\./|\.\./|~/)          # a URL or a path
    |^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\]]*\])+(?:\(\))?$    # dotted.name, a.b[-1].c
    |^(?:urn|arn):                                       # a URN or an AWS ARN
    |^\d{4}-\d{2}-\d{2}                                  # a date or a timestamp
    |^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$                     # a CONSTANT_NAME (an env var's name)
    |\(\?[:=!<P]|\[\^?[^\]]*\w-\w[^\]]*\]|\{\d+(?:,\d*)?\}   # a regex: (?:  [a-z]  {32}
    |\.(?:txt|json|ya?ml|pem|key|crt|cer|p12|pfx|ini|cfg|conf|env|py|js|sh|html?|log)$
    |^[^@\s]+@[^@\s]+\.[a-z]{2,}$                        # an e-mail address
    |^[A-Za-z_][A-Za-z0-9_]*\(                           # a call
    """
)
# Names that contain a secret-like word but hold something else (compared squeezed: no _-.).
_NOT_SECRET_NAMES = re.compile(
    r"(?:url|uri|endpoint|path|file|filename|dir|name|type|types|len|length|size|count|field"
    r"|prefix|suffix|pattern|regex|format|fmt|id|ids|header|label|version|policy|mode|method"
    r"|ttl|expiry|expires|expiration|timeout|class|kind|tag|cmd|command|flag|hash|salt|prompt"
    r"|hint|placeholder|validator|enabled|required|rule|rules|template|input|style|icon|tokens"
    r"|env|var|key_id|keyid|location|source|provider|store|backend|manager|handler|scheme"
    r"|callback|redirect|index|position|pos|start|end|char|chars|lastused|used|date|time"
    r"|created|changed|updated|reset|strength|minlength|maxlength|age)$"
    # Tokens that page, deduplicate or verify: NextToken, PurchaseToken, output_token.
    r"|(?:next|continuation|page|pagination|sync|cursor|marker|continue|resume|idempotency"
    r"|output|input|purchase|verification)token"
    r"|author(?!iz)|tokeniz|oauth2?(?:url|uri)|passthrough|passthru|bypass|compass"
)


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def required_entropy(value: str, threshold: float) -> float:
    """The entropy a random value of this length and alphabet reaches, capped by threshold.

    A string of n characters cannot exceed log2(n) bits, so short values are held to a
    proportion of that bound; hex values (16 symbols) to half a bit less than the threshold.
    """
    bound = 0.9 * math.log2(max(len(value), 2))
    cap = threshold - 0.5 if _HEX.fullmatch(value) else threshold
    return min(cap, bound)


def is_placeholder(value: str) -> bool:
    """A stand-in, an example, a template variable or a pattern anyone would type by hand."""
    if value in KNOWN_EXAMPLES:
        return True
    lowered = value.lower()
    if lowered in PLACEHOLDER_VALUES or lowered.startswith(("$", "%", "@")):
        return True
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS) or _TEMPLATE.search(value):
        return True
    if _is_placeholder_word(lowered, value):
        return True
    if len(set(lowered)) <= 3 or _RUN.search(value) or _few_runs(lowered):
        return True
    if any(seq[i : i + 6] in lowered for seq in _SEQUENCES for i in range(len(seq) - 5)):
        return True
    return _encodes_placeholder(value)


def _encodes_placeholder(value: str) -> bool:
    """Base64 of a stand-in (``dXNlcjpwYXNzd29yZA==`` is ``user:password``)."""
    if len(value) % 4 or not _BASE64.fullmatch(value):
        return False
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    if not text.isprintable():
        return False
    return is_placeholder(text.partition(":")[2] or text)


def _is_placeholder_word(lowered: str, original: str) -> bool:
    """``password1``, ``P@55w0rd!``, ``mypassword``, ``a secret``: placeholder words, dressed up.

    A word with digits or punctuation after it, in leetspeak, behind "my"/"your"/"some", or
    among other plain words: random values are none of these.
    """
    if "%" in lowered:
        lowered = unquote(lowered)
    stem = _DIGITS_AND_PUNCT.sub("", lowered) or lowered
    words = _WORD_SEPARATORS.split(stem)
    if not all(word.isalpha() for word in words if word):
        words = [stem]
    for word in words:
        for candidate in (word, word.translate(_LEET)):
            bare = _FILLER.sub("", candidate)
            if candidate in PLACEHOLDER_VALUES or bare in PLACEHOLDER_VALUES:
                return True
    return _is_placeholder_phrase(_DIGITS_AND_PUNCT.sub("", original) or original)


def _is_placeholder_phrase(value: str) -> bool:
    """``SomeKindOfPassword123!``, ``PassWordMustBeAtLeast6Chars``: a camelCase phrase with a
    placeholder word in it. Long words only (random text splits into many short ones)."""
    parts = _CAMEL_WORDS.findall(value)
    if not parts or "".join(parts) != value or len(parts) * 3 > len(value):
        return False
    return any(len(p) >= 3 and p.lower() in PLACEHOLDER_VALUES for p in parts if p.isalpha())


def _few_runs(lowered: str) -> bool:
    """Made of at most three ascending runs (``abc12345``, ``abcd1234``): typed, not random."""
    runs = 1 + sum(ord(b) != ord(a) + 1 for a, b in itertools.pairwise(lowered))
    return len(lowered) >= 6 and runs <= 3 and runs * 3 <= len(lowered)


def is_hash_or_uuid(value: str, line: str) -> bool:
    """A UUID, a subresource-integrity digest, or hex of a digest's length beside hash words."""
    if _UUID.fullmatch(value) or _SRI.match(value):
        return True
    return (
        len(value) in (32, 40, 64, 128)
        and bool(_HEX.fullmatch(value))
        and bool(_HASH_CONTEXT.search(line))
    )


def is_env_read(line: str) -> bool:
    return bool(_ENV_READ.search(line))


def has_pragma(line: str) -> bool:
    return PRAGMA in line or any(pragma in line for pragma in FOREIGN_PRAGMAS)


def is_allowed(value: str, line: str, allowlist: str = "standard") -> bool:
    """True when the value is not a secret to report (every rule goes through this).

    ``allowlist`` is the rule's (see ``secret_rule.Allowlist``): key material is only checked
    against published examples, UUID-shaped credentials skip the UUID check.
    """
    if has_pragma(line) or value in KNOWN_EXAMPLES:
        return True
    if allowlist == "structural":
        return False
    if is_placeholder(value):
        return True
    return allowlist != "uuid" and is_hash_or_uuid(value, line)


def _squeeze(name: str) -> str:
    return re.sub(r"[_\-.\[\]'\"]", "", name.lower())


def generic_name_ok(name: str) -> bool:
    """Does this name (``DB_PASSWORD``, ``apiKey``, ``auth.token``) hold a secret value?"""
    return not _NOT_SECRET_NAMES.search(_squeeze(name))


def _case_changes(value: str) -> int:
    return sum(a.isupper() != b.isupper() for a, b in itertools.pairwise(value))


def generic_value_ok(value: str, threshold: float, *, name: str = "") -> tuple[bool, float]:
    """Does a value assigned to a secret-like ``name`` look random? Returns (verdict, entropy).

    Pure hex needs a strong context: at least 24 digits, and a name ending in a credential
    word (``api_key``, ``client_secret``), since most hex in code is a hash or an id.
    """
    entropy = shannon_entropy(value)
    if _NOT_A_VALUE.search(value) or _squeeze(value) == _squeeze(name):
        return False, entropy
    if _HEX.fullmatch(value) and not (len(value) >= 24 and _CREDENTIAL_END.search(_squeeze(name))):
        return False, entropy
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    # Identifiers and words have no digits; random tokens of this length nearly always do,
    # and long random letters change case every other character, camelCase words rarely.
    has_digit = any(c.isdigit() for c in value)
    random_letters = len(value) >= 32 and _case_changes(value) * 4 >= len(value)
    if classes < 2 or not (has_digit or random_letters):
        return False, entropy
    return entropy >= required_entropy(value, threshold), entropy
