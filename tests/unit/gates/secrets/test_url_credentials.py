"""Passwords in URLs, docker auths and basic-auth headers; and the stand-ins that are not."""

from __future__ import annotations

import base64
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits


def _password() -> str:
    rng = random.SystemRandom()
    while True:
        value = "".join(rng.choice(ALNUM) for _ in range(20))
        if any(c.isdigit() for c in value) and not value.isdigit():
            return value


SHAPES = [
    ("deploy.sh", "git clone https://ci-bot:{v}@git.corp.net/team/app.git", "url-credentials"),
    (
        "remote.sh",
        "git remote set-url origin https://deploy:{v}@github.com/org/app.git",
        "url-credentials",
    ),
    ("requirements.txt", "--index-url https://reader:{v}@pypi.corp.net/simple", "url-credentials"),
    (
        "requirements.txt",
        "--extra-index-url https://reader:{v}@nexus.corp.net/simple",
        "url-credentials",
    ),
    ("proxy.env", "http_proxy=http://proxyuser:{v}@proxy.corp.net:3128", "url-credentials"),
    ("config.py", 'BASE = "https://api-user:{v}@api.partner.io/v2"', "url-credentials"),
    ("ci.yaml", "url: ssh://builder:{v}@build.corp.net:2222/repo", "url-credentials"),
]


@pytest.mark.parametrize(
    ("file", "template", "rule_id"), SHAPES, ids=[s[1].split()[0] for s in SHAPES]
)
def test_a_password_in_a_url_is_found(scanner, file, template, rule_id):
    value = _password()
    findings = scanner.scan_text(template.format(v=value), file=file)
    assert [(f.rule_id, f.severity, f.column) for f in findings] == [
        (rule_id, "high", template.index("{v}") + 1)
    ]
    assert value not in findings[0].snippet


def test_a_docker_config_auth_is_found(scanner):
    auth = base64.b64encode(f"robot$ci:{_password()}".encode()).decode()
    text = (
        '{\n  "auths": {\n    "registry.corp.net": {\n      "auth": "' + auth + '"\n    }\n  }\n}'
    )
    findings = scanner.scan_text(text, file=".docker/config.json")
    assert [(f.rule_id, f.line) for f in findings] == [("docker-registry-auth", 4)]


def test_a_basic_auth_header_is_found(scanner):
    auth = base64.b64encode(f"svc:{_password()}".encode()).decode()
    findings = scanner.scan_text(f'curl -H "Authorization: Basic {auth}" https://x.io', file="a.sh")
    assert [f.rule_id for f in findings] == ["http-basic-auth"]


@pytest.mark.parametrize(
    "line",
    [
        "git clone https://user:password@github.com/org/repo.git",
        "http_proxy=http://${USER}:${PASS}@proxy.corp.net:3128",
        "pip install --index-url https://<user>:<pass>@pypi.corp.net/simple x",
        "pip install --index-url https://{user}:{password}@pypi.corp.net/simple x",
        "url = 'https://%s:%s@%s' % (user, password, host)",
        "https://username:changeme@registry.corp.net",
        "http://admin:admin@127.0.0.1:8080/",
        "https://deploy:Xk29fLq0Zr8mPw@example.com/app.git",
        "https://deploy:Xk29fLq0Zr8mPw@git.example/app.git",
        "smb://myuser:mypassword@myserver.com/share",
        "github://org:repo@sha/precip/catalog.yml",
        "http://host.internal:8080@/path",
        "https://foo.com:123,foo:bar@bar.com/path",
        'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://x.io',
    ],
)
def test_stand_ins_and_documentation_urls_are_not_reported(scanner, line):
    assert scanner.scan_text(line, file="README.md") == []
