"""A recall corpus for the secret scanner, generated at test time: every rule, and look-alikes.

Each rule id has a generator of random values of its shape (random bodies behind the real
prefixes and lengths, keys made by ``cryptography``), placed in the files and contexts such a
credential is found in. Decoys are look-alikes that must stay silent: placeholders, documented
examples, wrong lengths, values glued into longer words, hashes, ids and the false-positive
classes seen on real code. ``PSR_CORPUS_SEED`` replays a run; the seed is in the test output.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

# Where a self-identifying token is found: (file, line template). {v} is the value.
BARE_CONTEXTS = (
    ("bare.py", 'client = Client("{v}")'),
    ("bare.yaml", "value: {v}"),
    ("bare.json", '  "value": "{v}",'),
    ("bare.sh", 'curl -H "X-Key: {v}" https://api.internal/v1'),
    ("bare.env", "SERVICE_CREDENTIAL={v}"),
    ("bare.md", "Log in with `{v}` from now on."),
)


@dataclass(frozen=True)
class Plant:
    rule_id: str
    file: str
    lines: tuple[str, ...]  # the text to add
    value: str  # the credential (for a key: its first body line)
    at: int = 0  # which of the lines the finding is on


@dataclass
class Corpus:
    seed: int
    plants: list[Plant] = field(default_factory=list)
    decoys: list[tuple[str, str]] = field(default_factory=list)  # (file, text)

    def layout(self) -> tuple[dict[str, list[str]], list[tuple[str, int, str]]]:
        """The files' lines, and (file, 1-based line, rule id) of every planted credential.

        Plants and decoys never share a file, and a blank line separates plants.
        """
        files: dict[str, list[str]] = {}
        expected = []
        for plant in self.plants:
            lines = files.setdefault(plant.file, [])
            expected.append((plant.file, len(lines) + plant.at + 1, plant.rule_id))
            lines.extend([*plant.lines, ""])
        for file, text in self.decoys:
            assert file not in {p.file for p in self.plants}, file
            files.setdefault(file, []).extend([*text.splitlines(), ""])
        return files, expected


class Gen:
    """Random values of each rule's shape."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def r(self, alphabet: str, n: int) -> str:
        while True:  # at least one digit and both cases where the alphabet has them
            value = "".join(self.rng.choice(alphabet) for _ in range(n))
            wanted = [s for s in (string.digits, string.ascii_lowercase, string.ascii_uppercase)]
            if all(any(c in s for c in value) for s in wanted if any(c in alphabet for c in s)):
                return value

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def jwt(self, claims: dict[str, object] | None = None) -> str:
        def enc(obj: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        body = claims or {"sub": self.r(string.digits, 9), "iat": 1700000000}
        return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(body)}.{self.r(B64URL, 43)}"

    def discord(self) -> str:
        snowflake = str(self.rng.randint(10**17, 10**19 - 1))
        first = base64.urlsafe_b64encode(snowflake.encode()).rstrip(b"=").decode()
        return f"{first}.{self.r(B64URL, 6)}.{self.r(B64URL, 38)}"

    def basic(self, user: str = "deploy") -> str:
        return base64.b64encode(f"{user}:{self.r(ALNUM, 18)}".encode()).decode()


