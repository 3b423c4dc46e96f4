"""The classes of false positives seen on real code (a venv's site-packages), fixed as classes.

Each line is a shape that third-party code is full of; none holds a credential. Beside them,
the nearest shapes that do hold one stay reported.
"""

from __future__ import annotations

import pytest

HEX16 = "b899a0d240b53d9d"
HEX32 = "9f3c2a7b5e1d4c8a0b6f2e9d7c3a1b5e"


@pytest.mark.parametrize(
    ("file", "line"),
    [
        # A secret word inside a qualified key names a thing, it does not assign a secret.
        ("schema.json", f'  "AWS::ApiGateway::ApiKey": "{HEX16}",'),
        ("schema.json", f'  "AWS::SecretsManager::Secret": "{HEX16}",'),
        (
            "models.py",
            '"caching/requireAuthorizationForCacheControl": "requireAuthorizationForCacheControl",',
        ),
        # Hex without a credential name (or too short to be a key) is a hash or an id.
        ("app.py", f'publicKeyToken = "{HEX16}"'),
        ("app.env", f"API_KEY={HEX16}"),
        # Interpolation: the value is built at run time.
        ("models.py", 'portfolio_share_token = f"share-{random.get_id(12)}"'),
        ("models.py", 'self.request_token_arn = f"arn:aws:s3:{region}:{account_id}:token/{name}"'),
        ("lexer.py", "_token_compound = rf'(?:[{ident}]+)'"),
        # URNs and ARNs, regexes, constants whose value is their own (or an env var's) name.
        ("msal.py", 'SAML_TOKEN_TYPE_V1 = "urn:oasis:names:tc:SAML:1.0:assertion"'),
        ("msal.py", 'DEVICE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:device_code"'),
        ("plugin.py", "password = r'([a-z0-9]{24,40})'"),
        ("plugin.py", "secret_keyword = r'(?:key|pwd|pw|password|pass|token)'"),
        ("consts.py", 'AZURE_CLIENT_CERTIFICATE_PASSWORD = "AZURE_CLIENT_CERTIFICATE_PASSWORD"'),
        ("consts.py", "ENV_VAR_AUTH_TOKEN = 'AWS_CONTAINER_AUTHORIZATION_TOKEN'"),
        # Placeholder words dressed up, and typed sequences.
        ("doc.py", "user = User(username='scolvin', password='password1')"),
        ("doc.py", 'credentials = StaticCredentials(token="token123")'),
        ("mock.py", 'credentials = {"username": "admin", "password": "P@55w0rd!"}'),
        ("mock.py", '"SessionToken": "ABC12345",'),
        # Tokens that page, deduplicate or verify, dates, paths.
        (
            "examples.json",
            '"NextContinuationToken": "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==",',
        ),
        ("examples.json", '"PasswordLastUsed": "2016-09-08T21:47:36Z",'),
        ("paginators.json", '"output_token": "StreamDescription.Shards[-1].ShardId",'),
        # Another scanner's allowlist comment.
        ("README.md", "API_KEY = 'Zq8vN2kLp4Rt7Yw1'    # pragma: allowlist secret"),
        ("README.md", "token = 'Zq8vN2kLp4Rt7Yw1'  # gitleaks:allow"),
    ],
)
def test_the_class_is_not_reported(scanner, file, line):
    assert scanner.scan_text(line, file=file) == []


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("settings.json", f'  "api_key": "{HEX32}",'),
        ("app.env", f"CLIENT_SECRET={HEX32}"),
        ("config.yaml", "  password: Zq8vN2kLp4Rt7Yw1"),
        ("app.py", 'auth_token = "Zq8vN2kLp4Rt7Yw1xB3m"'),
    ],
)
def test_the_nearest_real_shapes_are_still_reported(scanner, file, line):
    assert [f.rule_id for f in scanner.scan_text(line, file=file)] == ["generic-secret"]
