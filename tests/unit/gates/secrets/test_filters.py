"""False-positive control: pragma, placeholders, env reads, hashes, UUIDs, entropy, names."""

from __future__ import annotations

import pytest

from psr_engine.gates.secret_filters import (
    generic_name_ok,
    generic_value_ok,
    is_placeholder,
    shannon_entropy,
)

TOKEN = "ghp_R8fK2nQ7xW4mZ1vB6tY9cL3dH5jS0aPeUiOk"


def test_the_inline_pragma_silences_its_line_only(scanner):
    text = f"a = '{TOKEN}'  # psr: ignore-secret\nb = '{TOKEN[:-1]}X'\n"
    assert [f.line for f in scanner.scan_text(text, file="a.py")] == [2]


def test_the_pragma_on_a_pem_begin_line_silences_the_key(scanner):
    body = "MIIEow" + "Ab3dE5fG7h" * 6
    begin = "-----BEGIN RSA PRIVATE KEY----- psr: ignore-secret"
    text = f"{begin}\n{body}\n-----END RSA PRIVATE KEY-----"
    assert scanner.scan_text(text, file="k.pem") == []


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "changeme",
        "<your-key>",
        "your_api_key_here",
        "${API_TOKEN}",
        "$API_TOKEN",
        "{{ vault_token }}",
        "%(password)s",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk_live_************************",
        "dummy-api-key-9f8e7d",
        "my-test-token-42",
        "fake_secret_001",
        "sample-Key-2024",
        "AAAAAAAAAAAAAAAA1",
        "pw1234567890",
        "abcdefgh42",
    ],
)
def test_placeholders_and_examples_are_recognised(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", [TOKEN, "Zq8vN2kLp4", "k8Jd/2nQpL0xZr7TvW+eYb3mHs9uFa1cGi5oNtRq"])
def test_random_values_are_not_placeholders(value):
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    "line",
    [
        'commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"',
        'sha256_token = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
        'api_key_checksum: "d41d8cd98f00b204e9800998ecf8427e"',
        'auth_token = "123e4567-e89b-12d3-a456-426614174000"',
        '"integrity": "sha512-Wf5V3RX4gk4BvK3nQ3tM9u5mXm1FtRqzC5r7Yb2sLkP8eH0aJ6dN1cG4iO9u"',
    ],
)
def test_hashes_and_uuids_in_their_contexts_are_not_secrets(scanner, line):
    assert scanner.scan_text(line, file="a.py") == []


def test_the_same_hex_beside_a_secret_name_without_hash_words_is_a_secret(scanner):
    line = 'api_token = "9fceb02d0ae598e95dc970b74767f19372d61af8"'
    assert [f.rule_id for f in scanner.scan_text(line, file="a.py")] == ["generic-secret"]


@pytest.mark.parametrize(
    "line",
    [
        'token = os.environ["GITHUB_TOKEN"]',
        'password = os.getenv("DB_PASSWORD", "")',
        "const apiKey = process.env.API_KEY;",
        "token = next_token(stream)",  # code, not a literal
        'password = "hunter2"',  # too short and simple to be called random
        'secret_name = "prod/api-token-2024"',  # a name, not a secret
        'token_type = "Bearer8472"',
        'author = "Guido van Rossum 1991"',
        'auth_url = "https://login.example.com/oauth2/token"',
        'tokenizer = "bert-base-uncased-v2"',
    ],
)
def test_env_reads_code_and_non_secret_names_are_ignored(scanner, line):
    assert scanner.scan_text(line, file="a.py") == []


def test_bare_values_count_in_config_files_but_not_in_code(scanner):
    line = "api_token = q8X4mZ1vB6tY9cL3dH5jS0aPe\n"
    assert [f.rule_id for f in scanner.scan_text(line, file="app.ini")] == ["generic-secret"]
    assert [f.rule_id for f in scanner.scan_text(line, file=".env")] == ["generic-secret"]
    assert scanner.scan_text(line, file="app.py") == []


@pytest.mark.parametrize(
    "line",
    [
        'password = "q8X4mZ1vB6tY9cL3"',
        "DB_PASSWORD='q8X4mZ1vB6tY9cL3'",
        '"apiKey": "q8X4mZ1vB6tY9cL3"',
        "password: str = 'q8X4mZ1vB6tY9cL3'",
        "connect(passwd='q8X4mZ1vB6tY9cL3')",
        "headers['X-Auth-Token'] = 'q8X4mZ1vB6tY9cL3'",
        "$client_secret = 'q8X4mZ1vB6tY9cL3';",
        'private_key := "q8X4mZ1vB6tY9cL3"',
        ':access_key => "q8X4mZ1vB6tY9cL3"',
    ],
)
def test_generic_assignments_in_many_syntaxes_are_found(scanner, line):
    assert [f.rule_id for f in scanner.scan_text(line, file="a.py")] == ["generic-secret"]


def test_a_higher_entropy_threshold_reports_less(scanner):
    from psr_engine.gates.secrets import SecretScanner

    # Random hex reaches ~3.9 bits; hex is held to half a bit below the threshold.
    line = 'api_token = "3f9c1e7a0b2d4c6e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e"'
    assert scanner.scan_text(line, file="a.py")
    assert SecretScanner(entropy_threshold=4.5, workers=1).scan_text(line, file="a.py") == []


def test_shannon_entropy_measures_bits_per_character():
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2
    assert shannon_entropy("") == 0


def test_generic_values_must_look_random():
    assert generic_value_ok("q8X4mZ1vB6tY9cL3", 3.5)[0]
    assert not generic_value_ok("someCamelCaseName", 3.5)[0]  # no digit
    assert not generic_value_ok("/etc/ssl/private/k1.pem", 3.5)[0]  # a path
    assert not generic_value_ok("settings.SECRET_KEY", 3.5)[0]  # a dotted name


@pytest.mark.parametrize("name", ["DB_PASSWORD", "apiKey", "auth.token", "client_secret"])
def test_secret_names_hold_secrets(name):
    assert generic_name_ok(name)


@pytest.mark.parametrize(
    "name", ["password_field", "token_url", "secret_name", "author", "max_tokens"]
)
def test_names_about_secrets_do_not(name):
    assert not generic_name_ok(name)
