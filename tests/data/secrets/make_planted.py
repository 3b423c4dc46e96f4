"""Regenerate tests/data/secrets/planted/: FAKE credentials of the right shape, and EXPECTED.json.

Every value is random (fixed seed, so the output is stable) with the shape of a real credential
type; none is or was a real credential. Run: .venv/bin/python tests/data/secrets/make_planted.py
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from pathlib import Path

from psr_engine.gates.secret_filters import generic_value_ok, is_placeholder

OUT = Path(__file__).parent / "planted"
HEADER = "FAKE credentials generated for psr-engine tests: random values, never real ones"
rng = random.Random(20261126)

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def fresh(make: Callable[[], str], *, generic: bool = False) -> str:
    """A value the allowlist does not mistake for a placeholder (re-rolled until so)."""
    while True:
        value = make()
        if is_placeholder(value):
            continue
        if generic and not generic_value_ok(value, 3.5)[0]:
            continue
        if not any(c.isdigit() for c in value):
            continue
        return value


def pem_body(prefix: str, lines: int, width: int = 64) -> list[str]:
    first = fresh(lambda: prefix + rand(B64, width - len(prefix)))
    return [first] + [rand(B64, width) for _ in range(lines - 2)] + [rand(B64, 20) + "=="]


def jwt() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    claims = json.dumps({"sub": rand(string.digits, 10), "name": rand(string.ascii_lowercase, 8)})
    payload = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{rand(B64URL, 43)}"


def sas_sig() -> str:
    raw = rand(B64, 43) + "="
    return raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


class Planter:
    """Builds the files, recording where each secret sits (file, 1-based line, rule)."""

    def __init__(self) -> None:
        self.expected: list[dict[str, object]] = []
        self.files: dict[str, list[str]] = {}

    def lines(self, file: str, comment: str | None = "#") -> list[str]:
        if file not in self.files:
            self.files[file] = [f"{comment} {HEADER}"] if comment else []
            if file.endswith(".py"):  # data, not code: keep `make lint` off it
                self.files[file][:0] = ["# ruff: noqa", "# fmt: off"]
        return self.files[file]

    def add(self, file: str, text: str, *, comment: str | None = "#") -> None:
        self.lines(file, comment).append(text)

    def plant(
        self, file: str, template: str, rule_id: str, value: str, *, comment: str | None = "#"
    ) -> None:
        lines = self.lines(file, comment)
        lines.append(template.format(v=value))
        self.expected.append(
            {"file": file, "line": len(lines), "rule_id": rule_id, "secret": value}
        )

    def plant_pem(self, file: str, kind: str, prefix: str, rule_id: str, indent: str = "") -> None:
        lines = self.lines(file, None)
        body = pem_body(prefix, 8, 70 if kind == "OPENSSH PRIVATE KEY" else 64)
        lines.append(f"{indent}-----BEGIN {kind}-----")
        self.expected.append(
            {"file": file, "line": len(lines), "rule_id": rule_id, "secret": body[0]}
        )
        lines.extend(indent + line for line in body)
        lines.append(f"{indent}-----END {kind}-----")


def build() -> Planter:
    p = Planter()
    g = lambda make: fresh(make, generic=True)  # noqa: E731

    # .env: cloud and SaaS keys the way deploy scripts keep them
    env = "app.env"
    p.plant(
        env, "AWS_ACCESS_KEY_ID={v}", "aws-access-key-id", fresh(lambda: "AKIA" + rand(B32, 16))
    )
    p.plant(env, "AWS_SECRET_ACCESS_KEY={v}", "aws-secret-access-key", fresh(lambda: rand(B64, 40)))
    p.plant(
        env,
        "AWS_SESSION_TOKEN={v}",
        "aws-session-token",
        fresh(lambda: "IQoJb3JpZ2luX2Vj" + rand(B64, 220)),
    )
    p.plant(
        env,
        "STRIPE_SECRET_KEY={v}",
        "stripe-secret-key",
        fresh(lambda: "sk_live_" + rand(ALNUM, 32)),
    )
    p.plant(
        env,
        "SENDGRID_API_KEY={v}",
        "sendgrid-api-key",
        fresh(lambda: f"SG.{rand(B64URL, 22)}.{rand(B64URL, 43)}"),
    )
    p.plant(env, "DD_API_KEY={v}", "datadog-api-key", fresh(lambda: rand(HEX, 32)))
    p.plant(env, "DD_APP_KEY={v}", "datadog-app-key", fresh(lambda: rand(HEX, 40)))
    p.plant(env, "SESSION_SECRET={v}", "generic-secret", g(lambda: rand(ALNUM, 32)))
    p.plant(env, 'DB_PASSWORD="{v}"', "generic-secret", g(lambda: rand(ALNUM + "!#%", 20)))
    p.plant(
        env, "OPENAI_API_KEY={v}", "openai-api-key", fresh(lambda: "sk-proj-" + rand(B64URL, 64))
    )
    p.plant(
        env,
        "ANTHROPIC_API_KEY={v}",
        "anthropic-api-key",
        fresh(lambda: "sk-ant-api03-" + rand(B64URL, 93) + "AA"),
    )

    # Python: clients built with literals
    py = "settings.py"
    p.plant(py, 'GITHUB_TOKEN = "{v}"', "github-token", fresh(lambda: "ghp_" + rand(ALNUM, 36)))
    p.plant(
        py, 'oauth = {{"token": "{v}"}}', "github-token", fresh(lambda: "gho_" + rand(ALNUM, 36))
    )
    p.plant(
        py,
        'client = Client("{v}")',
        "github-token",
        fresh(lambda: f"github_pat_{rand(ALNUM, 22)}_{rand(ALNUM, 59)}"),
    )
    p.plant(
        py,
        'slack = WebClient(token="{v}")',
        "slack-token",
        fresh(
            lambda: f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(ALNUM, 24)}"
        ),
    )
    p.plant(py, 'TWILIO_API_KEY = "{v}"', "twilio-api-key", fresh(lambda: "SK" + rand(HEX, 32)))
    sid = "AC" + rand(HEX, 32)
    p.plant(
        py,
        f'twilio = TwilioClient("{sid}", "{{v}}")',
        "twilio-auth-token",
        fresh(lambda: rand(HEX, 32)),
    )
    p.plant(py, 'MAILGUN_KEY = "{v}"', "mailgun-api-key", fresh(lambda: "key-" + rand(HEX, 32)))
    p.plant(py, 'api_key: str = "{v}"', "generic-secret", g(lambda: rand(ALNUM, 24)))
    p.plant(
        py,
        'DATABASE_URL = "postgresql://app:{v}@db.internal:5432/orders"',
        "database-url",
        fresh(lambda: rand(ALNUM, 16)),
    )
    p.plant(py, 'headers = {{"Authorization": "Bearer {v}"}}', "jwt", jwt())
    p.plant(
        py,
        'conn = redis.from_url("rediss://:{v}@cache.internal:6380/0")',
        "database-url",
        fresh(lambda: rand(ALNUM, 20)),
    )

    # YAML: CI and app configuration
    yml = "deploy.yaml"
    p.plant(yml, "gitlab_token: {v}", "gitlab-token", fresh(lambda: "glpat-" + rand(B64URL, 20)))
    p.plant(yml, "deploy_token: {v}", "gitlab-token", fresh(lambda: "gldt-" + rand(B64URL, 20)))
    p.plant(yml, "runner_token: {v}", "gitlab-token", fresh(lambda: "glrt-" + rand(B64URL, 20)))
    p.plant(
        yml,
        "slack_webhook: https://hooks.slack.com/services/{v}",
        "slack-webhook-url",
        fresh(lambda: f"T{rand(B32, 8)}/B{rand(B32, 10)}/{rand(ALNUM, 24)}"),
    )
    p.plant(yml, "  client_secret: {v}", "generic-secret", g(lambda: rand(ALNUM + "-_", 40)))
    p.plant(yml, "  vault_token: {v}", "vault-token", fresh(lambda: "hvs." + rand(B64URL, 90)))
    p.plant(
        yml,
        "mongo_uri: mongodb+srv://svc:{v}@cluster0.ab1cd.mongodb.net/app",
        "database-url",
        fresh(lambda: rand(ALNUM, 18)),
    )
    p.plant(yml, "  password: {v}", "generic-secret", g(lambda: rand(ALNUM + "@%^", 18)))
    p.plant(
        yml,
        "azure_client_secret: {v}",
        "azure-ad-client-secret",
        fresh(lambda: rand(ALNUM, 3) + rng.choice(string.digits) + "Q~" + rand(ALNUM + "_-", 34)),
    )

    # JSON: a GCP service account key and an app config
    sa_body = pem_body("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 6)
    sa = {
        "_comment": HEADER,
        "type": "service_account",
        "project_id": "demo-project-123456",
        "private_key_id": rand(HEX, 40),
        "private_key": "-----BEGIN PRIVATE KEY-----\n"
        + "\n".join(sa_body)
        + "\n-----END PRIVATE KEY-----\n",
        "client_email": "etl@demo-project-123456.iam.gserviceaccount.com",
    }
    sa_lines = json.dumps(sa, indent=2).splitlines()
    p.files["gcp-service-account.json"] = sa_lines
    p.expected.append(
        {
            "file": "gcp-service-account.json",
            "line": 6,
            "rule_id": "gcp-service-account-key",
            "secret": sa_body[0],
        }
    )
    assert '"private_key":' in sa_lines[5]
    cfg = "config.json"
    p.add(cfg, "{", comment=None)
    p.add(cfg, f'  "_comment": "{HEADER}",', comment=None)
    p.plant(
        cfg,
        '  "google_maps_key": "{v}",',
        "gcp-api-key",
        fresh(lambda: "AIza" + rand(B64URL, 35)),
        comment=None,
    )
    p.plant(cfg, '  "apiToken": "{v}",', "generic-secret", g(lambda: rand(HEX, 40)), comment=None)
    p.plant(
        cfg,
        '  "storage": "DefaultEndpointsProtocol=https;AccountName=demoacct;'
        'AccountKey={v};EndpointSuffix=core.windows.net",',
        "azure-storage-account-key",
        fresh(lambda: rand(B64, 86) + "=="),
        comment=None,
    )
    p.plant(
        cfg,
        '  "npmToken": "{v}",',
        "npm-token",
        fresh(lambda: "npm_" + rand(ALNUM, 36)),
        comment=None,
    )
    p.plant(
        cfg,
        '  "shopify": "{v}",',
        "shopify-token",
        fresh(lambda: "shpat_" + rand(HEX, 32)),
        comment=None,
    )
    p.plant(
        cfg,
        '  "blobUrl": "https://demoacct.blob.core.windows.net/in/data.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31T00:00:00Z&spr=https&sig={v}"',
        "azure-sas-token",
        fresh(sas_sig),
        comment=None,
    )
    p.add(cfg, "}", comment=None)

    # INI and properties
    ini = "service.ini"
    p.add(ini, "[database]", comment=";")
    p.plant(ini, "password = {v}", "generic-secret", g(lambda: rand(ALNUM, 16)))
    p.add(ini, "[aws]")
    p.plant(
        ini, "aws_access_key_id = {v}", "aws-access-key-id", fresh(lambda: "ASIA" + rand(B32, 16))
    )
    p.plant(
        ini, "aws_secret_access_key = {v}", "aws-secret-access-key", fresh(lambda: rand(B64, 40))
    )
    p.add(ini, "[broker]")
    p.plant(
        ini,
        "url = amqps://etl:{v}@mq.internal:5671/",
        "database-url",
        fresh(lambda: rand(ALNUM, 14)),
    )
    props = "application.properties"
    p.plant(
        props,
        "spring.datasource.url=jdbc:mysql://report:{v}@mysql.internal:3306/reports",
        "database-url",
        fresh(lambda: rand(ALNUM, 15)),
    )
    p.plant(props, "mail.smtp.password={v}", "generic-secret", g(lambda: rand(ALNUM, 22)))
    p.plant(
        props,
        "pypi.token={v}",
        "pypi-token",
        fresh(lambda: "pypi-AgEIcHlwaS5vcmc" + rand(B64URL, 120)),
    )

    # Terraform
    tf = "main.tf"
    p.add(tf, 'provider "aws" {')
    p.plant(tf, '  access_key = "{v}"', "aws-access-key-id", fresh(lambda: "AKIA" + rand(B32, 16)))
    p.plant(tf, '  secret_key = "{v}"', "aws-secret-access-key", fresh(lambda: rand(B64, 40)))
    p.add(tf, "}")
    p.add(tf, 'resource "aws_db_instance" "main" {')
    p.plant(tf, '  password = "{v}"', "generic-secret", g(lambda: rand(ALNUM, 20)))
    p.add(tf, "}")
    p.plant(
        tf,
        'variable "stripe" {{ default = "{v}" }}',
        "stripe-secret-key",
        fresh(lambda: "rk_live_" + rand(ALNUM, 40)),
    )

    # Shell
    sh = "deploy.sh"
    p.add(sh, "#!/bin/sh", comment=None)
    p.add(sh, f"# {HEADER}", comment=None)
    p.plant(sh, "export VAULT_TOKEN={v}", "vault-token", fresh(lambda: "s." + rand(ALNUM, 24)))
    p.plant(sh, 'export NPM_TOKEN="{v}"', "npm-token", fresh(lambda: "npm_" + rand(ALNUM, 36)))
    p.plant(
        sh,
        'curl -H "Authorization: token {v}" https://api.github.com/user',
        "github-token",
        fresh(lambda: "ghs_" + rand(ALNUM, 36)),
    )
    p.plant(
        sh,
        "psql postgres://admin:{v}@10.0.0.5/prod",
        "database-url",
        fresh(lambda: rand(ALNUM, 12)),
    )
    p.plant(sh, "export API_TOKEN={v}", "generic-secret", g(lambda: rand(ALNUM, 30)))

    # JavaScript
    js = "client.js"
    p.plant(
        js,
        "const openai = new OpenAI({{ apiKey: '{v}' }});",
        "openai-api-key",
        fresh(lambda: "sk-" + rand(ALNUM, 20) + "T3BlbkFJ" + rand(ALNUM, 20)),
        comment="//",
    )
    p.plant(
        js,
        "const slackApp = '{v}';",
        "slack-token",
        fresh(lambda: f"xapp-1-A{rand(B32, 10)}-{rand(string.digits, 13)}-{rand(HEX, 64)}"),
        comment="//",
    )
    p.plant(
        js,
        "const shopSecret = '{v}';",
        "shopify-token",
        fresh(lambda: "shpss_" + rand(HEX, 32)),
        comment="//",
    )
    p.plant(js, "const session = '{v}';", "jwt", jwt(), comment="//")
    p.plant(
        js, "const accessKey = '{v}';", "generic-secret", g(lambda: rand(ALNUM, 28)), comment="//"
    )
    p.plant(
        js,
        "const vault = '{v}';",
        "vault-token",
        fresh(lambda: "hvb." + rand(B64URL, 120)),
        comment="//",
    )
    p.plant(
        js,
        "const ghRefresh = '{v}';",
        "github-token",
        fresh(lambda: "ghr_" + rand(ALNUM, 36)),
        comment="//",
    )

    # PEM files, one kind each, and a key pasted into Python source
    p.add("keys/server.pem", f"# {HEADER}", comment=None)
    p.plant_pem("keys/server.pem", "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", "private-key")
    p.plant_pem("keys/server.pem", "EC PRIVATE KEY", "MHcCAQEEI", "private-key")
    p.plant_pem("keys/pkcs8.key", "PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "private-key")
    p.plant_pem("keys/dsa.pem", "DSA PRIVATE KEY", "MIIBuwIBAAKBgQ", "private-key")
    lines = p.lines("keys/encrypted.pem", None)
    body = pem_body("MIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkq", 8)
    lines.append("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    p.expected.append(
        {
            "file": "keys/encrypted.pem",
            "line": len(lines),
            "rule_id": "private-key",
            "secret": body[0],
        }
    )
    lines.extend([*body, "-----END ENCRYPTED PRIVATE KEY-----"])
    p.plant_pem(
        "keys/id_ed25519",
        "OPENSSH PRIVATE KEY",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
        "openssh-private-key",
    )
    p.add("tls_setup.py", 'KEY = """')
    p.plant_pem("tls_setup.py", "RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA", "private-key")
    p.add("tls_setup.py", '"""')
    return p


