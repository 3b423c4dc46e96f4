"""Tokens that identify themselves are found bare: no name, no assignment, any file."""

from __future__ import annotations

import base64
import random
import string

import pytest

rng = random.SystemRandom()
B64URL = string.ascii_letters + string.digits + "-_"


def _random(alphabet: str, n: int) -> str:
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def discord_bot_token() -> str:
    bot_id = str(rng.randint(10**17, 10**19 - 1)).encode()
    first = base64.urlsafe_b64encode(bot_id).rstrip(b"=").decode()
    return f"{first}.{_random(B64URL, 6)}.{_random(B64URL, 38)}"


def hugging_face_token() -> str:
    return "hf_" + _random(string.ascii_letters, 34)


@pytest.mark.parametrize(
    ("make", "rule_id"),
    [(discord_bot_token, "discord-bot-token"), (hugging_face_token, "huggingface-token")],
)
@pytest.mark.parametrize("template", ["{v}", "see {v} above", "['{v}']", "`{v}`"])
def test_discord_and_hugging_face_tokens_are_found_bare(scanner, make, rule_id, template):
    value = make()
    findings = scanner.scan_text(template.format(v=value), file="notes.txt")
    assert [(f.rule_id, f.severity) for f in findings] == [(rule_id, "high")]


def test_a_discord_shaped_value_that_is_no_bot_id_is_not_reported(scanner):
    fake = f"M{_random(string.ascii_letters, 23)}.{_random(B64URL, 6)}.{_random(B64URL, 38)}"
    assert scanner.scan_text(fake, file="notes.txt") == []


@pytest.mark.parametrize(
    ("line", "rule_id"),
    [
        ("HEROKU_API_KEY=3f2a9c41-7b1e-4d2a-9e0f-5c8b7a6d1e23", "heroku-api-key"),
        ('hubspot_api_key: "9a1c7e2b-44f0-4c3e-8d21-6b5a0f9e7c13"', "hubspot-api-key"),
        ("SNYK_TOKEN=0c9e8d7f-1a2b-4c3d-9e8f-7a6b5c4d3e2f", "snyk-api-token"),
    ],
)
def test_uuid_shaped_platform_keys_are_found_in_their_context(scanner, line, rule_id):
    assert [f.rule_id for f in scanner.scan_text(line, file=".env")] == [rule_id]


@pytest.mark.parametrize(
    "line",
    [
        "REQUEST_ID=3f2a9c41-7b1e-4d2a-9e0f-5c8b7a6d1e23",
        "HEROKU_APP_ID=3f2a9c41-7b1e-4d2a-9e0f-5c8b7a6d1e23",
    ],
)
def test_a_uuid_without_a_platform_key_name_is_an_id(scanner, line):
    assert scanner.scan_text(line, file=".env") == []