# rule id -> [(file, template, value maker)]; None for the file/template: every bare context.
Maker = Callable[[Gen], str]
CONTEXTUAL: dict[str, list[tuple[str, str, Maker]]] = {
    "aws-secret-access-key": [
        ("aws.ini", "aws_secret_access_key = {v}", lambda g: g.r(B64, 40)),
        ("main.tf", '  secret_key = "{v}"  # provider "aws"', lambda g: g.r(B64, 40)),
    ],
    "aws-session-token": [
        ("aws.ini", "aws_session_token = {v}", lambda g: "IQoJb3JpZ2luX2Vj" + g.r(B64, 200)),
    ],
    "azure-storage-account-key": [
        (
            "azure.env",
            "STORAGE=DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={v};",
            lambda g: g.r(B64, 86) + "==",
        ),
    ],
    "azure-sas-token": [
        (
            "azure.env",
            "BLOB=https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig={v}",
            lambda g: g.r(ALNUM, 43) + "%3D",
        ),
    ],
    "slack-webhook-url": [
        (
            "hooks.yaml",
            "slack: https://hooks.slack.com/services/{v}",
            lambda g: f"T{g.r(UPPER_ALNUM, 8)}/B{g.r(UPPER_ALNUM, 10)}/{g.r(ALNUM, 24)}",
        ),
    ],
    "twilio-auth-token": [("twilio.env", "TWILIO_AUTH_TOKEN={v}", lambda g: g.r(HEX, 32))],
    "datadog-api-key": [("dd.env", "DD_API_KEY={v}", lambda g: g.r(HEX, 32))],
    "datadog-app-key": [("dd.env", "DD_APP_KEY={v}", lambda g: g.r(HEX, 40))],
    "database-url": [
        (
            "db.env",
            "DATABASE_URL=postgresql://app:{v}@db.internal:5432/app",
            lambda g: g.r(ALNUM, 16),
        ),
        ("db.py", 'r = redis.from_url("rediss://:{v}@cache:6380/0")', lambda g: g.r(ALNUM, 20)),
    ],
    "heroku-api-key": [("heroku.env", "HEROKU_API_KEY={v}", Gen.uuid)],
    "hubspot-api-key": [("hubspot.py", 'HUBSPOT_API_KEY = "{v}"', Gen.uuid)],
    "snyk-api-token": [("snyk.yaml", "snyk_token: {v}", Gen.uuid)],
    "generic-secret": [
        ("app.env", "SESSION_SECRET={v}", lambda g: g.r(ALNUM, 32)),
        ("app.yaml", "  client_secret: {v}", lambda g: g.r(ALNUM + "-_", 40)),
        ("app.py", 'api_key: str = "{v}"', lambda g: g.r(ALNUM, 24)),
        ("app.json", '  "apiToken": "{v}",', lambda g: g.r(HEX, 40)),
    ],
    "url-credentials": [
        (
            "urls.sh",
            "git clone https://deploy:{v}@git.corp.internal/team/app.git",
            lambda g: g.r(ALNUM, 20),
        ),
        (
            "urls.sh",
            "git remote add origin https://ci-bot:{v}@gitlab.corp.net/app.git",
            lambda g: g.r(ALNUM, 24),
        ),
        (
            "requirements.txt",
            "--index-url https://pypi-user:{v}@pypi.corp.net/simple",
            lambda g: g.r(ALNUM, 22),
        ),
        (
            "requirements.txt",
            "--extra-index-url https://reader:{v}@nexus.corp.net/repository/pypi/simple",
            lambda g: g.r(ALNUM, 22),
        ),
        (
            "proxy.env",
            "http_proxy=http://proxyuser:{v}@proxy.corp.net:3128",
            lambda g: g.r(ALNUM, 14),
        ),
        ("proxy.env", "HTTPS_PROXY=socks5h://svc:{v}@10.0.0.7:1080", lambda g: g.r(ALNUM, 14)),
        (
            "pip.conf",
            "index-url = https://builder:{v}@artifacts.corp.net/api/pypi/simple",
            lambda g: g.r(ALNUM, 32),
        ),
        (
            "fetch.py",
            'urlopen("ftp://backup:{v}@files.corp.net/dump.sql")',
            lambda g: g.r(ALNUM, 12),
        ),
    ],
    "docker-registry-auth": [
        (
            "docker/config.json",
            '{{"auths": {{"registry.corp.net": {{"auth": "{v}"}}}}}}',
            Gen.basic,
        ),
    ],
    "http-basic-auth": [
        ("call.sh", 'curl -H "Authorization: Basic {v}" https://api.corp.net/v1', Gen.basic),
    ],
    "discord-webhook-url": [
        (
            "notify.py",
            'HOOK = "https://discord.com/api/webhooks/{v}"',
            lambda g: f"{g.r(string.digits, 18)}/{g.r(B64URL, 68)}",
        ),
    ],
    "microsoft-teams-webhook-url": [
        (
            "notify.yaml",
            "teams: https://corp.webhook.office.com/webhookb2/{v}",
            lambda g: f"{g.uuid()}@{g.uuid()}/IncomingWebhook/{g.r(LOWER_ALNUM, 32)}/{g.uuid()}",
        ),
    ],
}

