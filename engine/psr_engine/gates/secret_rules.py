"""The credential rules of the secret scanner: cloud providers, code hosts, keys, the generic rule.

What a rule is and how one is built: ``secret_rule``. More tables: ``secret_rules_saas``
(prefixed service tokens) and ``secret_rules_url`` (credentials in URLs and basic-auth
strings). ``ALL_RULES`` is every table in priority order: where two rules match the same text,
the earlier one is reported.
"""

from __future__ import annotations

from psr_engine.gates.secret_rule import (
    ASSIGN,
    END,
    SecretRule,
    in_context,
    jwt_header_ok,
    looks_random,
    mixed_hex,
    mixed_hex_tail,
    openssh_key_ok,
    pem_body_ok,
    rule,
    token,
)
from psr_engine.gates.secret_rules_saas import SAAS_RULES
from psr_engine.gates.secret_rules_url import URL_RULES

# PKCS#1, SEC1, DSA, PKCS#8 (plain or encrypted) and OpenPGP key blocks.
_PEM_KINDS = r"(?:RSA |EC |DSA |ENCRYPTED |PGP |)PRIVATE KEY(?: BLOCK)?"
# After the BEGIN line: a real newline or a JSON-escaped one, optional quotes and commas (a key
# split into notebook or JSON strings), optional headers (RFC 1421's Proc-Type and DEK-Info,
# OpenPGP's Version and Comment), then the first base64 line.
_PEM_BODY = (
    r"-----(?:[ \t]*\r?\n|(?:\\r)?\\n)"  # (a JSON-escaped CRLF is \r\n: two escapes)
    r"(?:[\s\"',]*[A-Za-z][A-Za-z\-]*:[^\n\\]*(?:\r?\n|\\n))*"
    r"[\s\"',]*(?:\\n)?(?P<secret>[A-Za-z0-9+/]{40,}={0,2})"
)

_SLACK = (
    r"xox[abposr]-[0-9A-Za-z\-]{10,250}[0-9A-Za-z]|xapp-\d-[A-Za-z0-9\-]{10,}[A-Za-z0-9]"
    r"|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{140,170}"  # configuration access and refresh tokens
)

