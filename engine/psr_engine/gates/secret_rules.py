"""The credential rules of the secret scanner: one compiled regex (or a few) per credential type.

Each rule names the literal keywords that must occur in a text before its regexes run at all:
most files contain none of them, so most rules cost one substring search per file. Every
pattern has a group named ``secret`` (or ``bare``, an unquoted value) holding the credential
itself, which is what is hashed, redacted and checked against the allowlist.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from psr_engine.gates.findings import Confidence, Severity

# `name = value`, `name: value`, `"name": "value"`, `name := value`, `name => value`
_ASSIGN = r"""[\w.\-]*["'\]]*[ \t]*(?::=|=>|\?=|=(?!=)|:)[ \t]*[rbu]?\\?["'`]?"""
_END = r"(?![A-Za-z0-9_\-])"  # the credential ends here: no token character follows


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


def _rule(
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
    )


def _token(value: str, *, before: str = r"A-Za-z0-9_\-") -> str:
    """A prefixed token standing on its own: not glued to other token characters."""
    return rf"(?<![{before}])(?P<secret>{value}){_END}"


def _in_context(names: str, value: str) -> str:
    """A value assigned to one of ``names`` (case-insensitive names, exact value)."""
    return rf"(?i:{names}){_ASSIGN}(?P<secret>{value}){_END}"


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_header_ok(value: str) -> bool:
    """A JWT's header is base64url JSON naming its ``alg``; anything else is not a JWT."""
    try:
        header = _b64url_json(value.split(".", 1)[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def looks_random(value: str) -> bool:
    """Real keys mix upper, lower and digits (or base64 symbols); words and names do not."""
    has_digit_or_symbol = any(c.isdigit() or c in "/+" for c in value)
    return (
        has_digit_or_symbol and any(c.isupper() for c in value) and any(c.islower() for c in value)
    )


def mixed_hex(value: str) -> bool:
    """Random hex has both digits and letters; all-digit or all-letter runs are not keys."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def mixed_hex_tail(value: str) -> bool:
    """`mixed_hex` of the 32 hex digits after a literal prefix (``SK``, ``key-``)."""
    return mixed_hex(value[-32:])


_PEM_KINDS = r"(?:RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY"
# After the BEGIN line: a real newline or a JSON-escaped one, optional quotes and commas (a key
# split into notebook or JSON strings), optional RFC 1421 headers, then the first base64 line.
_PEM_BODY = (
    r"-----(?:[ \t]*\r?\n|\\r?\\n)"
    r"(?:[\s\"',]*(?:Proc-Type|DEK-Info):[^\n\\]*(?:\r?\n|\\n))*"
    r"[\s\"',]*(?:\\n)?(?P<secret>[A-Za-z0-9+/]{40,}={0,2})"
)

RULES: tuple[SecretRule, ...] = (
    # Order matters: where two rules match the same text, the earlier one is reported.
    _rule(
        "gcp-service-account-key",
        "GCP service account private key",
        r'"private_key"\s*:\s*"-----BEGIN (?:RSA )?PRIVATE KEY-----\\n'
        r"(?P<secret>[A-Za-z0-9+/=]{40,})",
        shape=r"-----BEGIN (?:RSA )?PRIVATE KEY-----.+",
        keywords=('"private_key"',),
        severity="critical",
        context=r"service_account|client_email|gserviceaccount",
    ),
    _rule(
        "private-key",
        "Private key",
        rf"-----BEGIN (?P<kind>{_PEM_KINDS}){_PEM_BODY}",
        shape=rf"\s*-----BEGIN ({_PEM_KINDS})-----.+-----END \1-----\s*",
        keywords=("private key-----",),
        severity="critical",
        at_match_start=True,
    ),
    _rule(
        "openssh-private-key",
        "OpenSSH private key",
        rf"-----BEGIN OPENSSH PRIVATE KEY{_PEM_BODY}",
        shape=r"\s*-----BEGIN OPENSSH PRIVATE KEY-----.+-----END OPENSSH PRIVATE KEY-----\s*",
        keywords=("begin openssh private key",),
        severity="critical",
        at_match_start=True,
    ),
    _rule(
        "aws-access-key-id",
        "AWS access key ID",
        r"(?<![A-Za-z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Za-z0-9])",
        shape=r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
        keywords=("akia", "asia", "abia", "acca"),
        severity="critical",
    ),
    _rule(
        "aws-secret-access-key",
        "AWS secret access key",
        rf"(?i:aws[_\-.]?secret(?:[_\-.]?access)?(?:[_\-.]?key)?|secret[_\-.]?access[_\-.]?key)"
        rf"{_ASSIGN}(?P<secret>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])",
        shape=r"[A-Za-z0-9/+]{40}",
        keywords=("secret",),
        severity="critical",
        validator=looks_random,
    ),
    _rule(
        # Terraform's provider block and boto3's keyword arguments say secret_key; trust the
        # name only in a file that also talks to AWS.
        "aws-secret-access-key",
        "AWS secret access key",
        rf"(?i:\bsecret[_\-]?key){_ASSIGN}(?P<secret>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])",
        shape=r"[A-Za-z0-9/+]{40}",
        keywords=("secret_key", "secret-key", "secretkey"),
        severity="critical",
        context=r"(?i:\baws)|AKIA|ASIA",
        validator=looks_random,
    ),
    _rule(
        "aws-session-token",
        "AWS session token",
        (
            _in_context(
                r"aws[_\-.]?session[_\-.]?token|x-amz-security-token|session[_\-]?token",
                r"[A-Za-z0-9/+=]{100,}",
            ),
            _token(r"(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{100,}", before="A-Za-z0-9/+"),
        ),
        shape=r"[A-Za-z0-9/+=]{100,}",
        keywords=(
            "session_token",
            "session-token",
            "sessiontoken",
            "security-token",
            "fwogzxivyxdze",
            "iqojb3jpz2lux2vj",
        ),
        severity="high",
    ),
    _rule(
        "gcp-api-key",
        "Google API key",
        _token(r"AIza[0-9A-Za-z_\-]{35}"),
        shape=r"AIza[0-9A-Za-z_\-]{35}",
        keywords=("aiza",),
        severity="high",
    ),
    _rule(
        "azure-storage-account-key",
        "Azure Storage account key",
        r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/]{40,100}={0,2})",
        shape=r"[A-Za-z0-9+/]{40,100}={0,2}",
        keywords=("accountkey=",),
        severity="critical",
    ),
    _rule(
        "azure-ad-client-secret",
        "Azure AD client secret",
        (
            r"(?<![A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})"
            r"(?![A-Za-z0-9_~.\-])",
            _in_context(r"azure[_\-.]?client[_\-.]?secret", r"[A-Za-z0-9_~.\-]{32,44}"),
        ),
        shape=r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}|[A-Za-z0-9_~.\-]{32,44}",
        keywords=("q~", "azure_client_secret", "azure-client-secret", "azureclientsecret"),
        severity="high",
    ),
    _rule(
        "azure-sas-token",
        "Azure shared access signature",
        (
            r"(?i)(?<![A-Za-z0-9])sv=\d{4}-\d{2}-\d{2}&[^\s\"'<>]*?(?<![A-Za-z0-9])"
            r"sig=(?P<secret>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})",
            r"(?i)(?<![A-Za-z0-9])sig=(?P<secret>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})"
            r"&[^\s\"'<>]*?(?<![A-Za-z0-9])sv=\d{4}-\d{2}-\d{2}",
        ),
        shape=r"(?i)[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2}",
        keywords=("sig=",),
        severity="high",
    ),
    _rule(
        "github-token",
        "GitHub token",
        _token(r"gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,}"),
        shape=r"gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,}",
        keywords=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        severity="critical",
    ),
    _rule(
        "gitlab-token",
        "GitLab token",
        _token(r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat|ffct|oas|agent)-[A-Za-z0-9_\-]{20,}"),
        shape=r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat|ffct|oas|agent)-[A-Za-z0-9_\-]{20,}",
        keywords=(
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glcbt-",
            "glimt-",
            "glft-",
            "glsoat-",
            "glffct-",
            "gloas-",
            "glagent-",
        ),
        severity="critical",
    ),
    _rule(
        "slack-token",
        "Slack token",
        _token(
            r"xox[abposr]-[0-9A-Za-z\-]{10,250}[0-9A-Za-z]|xapp-\d-[A-Za-z0-9\-]{10,}[A-Za-z0-9]"
        ),
        shape=r"xox[abposr]-[0-9A-Za-z\-]{10,250}[0-9A-Za-z]|xapp-\d-[A-Za-z0-9\-]{10,}[A-Za-z0-9]",
        keywords=("xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-", "xapp-"),
        severity="high",
    ),
    _rule(
        "slack-webhook-url",
        "Slack webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"(?P<secret>[A-Za-z0-9_\-]+/[A-Za-z0-9_/\-]{16,}[A-Za-z0-9])",
        shape=r"(?:https://hooks\.slack\.com/(?:services|workflows|triggers)/)?"
        r"[A-Za-z0-9_\-]+/[A-Za-z0-9_/\-]{16,}[A-Za-z0-9]",
        keywords=("hooks.slack.com",),
        severity="high",
    ),
    _rule(
        "stripe-secret-key",
        "Stripe live secret key",
        _token(r"(?:sk|rk)_live_[0-9A-Za-z]{24,99}"),
        shape=r"(?:sk|rk)_live_[0-9A-Za-z]{24,99}",
        keywords=("sk_live_", "rk_live_"),
        severity="critical",
    ),
    _rule(
        "twilio-api-key",
        "Twilio API key",
        # The literal first, then the boundary: lets the regex engine jump between "SK"s.
        r"(?P<secret>SK(?<![A-Za-z0-9_\-]SK)[0-9a-fA-F]{32})" + _END,
        shape=r"SK[0-9a-fA-F]{32}",
        keywords=("sk",),
        severity="high",
        validator=mixed_hex_tail,
    ),
    _rule(
        "twilio-auth-token",
        "Twilio auth token",
        (
            _in_context(r"(?:twilio[\w.\-]*?)?auth[_\-.]?token", r"[0-9a-f]{32}"),
            r"\bAC[0-9a-f]{32}[\"']?[ \t]*,[ \t]*[\"'](?P<secret>[0-9a-f]{32})[\"']",
        ),
        shape=r"[0-9a-f]{32}",
        keywords=("auth_token", "authtoken", "auth-token", "auth.token", "twilio"),
        severity="high",
        context=r"\bAC[0-9a-f]{32}\b|(?i:twilio)",
        validator=mixed_hex,
    ),
    _rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _token(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
        shape=r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        keywords=("sg.",),
        severity="high",
    ),
    _rule(
        "mailgun-api-key",
        "Mailgun API key",
        _token(r"key-[0-9a-f]{32}"),
        shape=r"key-[0-9a-f]{32}",
        keywords=("key-",),
        severity="high",
        validator=mixed_hex_tail,
    ),
    _rule(
        "shopify-token",
        "Shopify access token",
        _token(r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
        shape=r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        keywords=("shpat_", "shpss_", "shpca_", "shppa_"),
        severity="high",
    ),
    _rule(
        "datadog-api-key",
        "Datadog API key",
        _in_context(r"(?:datadog|(?<![A-Za-z0-9])dd)[_\-.]?api[_\-.]?key", r"[a-fA-F0-9]{32}"),
        shape=r"[a-fA-F0-9]{32}",
        keywords=("datadog", "dd_api", "dd-api", "ddapi", "dd.api"),
        severity="high",
        validator=mixed_hex,
    ),
    _rule(
        "datadog-app-key",
        "Datadog application key",
        _in_context(
            r"(?:datadog|(?<![A-Za-z0-9])dd)[_\-.]?app(?:lication)?[_\-.]?key", r"[a-fA-F0-9]{40}"
        ),
        shape=r"[a-fA-F0-9]{40}",
        keywords=("datadog", "dd_app", "dd-app", "ddapp", "dd.app"),
        severity="high",
        validator=mixed_hex,
    ),
    _rule(
        "npm-token",
        "npm access token",
        _token(r"npm_[A-Za-z0-9]{36}"),
        shape=r"npm_[A-Za-z0-9]{36}",
        keywords=("npm_",),
        severity="high",
    ),
    _rule(
        "pypi-token",
        "PyPI upload token",
        _token(r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
        shape=r"pypi-AgE[A-Za-z0-9_\-]{50,}",
        keywords=("pypi-age",),
        severity="high",
    ),
    _rule(
        "anthropic-api-key",
        "Anthropic API key",
        _token(r"sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_\-]{80,120}"),
        shape=r"sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_\-]{80,120}",
        keywords=("sk-ant-",),
        severity="high",
    ),
    _rule(
        "openai-api-key",
        "OpenAI API key",
        _token(
            r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}"
            r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})"
        ),
        shape=r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})",
        keywords=("sk-",),
        severity="high",
        validator=looks_random,
    ),
    _rule(
        "vault-token",
        "HashiCorp Vault token",
        (
            _token(r"hv[sbr]\.[A-Za-z0-9_\-]{24,}"),
            _in_context(r"vault[_\-.]?token|x-vault-token", r"s\.[A-Za-z0-9]{24}"),
        ),
        shape=r"hv[sbr]\.[A-Za-z0-9_\-]{24,}|s\.[A-Za-z0-9]{24}",
        keywords=("hvs.", "hvb.", "hvr.", "vault"),
        severity="high",
    ),
    _rule(
        "jwt",
        "JSON Web Token",
        _token(
            r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            before=r"A-Za-z0-9_\-.",
        ),
        shape=r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        keywords=("eyj",),
        severity="high",
        validator=jwt_header_ok,
    ),
    _rule(
        "database-url",
        "Database URL with a password",
        r"(?i)(?<![A-Za-z0-9+])(?P<scheme>postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?"
        r"|amqps?|mssql|sqlserver|oracle|cockroachdb)(?:\+[a-z0-9]+)?://"
        r"(?P<user>[^:@/\s\"'`<>]*):(?!(?P=user)@)"  # user:user@ is a local default, not a secret
        r"(?P<secret>[^@/\s\"'`<>]{3,128})@(?=[A-Za-z0-9\[])",
        shape=r"(?i)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql"
        r"|sqlserver|oracle|cockroachdb)(?:\+[a-z0-9]+)?://[^:@/\s]*:[^@/\s]{3,128}@\S+",
        keywords=(
            "postgres",
            "mysql",
            "mariadb",
            "mongodb",
            "redis",
            "amqp",
            "mssql",
            "sqlserver",
            "oracle",
            "cockroachdb",
        ),
        severity="high",
    ),
)

# Names that hold secrets, in code, .env, YAML, JSON, INI and properties files.
_SECRET_NAME = (
    r"pass(?:word|wd|phrase)|secret|token|api[_\-.]?key|apikey|access[_\-.]?key"
    r"|private[_\-.]?key|auth"
)
GENERIC_RULE = _rule(
    "generic-secret",
    "High-entropy secret",
    rf"(?i:{_SECRET_NAME})(?P<suffix>[A-Za-z0-9_\-.]*)[\"'\]]*"
    r"(?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]*(?=[ \t]*=))?"  # a type annotation: `token: str = `
    r"[ \t]*(?::=|=>|\?=|=(?!=)|:(?!:))[ \t]*[rbuRBUf]{0,2}"
    r"(?:\\?(?P<q>[\"'`])(?P<secret>[^\"'`\s\\]{8,256})\\?(?P=q)"
    r"|(?P<bare>[^\s\"'`,;#\\]{8,256})(?=[\s,;#]|$))",
    shape=r"\S{8,256}",
    # Every match starts with one of these (case-insensitive): the scanner tries the pattern
    # only where they occur instead of searching the whole text with it.
    keywords=("pass", "secret", "token", "api", "access", "private", "auth"),
    severity="medium",
    confidence="medium",
    generic=True,
)

ALL_RULES: tuple[SecretRule, ...] = (*RULES, GENERIC_RULE)
