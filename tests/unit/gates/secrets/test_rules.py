"""Each credential rule: found by scan_text, shaped by validate_secret_type, filtered sensibly."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from psr_engine.gates.secret_rules import ALL_RULES
from psr_engine.gates.secrets import SecretScanner

rng = random.Random(7)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def jwt(header: dict[str, str]) -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc(header)}.{enc({'sub': '42'})}.{rand(ALNUM, 43)}"


# (rule id, a line holding a fake value, that value). Random values of the right shape.
CASES = [
    ("aws-access-key-id", "key = '{v}'", "AKIA" + "Q7M2ZK4WBX5NTP3R"),
    ("aws-secret-access-key", "aws_secret_access_key={v}", "Zx9/" + rand(ALNUM, 36)),
    ("aws-session-token", "aws_session_token = {v}", "FwoGZXIvYXdzE" + rand(ALNUM, 150)),
    ("gcp-api-key", "maps = '{v}'", "AIza" + rand(ALNUM, 35)),
    ("azure-storage-account-key", "AccountName=a;AccountKey={v};", rand(ALNUM, 86) + "=="),
    ("azure-ad-client-secret", "s = '{v}'", "a1B8Q~" + rand(ALNUM, 34)),
    ("github-token", "t = '{v}'", "ghu_" + rand(ALNUM, 36)),
    ("gitlab-token", "t = '{v}'", "glpat-" + rand(ALNUM, 20)),
    ("slack-token", "t = '{v}'", "xoxp-1234-5678-" + rand(ALNUM, 24)),
    ("stripe-secret-key", "t = '{v}'", "sk_live_" + rand(ALNUM, 24)),
    ("twilio-api-key", "t = '{v}'", "SK" + rand(HEX, 32)),
    ("sendgrid-api-key", "t = '{v}'", f"SG.{rand(ALNUM, 22)}.{rand(ALNUM, 43)}"),
    ("mailgun-api-key", "t = '{v}'", "key-" + rand(HEX, 32)),
    ("shopify-token", "t = '{v}'", "shpca_" + rand(HEX, 32)),
    ("datadog-api-key", "datadog_api_key: {v}", rand(HEX, 32)),
    ("npm-token", "//registry.npmjs.org/:_authToken={v}", "npm_" + rand(ALNUM, 36)),
    ("pypi-token", "password = {v}", "pypi-AgEIcHlwaS5vcmc" + rand(ALNUM, 80)),
    ("openai-api-key", "t = '{v}'", "sk-" + rand(ALNUM, 48)),
    ("anthropic-api-key", "t = '{v}'", "sk-ant-admin01-" + rand(ALNUM, 93)),
    ("vault-token", "t = '{v}'", "hvs." + rand(ALNUM, 90)),
    ("jwt", "t = '{v}'", jwt({"alg": "RS256", "typ": "JWT"})),
    ("generic-secret", "client_secret: {v}", "q8X" + rand(ALNUM, 29)),
]


@pytest.mark.parametrize(("rule_id", "template", "value"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_finds_its_credential_in_text(scanner, rule_id, template, value):
    findings = scanner.scan_text(template.format(v=value), file="conf.yaml")
    assert [f.rule_id for f in findings] == [rule_id]
    assert findings[0].column == template.index("{v}") + 1
    assert value not in findings[0].snippet


@pytest.mark.parametrize(("rule_id", "template", "value"), CASES, ids=[c[0] for c in CASES])
def test_validate_secret_type_accepts_the_shape(scanner, rule_id, template, value):
    assert scanner.validate_secret_type(value, rule_id)


@pytest.mark.parametrize(
    ("secret", "rule_id"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),  # the documented example has the shape
        ("ghp_" + "a1" * 18, "github-token"),
        ("postgres://app:s3cretPw9@db:5432/x", "database-url"),
    ],
)
def test_validate_secret_type_is_about_shape_only(scanner, secret, rule_id):
    assert scanner.validate_secret_type(secret, rule_id)


@pytest.mark.parametrize(
    ("secret", "rule_id"),
    [
        ("AKIA123", "aws-access-key-id"),
        ("akiaQ7M2ZK4WBX5NTP3R", "aws-access-key-id"),
        ("ghx_" + "a" * 36, "github-token"),
        ("sk_test_" + "a1" * 12, "stripe-secret-key"),
        ("eyJub3QiOiJqd3QifQ.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlMTIz", "jwt"),  # no "alg"
        ("SK" + "0" * 32, "twilio-api-key"),
        ("hello world", "generic-secret"),
    ],
)
def test_validate_secret_type_rejects_other_shapes(scanner, secret, rule_id):
    assert not scanner.validate_secret_type(secret, rule_id)


def test_validate_secret_type_names_known_types_for_an_unknown_one(scanner):
    with pytest.raises(ValueError, match="aws-access-key-id"):
        scanner.validate_secret_type("x", "no-such-type")


def test_rule_ids_are_kebab_case_and_every_rule_has_keywords_or_a_context():
    for rule in ALL_RULES:
        assert rule.id == rule.id.lower() and " " not in rule.id and "_" not in rule.id
        assert rule.keywords or rule.context, rule.id  # never a bare regex over every text
        assert all(k == k.lower() for k in rule.keywords)


def test_pem_keys_of_every_kind_are_found_at_the_begin_line(scanner):
    body = "\n".join(rand(ALNUM, 64) for _ in range(4))
    # An OpenSSH key body always starts with the openssh-key-v1 magic.
    openssh = "b3BlbnNzaC1rZXktdjEAAAAA" + body[24:]
    for kind, rule_id in [
        ("RSA PRIVATE KEY", "private-key"),
        ("EC PRIVATE KEY", "private-key"),
        ("DSA PRIVATE KEY", "private-key"),
        ("PRIVATE KEY", "private-key"),
        ("ENCRYPTED PRIVATE KEY", "private-key"),
        ("OPENSSH PRIVATE KEY", "openssh-private-key"),
    ]:
        text = openssh if kind.startswith("OPENSSH") else body
        pem = f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----\n"
        findings = scanner.scan_text("x = 1\n" + pem, file="k.pem")
        assert [(f.rule_id, f.line, f.column) for f in findings] == [(rule_id, 2, 1)], kind
        assert scanner.validate_secret_type(pem, rule_id)


def test_a_traditional_encrypted_pem_with_headers_is_found(scanner):
    text = (
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        f"DEK-Info: AES-128-CBC,{rand(HEX, 32).upper()}\n\n{rand(ALNUM, 64)}\n"
        "-----END RSA PRIVATE KEY-----\n"
    )
    assert [f.rule_id for f in scanner.scan_text(text, file="k.pem")] == ["private-key"]


def test_a_pem_header_alone_in_documentation_is_not_a_key(scanner):
    text = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    return True\n'
    assert scanner.scan_text(text, file="x.py") == []


def test_a_jwt_needs_a_json_header_naming_alg(scanner):
    good = jwt({"alg": "HS256"})
    bad = jwt({"typ": "JWT"})
    assert [f.rule_id for f in scanner.scan_text(f"a = '{good}'", file="a.py")] == ["jwt"]
    assert scanner.scan_text(f"a = '{bad}'", file="a.py") == []


@pytest.mark.parametrize(
    "url",
    [
        "postgres://etl:Xk29vLq7pW@db.internal/prod",
        "mysql+pymysql://etl:Xk29vLq7pW@10.1.2.3:3306/db",
        "mongodb+srv://etl:Xk29vLq7pW@cluster0.abc.mongodb.net/x",
        "redis://:Xk29vLq7pW@cache:6379/0",
        "amqp://etl:Xk29vLq7pW@rabbit:5672/",
    ],
)
def test_database_urls_with_passwords_are_found_and_only_the_password_redacted(scanner, url):
    (finding,) = scanner.scan_text(f'URL = "{url}"', file="a.py")
    assert finding.rule_id == "database-url"
    assert "Xk29vLq7pW" not in finding.snippet and ":Xk2…@" in finding.snippet
    assert finding.preview == "Xk2…"  # a 10-character password shows a third, not 4


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:password@localhost/db",
        "postgres://postgres:postgres@localhost/db",
        "mysql://root:${MYSQL_PASSWORD}@db/app",
        "redis://cache:6379/0",
        "https://user:Xk29vLq7pW@example.com/",  # not a database scheme
    ],
)
def test_database_urls_without_real_passwords_are_not_findings(scanner, url):
    assert scanner.scan_text(f'URL = "{url}"', file="a.py") == []


def test_the_most_specific_rule_wins_where_rules_overlap(scanner):
    token = "ghp_" + rand(ALNUM, 36)
    findings = scanner.scan_text(f"GITHUB_TOKEN={token}\n", file=".env")
    assert [f.rule_id for f in findings] == ["github-token"]


def test_two_secrets_on_one_line_are_both_redacted_in_both_snippets(scanner):
    a, b = "AKIA" + "Q7M2ZK4WBX5NTP3R", "ghp_" + rand(ALNUM, 36)
    findings = scanner.scan_text(f"keys = ['{a}', '{b}']", file="a.py")
    assert [f.rule_id for f in findings] == ["aws-access-key-id", "github-token"]
    for finding in findings:
        assert a not in finding.snippet and b not in finding.snippet


def test_a_secret_in_a_huge_minified_line_gives_a_short_snippet(scanner):
    token = "ghp_" + rand(ALNUM, 36)
    line = "var a=1;" * 500 + f"t='{token}';" + "var b=2;" * 500
    (finding,) = scanner.scan_text(line, file="app.min.js")
    assert len(finding.snippet) <= 170 and "ghp_…" in finding.snippet


def test_custom_rules_replace_the_defaults():
    only_github = [r for r in ALL_RULES if r.id == "github-token"]
    scanner = SecretScanner(rules=only_github, workers=1)
    text = f"a = 'AKIAQ7M2ZK4WBX5NTP3R'\nb = 'ghp_{rand(ALNUM, 36)}'"
    assert [f.rule_id for f in scanner.scan_text(text, file="a.py")] == ["github-token"]