RULES: tuple[SecretRule, ...] = (
    # Order matters: where two rules match the same text, the earlier one is reported.
    # Key material is "structural": its body has runs of A's (length fields, zero bytes) that
    # the placeholder heuristics would drop, so a validator checks its structure instead.
    rule(
        "gcp-service-account-key",
        "GCP service account private key",
        r'"private_key"\s*:\s*"-----BEGIN (?:RSA )?PRIVATE KEY-----\\n'
        r"(?P<secret>[A-Za-z0-9+/=]{40,})",
        shape=r"-----BEGIN (?:RSA )?PRIVATE KEY-----.+",
        keywords=('"private_key"',),
        severity="critical",
        context=r"service_account|client_email|gserviceaccount",
        validator=pem_body_ok,
        allowlist="structural",
    ),
    rule(
        "private-key",
        "Private key",
        rf"-----BEGIN (?P<kind>{_PEM_KINDS}){_PEM_BODY}",
        shape=rf"\s*-----BEGIN ({_PEM_KINDS})-----.+-----END \1-----\s*",
        keywords=("private key-----", "private key block-----"),
        severity="critical",
        validator=pem_body_ok,
        at_match_start=True,
        allowlist="structural",
    ),
    rule(
        "openssh-private-key",
        "OpenSSH private key",
        rf"-----BEGIN OPENSSH PRIVATE KEY{_PEM_BODY}",
        shape=r"\s*-----BEGIN OPENSSH PRIVATE KEY-----.+-----END OPENSSH PRIVATE KEY-----\s*",
        keywords=("begin openssh private key",),
        severity="critical",
        validator=openssh_key_ok,
        at_match_start=True,
        allowlist="structural",
    ),
    rule(
        "aws-access-key-id",
        "AWS access key ID",
        r"(?<![A-Za-z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Za-z0-9])",
        shape=r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
        keywords=("akia", "asia", "abia", "acca"),
        severity="critical",
    ),
    rule(
        "aws-secret-access-key",
        "AWS secret access key",
        rf"(?i:aws[_\-.]?secret(?:[_\-.]?access)?(?:[_\-.]?key)?|secret[_\-.]?access[_\-.]?key)"
        rf"{ASSIGN}(?P<secret>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])",
        shape=r"[A-Za-z0-9/+]{40}",
        keywords=("secret",),
        severity="critical",
        validator=looks_random,
    ),
    rule(
        # Terraform's provider block and boto3's keyword arguments say secret_key; trust the
        # name only in a file that also talks to AWS.
        "aws-secret-access-key",
        "AWS secret access key",
        rf"(?i:\bsecret[_\-]?key){ASSIGN}(?P<secret>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])",
        shape=r"[A-Za-z0-9/+]{40}",
        keywords=("secret_key", "secret-key", "secretkey"),
        severity="critical",
        context=r"(?i:\baws)|AKIA|ASIA",
        validator=looks_random,
    ),
    rule(
        "aws-session-token",
        "AWS session token",
        (
            in_context(
                r"aws[_\-.]?session[_\-.]?token|x-amz-security-token|session[_\-]?token",
                r"[A-Za-z0-9/+=]{100,}",
            ),
            token(r"(?:FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{100,}", before="A-Za-z0-9/+"),
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
    rule(
        "gcp-api-key",
        "Google API key",
        token(r"AIza[0-9A-Za-z_\-]{35}"),
        shape=r"AIza[0-9A-Za-z_\-]{35}",
        keywords=("aiza",),
        severity="high",
    ),
    rule(
        "azure-storage-account-key",
        "Azure Storage account key",
        r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/]{40,100}={0,2})",
        shape=r"[A-Za-z0-9+/]{40,100}={0,2}",
        keywords=("accountkey=",),
        severity="critical",
    ),
    rule(
        "azure-ad-client-secret",
        "Azure AD client secret",
        (
            r"(?<![A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})"
            r"(?![A-Za-z0-9_~.\-])",
            in_context(r"azure[_\-.]?client[_\-.]?secret", r"[A-Za-z0-9_~.\-]{32,44}"),
        ),
        shape=r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}|[A-Za-z0-9_~.\-]{32,44}",
        keywords=("q~", "azure_client_secret", "azure-client-secret", "azureclientsecret"),
        severity="high",
    ),
    rule(
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
    rule(
        "github-token",
        "GitHub token",
        token(r"gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,}"),
        shape=r"gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,}",
        keywords=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        severity="critical",
    ),
    rule(
        "gitlab-token",
        "GitLab token",
        token(r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|soat|ffct|oas|agent)-[A-Za-z0-9_\-]{20,}"),
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
    rule(
        "slack-token",
        "Slack token",
        token(_SLACK),
        shape=_SLACK,
        keywords=("xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-", "xoxe", "xapp-"),
        severity="high",
    ),
    rule(
        "slack-webhook-url",
        "Slack webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"(?P<secret>[A-Za-z0-9_\-]+/[A-Za-z0-9_/\-]{16,}[A-Za-z0-9])",
        shape=r"(?:https://hooks\.slack\.com/(?:services|workflows|triggers)/)?"
        r"[A-Za-z0-9_\-]+/[A-Za-z0-9_/\-]{16,}[A-Za-z0-9]",
        keywords=("hooks.slack.com",),
        severity="high",
    ),
    rule(
        "stripe-secret-key",
        "Stripe live secret key",
        token(r"(?:sk|rk)_live_[0-9A-Za-z]{24,99}"),
        shape=r"(?:sk|rk)_live_[0-9A-Za-z]{24,99}",
        keywords=("sk_live_", "rk_live_"),
        severity="critical",
    ),
    rule(
        "twilio-api-key",
        "Twilio API key",
        # The literal first, then the boundary: lets the regex engine jump between "SK"s.
        r"(?P<secret>SK(?<![A-Za-z0-9_\-]SK)[0-9a-fA-F]{32})" + END,
        shape=r"SK[0-9a-fA-F]{32}",
        keywords=("sk",),
        severity="high",
        validator=mixed_hex_tail,
    ),
    rule(
        "twilio-auth-token",
        "Twilio auth token",
        (
            in_context(r"(?:twilio[\w.\-]*?)?auth[_\-.]?token", r"[0-9a-f]{32}"),
            r"\bAC[0-9a-f]{32}[\"']?[ \t]*,[ \t]*[\"'](?P<secret>[0-9a-f]{32})[\"']",
        ),
        shape=r"[0-9a-f]{32}",
        keywords=("auth_token", "authtoken", "auth-token", "auth.token", "twilio"),
        severity="high",
        context=r"\bAC[0-9a-f]{32}\b|(?i:twilio)",
        validator=mixed_hex,
    ),
    rule(
        "sendgrid-api-key",
        "SendGrid API key",
        token(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
        shape=r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        keywords=("sg.",),
        severity="high",
    ),
    rule(
        "mailgun-api-key",
        "Mailgun API key",
        token(r"key-[0-9a-f]{32}"),
        shape=r"key-[0-9a-f]{32}",
        keywords=("key-",),
        severity="high",
        validator=mixed_hex_tail,
    ),
    rule(
        "shopify-token",
        "Shopify access token",
        token(r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"),
        shape=r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        keywords=("shpat_", "shpss_", "shpca_", "shppa_"),
        severity="high",
    ),
    rule(
        "datadog-api-key",
        "Datadog API key",
        in_context(r"(?:datadog|(?<![A-Za-z0-9])dd)[_\-.]?api[_\-.]?key", r"[a-fA-F0-9]{32}"),
        shape=r"[a-fA-F0-9]{32}",
        keywords=("datadog", "dd_api", "dd-api", "ddapi", "dd.api"),
        severity="high",
        validator=mixed_hex,
    ),
    rule(
        "datadog-app-key",
        "Datadog application key",
        in_context(
            r"(?:datadog|(?<![A-Za-z0-9])dd)[_\-.]?app(?:lication)?[_\-.]?key", r"[a-fA-F0-9]{40}"
        ),
        shape=r"[a-fA-F0-9]{40}",
        keywords=("datadog", "dd_app", "dd-app", "ddapp", "dd.app"),
        severity="high",
        validator=mixed_hex,
    ),
    rule(
        "npm-token",
        "npm access token",
        token(r"npm_[A-Za-z0-9]{36}"),
        shape=r"npm_[A-Za-z0-9]{36}",
        keywords=("npm_",),
        severity="high",
    ),
    rule(
        "pypi-token",
        "PyPI upload token",
        token(r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
        shape=r"pypi-AgE[A-Za-z0-9_\-]{50,}",
        keywords=("pypi-age",),
        severity="high",
    ),
    rule(
        "anthropic-api-key",
        "Anthropic API key",
        token(r"sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_\-]{80,120}"),
        shape=r"sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_\-]{80,120}",
        keywords=("sk-ant-",),
        severity="high",
    ),
    rule(
        "openai-api-key",
        "OpenAI API key",
        token(
            r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}"
            r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})"
        ),
        shape=r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})",
        keywords=("sk-",),
        severity="high",
        validator=looks_random,
    ),
    rule(
        "vault-token",
        "HashiCorp Vault token",
        (
            token(r"hv[sbr]\.[A-Za-z0-9_\-]{24,}"),
            in_context(r"vault[_\-.]?token|x-vault-token", r"s\.[A-Za-z0-9]{24}"),
        ),
        shape=r"hv[sbr]\.[A-Za-z0-9_\-]{24,}|s\.[A-Za-z0-9]{24}",
        keywords=("hvs.", "hvb.", "hvr.", "vault"),
        severity="high",
    ),
    rule(
        "jwt",
        "JSON Web Token",
        token(
            r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            before=r"A-Za-z0-9_\-.",
        ),
        shape=r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        keywords=("eyj",),
        severity="high",
        validator=jwt_header_ok,
    ),
    rule(
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
GENERIC_RULE = rule(
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

ALL_RULES: tuple[SecretRule, ...] = (*RULES, *SAAS_RULES, *URL_RULES, GENERIC_RULE)