# rule id -> value maker; each value is planted in every bare context.
BARE: dict[str, Maker] = {
    "aws-access-key-id": lambda g: "AKIA" + g.r(string.ascii_uppercase + "234567", 16),
    "gcp-api-key": lambda g: "AIza" + g.r(B64URL, 35),
    "azure-ad-client-secret": lambda g: g.r(ALNUM, 3) + "8Q~" + g.r(ALNUM + "_-", 34),
    "github-token": lambda g: "ghp_" + g.r(ALNUM, 36),
    "gitlab-token": lambda g: "glpat-" + g.r(B64URL, 20),
    "slack-token": lambda g: (
        f"xoxb-{g.r(string.digits, 12)}-{g.r(string.digits, 13)}-{g.r(ALNUM, 24)}"
    ),
    "stripe-secret-key": lambda g: "sk_live_" + g.r(ALNUM, 32),
    "twilio-api-key": lambda g: "SK" + g.r(HEX, 32),
    "sendgrid-api-key": lambda g: f"SG.{g.r(B64URL, 22)}.{g.r(B64URL, 43)}",
    "mailgun-api-key": lambda g: "key-" + g.r(HEX, 32),
    "shopify-token": lambda g: "shpat_" + g.r(HEX, 32),
    "npm-token": lambda g: "npm_" + g.r(ALNUM, 36),
    "pypi-token": lambda g: "pypi-AgEIcHlwaS5vcmc" + g.r(B64URL, 80),
    "anthropic-api-key": lambda g: "sk-ant-api03-" + g.r(B64URL, 93) + "AA",
    "openai-api-key": lambda g: "sk-proj-" + g.r(B64URL, 64),
    "vault-token": lambda g: "hvs." + g.r(B64URL, 90),
    "jwt": Gen.jwt,
    "discord-bot-token": Gen.discord,
    "huggingface-token": lambda g: "hf_" + g.r(string.ascii_letters, 34),
    "telegram-bot-token": lambda g: f"{g.r(string.digits, 10)}:AA{g.r(B64URL, 33)}",
    "digitalocean-token": lambda g: "dop_v1_" + g.r(HEX, 64),
    "databricks-token": lambda g: "dapi" + g.r(HEX, 32),
    "postman-api-key": lambda g: f"PMAK-{g.r(HEX, 24)}-{g.r(HEX, 34)}",
    "brevo-api-key": lambda g: f"xkeysib-{g.r(HEX, 64)}-{g.r(ALNUM, 16)}",
    "mailchimp-api-key": lambda g: f"{g.r(HEX, 32)}-us{g.rng.randint(1, 21)}",
    "linear-api-key": lambda g: "lin_api_" + g.r(ALNUM, 40),
    "notion-token": lambda g: f"ntn_{g.r(string.digits, 11)}{g.r(ALNUM, 35)}",
    "perplexity-api-key": lambda g: "pplx-" + g.r(ALNUM, 48),
    "grafana-token": lambda g: f"glsa_{g.r(ALNUM, 32)}_{g.r(HEX, 8)}",
    "sentry-token": lambda g: "sntryu_" + g.r(HEX, 64),
    "pulumi-token": lambda g: "pul-" + g.r(HEX, 40),
    "terraform-cloud-token": lambda g: f"{g.r(ALNUM, 14)}.atlasv1.{g.r(B64URL, 67)}",
    "doppler-token": lambda g: "dp.pt." + g.r(ALNUM, 43),
    "dynatrace-token": lambda g: f"dt0c01.{g.r(UPPER_ALNUM, 24)}.{g.r(UPPER_ALNUM, 64)}",
    "new-relic-key": lambda g: "NRAK-" + g.r(UPPER_ALNUM, 27),
    "rubygems-token": lambda g: "rubygems_" + g.r(HEX, 48),
    "clojars-token": lambda g: "CLOJARS_" + g.r(LOWER_ALNUM, 60),
    "age-secret-key": lambda g: "AGE-SECRET-KEY-1" + g.r(BECH32, 58),
    "onepassword-token": lambda g: "ops_eyJ" + g.r(B64, 300),
    "alibaba-access-key-id": lambda g: "LTAI" + g.r(ALNUM, 20),
    "aws-bedrock-api-key": lambda g: "ABSK" + g.r(B64, 132),
    "artifactory-token": lambda g: "AKCp" + g.r(ALNUM, 69),
    "atlassian-api-token": lambda g: "ATATT3" + g.r(B64URL, 186),
    "square-token": lambda g: "sq0atp-" + g.r(B64URL, 22),
    "facebook-access-token": lambda g: "EAAB" + g.r(ALNUM, 160),
    "mapbox-secret-token": lambda g: f"sk.eyJ{g.r(B64URL, 60)}.{g.r(B64URL, 22)}",
    "flyio-token": lambda g: "fo1_" + g.r(B64URL, 43),
    "planetscale-token": lambda g: "pscale_tkn_" + g.r(B64URL, 43),
    "prefect-api-key": lambda g: "pnu_" + g.r(ALNUM, 36),
    "readme-api-key": lambda g: "rdme_" + g.r(LOWER_ALNUM, 70),
    "infracost-api-key": lambda g: "ico-" + g.r(ALNUM, 32),
    "frameio-token": lambda g: "fio-u-" + g.r(B64URL, 64),
    "scalingo-token": lambda g: "tk-us-" + g.r(B64URL, 48),
    "maxmind-license-key": lambda g: f"{g.r(ALNUM, 6)}_{g.r(ALNUM, 29)}_mmk",
    "sourcegraph-token": lambda g: f"sgp_{g.r(HEX, 16)}_{g.r(HEX, 40)}",
    "shippo-api-key": lambda g: "shippo_live_" + g.r(HEX, 40),
    "duffel-api-key": lambda g: "duffel_live_" + g.r(B64URL, 43),
    "easypost-api-key": lambda g: "EZAK" + g.r(ALNUM, 54),
    "cloudflare-origin-ca-key": lambda g: f"v1.0-{g.r(HEX, 24)}-{g.r(HEX, 146)}",
    "adobe-client-secret": lambda g: "p8e-" + g.r(ALNUM, 32),
    "openshift-token": lambda g: "sha256~" + g.r(B64URL, 43),
    "gitlab-runner-registration-token": lambda g: "GR1348941" + g.r(B64URL, 20),
    "octopus-deploy-api-key": lambda g: "API-" + g.r(UPPER_ALNUM, 26),
    "harness-api-key": lambda g: f"pat.{g.r(B64URL, 22)}.{g.r(ALNUM, 24)}.{g.r(ALNUM, 20)}",
    "google-oauth-client-secret": lambda g: "GOCSPX-" + g.r(B64URL, 28),
}