def notebook(p: Planter) -> None:
    """A notebook whose code cell holds keys: each JSON line of ``source`` is one source line."""
    aws = fresh(lambda: "AKIA" + rand(B32, 16))
    hf = fresh(lambda: "ghp_" + rand(ALNUM, 36))
    jwt_value = jwt()
    source = [
        "import boto3\n",
        f'session = boto3.Session(aws_access_key_id="{aws}")\n',
        f'gh = Github("{hf}")\n',
        f'requests.get(url, headers={{"Authorization": "Bearer {jwt_value}"}})\n',
    ]
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": [HEADER]},
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": source,
            },
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    lines = json.dumps(nb, indent=1).splitlines()
    p.files["analysis.ipynb"] = lines
    for value, rule in ((aws, "aws-access-key-id"), (hf, "github-token"), (jwt_value, "jwt")):
        line = next(i for i, text in enumerate(lines, 1) if value in text)
        p.expected.append(
            {"file": "analysis.ipynb", "line": line, "rule_id": rule, "secret": value}
        )


def main() -> None:
    p = build()
    notebook(p)
    for old in OUT.rglob("*"):
        if old.is_file() and old.name != ".psrignore":
            old.unlink()
    for name, lines in p.files.items():
        path = OUT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / ".psrignore").write_text("# the answer key holds the planted values\nEXPECTED.json\n")
    expected = sorted(p.expected, key=lambda e: (e["file"], e["line"]))
    (OUT / "EXPECTED.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(f"{len(expected)} secrets in {len(p.files)} files")


if __name__ == "__main__":
    main()