def pem_keys() -> list[tuple[str, str, bytes]]:
    """(rule id, kind, PEM bytes): every key type and format cryptography writes, plain and
    encrypted."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    keys = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    encryptions = {
        "plain": s.NoEncryption(),
        "encrypted": s.BestAvailableEncryption(b"pass-phrase"),
    }
    out = []
    for name, key in keys.items():
        formats = {"pkcs8": s.PrivateFormat.PKCS8, "openssh": s.PrivateFormat.OpenSSH}
        if name != "ed25519":
            formats["traditional"] = s.PrivateFormat.TraditionalOpenSSL  # PKCS#1 / SEC1
        for fmt_name, fmt in formats.items():
            for enc_name, enc in encryptions.items():
                if fmt_name == "openssh" and enc_name == "encrypted":
                    continue  # needs bcrypt; ssh-keygen's own encrypted keys are tested instead
                pem = key.private_bytes(s.Encoding.PEM, fmt, enc)
                rule = "openssh-private-key" if fmt_name == "openssh" else "private-key"
                out.append((rule, f"{name}-{fmt_name}-{enc_name}", pem))
    return out


def service_account_json(g: Gen) -> str:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode()
    project = "etl-" + g.r(string.digits, 6)
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": g.r(HEX, 40),
            "private_key": pem,
            "client_email": f"runner@{project}.iam.gserviceaccount.com",
        },
        indent=2,
    )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decoys(g: Gen) -> list[tuple[str, str]]:
    """Look-alikes that must not be reported, one or more per family of rules."""
    hexes = g.r(HEX, 16)
    return [
        # Published examples and stand-ins
        ("decoy.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"),
        ("decoy.env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("decoy.env", "GITHUB_TOKEN=ghp_" + "x" * 36),
        ("decoy.env", "STRIPE_KEY=sk_live_" + "*" * 24),
        ("decoy.env", "HF_TOKEN=hf_" + "X" * 34),
        ("decoy.env", "HF_TOKEN=${HF_TOKEN}"),
        ("decoy.env", "OPENAI_API_KEY=<your-openai-key>"),
        ("decoy.py", 'password = "password1"'),
        ("decoy.py", 'credentials = {"username": "admin", "password": "P@55w0rd!"}'),
        ("decoy.py", 'token = "token123"'),
        ("decoy.py", 'session_token = "ABC12345"'),
        # Wrong lengths, glued into longer words
        ("decoy.txt", "hf_" + g.r(string.ascii_letters, 20)),
        ("decoy.txt", "xhf_" + g.r(string.ascii_letters, 34) + "x"),
        ("decoy.txt", "ghp_" + g.r(ALNUM, 20)),
        ("decoy.txt", "dop_v1_" + g.r(HEX, 40)),
        ("decoy.txt", "id" + "AKIA" + g.r(string.ascii_uppercase + "234567", 16)),
        ("decoy.txt", "lin_api_" + g.r(ALNUM, 12)),
        # A Discord-shaped value whose first part is not a base64 snowflake
        ("decoy.txt", f"M{g.r(string.ascii_letters, 23)}.{g.r(B64URL, 6)}.{g.r(B64URL, 38)}"),
        # UUIDs and hex: ids and hashes unless a platform's credential name says otherwise
        ("decoy.env", f"REQUEST_ID={g.uuid()}"),
        ("decoy.env", f"HEROKU_APP_ID={g.uuid()}"),
        ("decoy.py", f'commit = "{g.r(HEX, 40)}"'),
        ("decoy.py", f'sha256_token = "{g.r(HEX, 64)}"'),
        ("decoy.json", f'  "AWS::ApiGateway::ApiKey": "{hexes}",'),
        ("decoy.json", f'  "AWS::IAM::AccessKey": "{g.r(HEX, 16)}",'),
        (
            "decoy.json",
            '  "caching/requireAuthorizationForCacheControl": "requireAuthorizationForCacheControl",',
        ),
        ("decoy.py", f'public_key_token = "{g.r(HEX, 16)}"'),
        # Templates, URNs, regexes, constants naming themselves, paginators
        ("decoy.py", 'portfolio_share_token = f"share-{uuid.uuid4().hex}"'),
        (
            "decoy.py",
            'self.secret_arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}"',
        ),
        ("decoy.py", 'SAML_TOKEN_TYPE = "urn:oasis:names:tc:SAML:2.0:assertion"'),
        ("decoy.py", "secret_keyword = r'(?:key|pwd|pw|password|pass|token)'"),
        ("decoy.py", "api_key = r'([a-z0-9]{32})'"),
        ("decoy.py", 'AZURE_CLIENT_SECRET = "AZURE_CLIENT_SECRET"'),
        ("decoy.py", "ENV_VAR_AUTH_TOKEN = 'AWS_CONTAINER_AUTHORIZATION_TOKEN'"),
        ("decoy.json", f'  "NextContinuationToken": "{g.r(B64, 40)}==",'),
        ("decoy.json", '  "PasswordLastUsed": "2016-09-08T21:47:36Z",'),
        ("decoy.json", '  "output_token": "StreamDescription.Shards[-1].ShardId",'),
        ("decoy.py", f"API_KEY = '{g.r(ALNUM, 24)}'  # pragma: allowlist secret"),
        # Credentials in URLs that are not credentials
        ("decoy.md", "git clone https://user:password@github.com/org/repo.git"),
        ("decoy.md", "export http_proxy=http://${USER}:${PASS}@proxy.corp.net:3128"),
        ("decoy.md", "pip install --index-url https://<user>:<pass>@pypi.corp.net/simple pkg"),
        ("decoy.md", f"url = https://deploy:{g.r(ALNUM, 16)}@example.com/app.git"),
        ("decoy.md", "amqp://guest:guest@localhost:5672/"),
        ("decoy.md", "http://admin:admin@127.0.0.1:8080/"),
        ("decoy.md", "proxy = http://{user}:{password}@proxy:3128"),
        ("decoy.md", "url = 'https://%s:%s@%s' % (user, password, host)"),
        ("decoy.md", "smb://myuser:mypassword@myserver.com/share"),
        ("decoy.md", "github://org:repo@sha/path/catalog.yml"),
        ("decoy.md", "http://host.internal:8080@/path"),
        # Basic auth and docker auths of placeholder credentials
        ("decoy.sh", f'curl -H "Authorization: Basic {_b64("user:password")}" https://x.corp'),
        (
            "decoy/config.json",
            '{"auths": {"r.corp.net": {"auth": "' + _b64("admin:changeme") + '"}}}',
        ),
        # Key-shaped text that is no key
        (
            "decoy.md",
            "-----BEGIN RSA PRIVATE KEY-----\n<your private key here>\n-----END RSA PRIVATE KEY-----",
        ),
        (
            "decoy.md",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n"
            + g.r(B64, 70)
            + "\n-----END OPENSSH PRIVATE KEY-----",
        ),
        # Not a JWT: no alg in the header
        (
            "decoy.txt",
            base64.urlsafe_b64encode(b'{"typ":"x"}').rstrip(b"=").decode()
            + f".{g.r(B64URL, 20)}.{g.r(B64URL, 20)}",
        ),
    ]


def build(seed: int) -> Corpus:
    from psr_engine.gates.secret_filters import is_allowed
    from psr_engine.gates.secret_rules import ALL_RULES

    rng = random.Random(seed)
    g = Gen(rng)
    allowlists: dict[str, set[str]] = {}
    for rule in ALL_RULES:
        allowlists.setdefault(rule.id, set()).add(rule.allowlist)
    corpus = Corpus(seed)

    def fresh(rule_id: str, make: Maker, line: str) -> str:
        # Re-rolled only when the allowlist would take it for a stand-in (a random run of six).
        for _ in range(1000):
            value = make(g)
            text = line.format(v=value)
            if any(not is_allowed(value, text, mode) for mode in allowlists[rule_id]):
                return value
        raise AssertionError(f"{rule_id}: every generated value is allowlisted: {value!r}")

    for rule_id, contexts in CONTEXTUAL.items():
        for file, template, make in contexts:
            value = fresh(rule_id, make, template)
            corpus.plants.append(Plant(rule_id, file, (template.format(v=value),), value))
    for rule_id, make in BARE.items():
        for file, template in BARE_CONTEXTS:
            value = fresh(rule_id, make, template)
            corpus.plants.append(Plant(rule_id, file, (template.format(v=value),), value))
    for rule_id, kind, pem in pem_keys():
        text = pem.decode()
        first = text.splitlines()[1]
        corpus.plants.append(Plant(rule_id, f"keys/{kind}.pem", tuple(text.splitlines()), first))
    lines = tuple(service_account_json(g).splitlines())
    index = next(i for i, line in enumerate(lines) if '"private_key":' in line)
    corpus.plants.append(Plant("gcp-service-account-key", "gcp/sa.json", lines, "", at=index))
    corpus.decoys = decoys(g)
    return corpus
