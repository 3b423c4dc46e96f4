"""The aws provider against a real moto server with IAM auth on (see conftest.py)."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest

from psr_engine.secrets import SecretManagerAdapter, resolve_all
from psr_engine.secrets.base import ProviderError, SecretRef, SecretsUnresolved

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Moto = Any  # conftest.Moto: a test module cannot import its conftest under importlib mode
VALUE = 'aws-p@ss"word-' + secrets.token_hex(4)


def unique(prefix: str = "prod/") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def adapter(moto: Moto, **options: Any) -> SecretManagerAdapter:
    return SecretManagerAdapter("aws", endpointUrl=moto.endpoint, region="us-east-1", **options)


def boto_client(moto: Moto) -> Any:
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id=moto.admin[0],
        aws_secret_access_key=moto.admin[1],
    )


async def failure(call: Any, reason: str, *hidden: str) -> str:
    with pytest.raises(ProviderError) as info:
        await call
    message = str(info.value)
    assert info.value.reason == reason, message
    assert "Traceback" not in message and "<?xml" not in message
    for item in (VALUE, *hidden):
        assert item not in message
    return message


async def test_string_secret_put_get_versions_list_delete(aws_env: Moto) -> None:
    aws = adapter(aws_env)
    name = unique()
    await aws.put_secret(name, "old-value-1")
    await aws.put_secret(name, VALUE)
    assert await aws.get_secret(name) == VALUE
    assert await aws.get_secret(name, versionStage="AWSPREVIOUS") == "old-value-1"
    assert name in await aws.list_secrets("prod/")
    await aws.delete_secret(name, force=True)
    await failure(aws.get_secret(name), "not_found")


async def test_json_secret_fields(aws_env: Moto) -> None:
    aws = adapter(aws_env)
    name = unique()
    await aws.put_secret(name, VALUE, key="password")
    await aws.put_secret(name, "app-user", key="user")
    assert await aws.get_secret(name, key="password") == VALUE
    assert json.loads(await aws.get_secret(name)) == {"password": VALUE, "user": "app-user"}
    message = await failure(aws.get_secret(name, key="token"), "not_found", "app-user")
    assert "password" not in message and "user" not in message  # names can be secret
    plain = unique()
    await aws.put_secret(plain, VALUE)
    await failure(aws.get_secret(plain, key="password"), "invalid")


async def test_binary_secrets(aws_env: Moto) -> None:
    client = boto_client(aws_env)
    text_name, raw_name = unique("bin/"), unique("bin/")
    client.create_secret(Name=text_name, SecretBinary=VALUE.encode())
    client.create_secret(Name=raw_name, SecretBinary=b"\xff\x00\xfe\x01")
    aws = adapter(aws_env)
    assert await aws.get_secret(text_name) == VALUE
    message = await failure(aws.get_secret(raw_name), "invalid")
    assert "encoding: base64" in message
    assert (
        await aws.get_secret(raw_name, encoding="base64")
        == base64.b64encode(b"\xff\x00\xfe\x01").decode()
    )


async def test_version_id(aws_env: Moto) -> None:
    client = boto_client(aws_env)
    name = unique()
    first = client.create_secret(Name=name, SecretString="first-value-1")["VersionId"]
    client.put_secret_value(SecretId=name, SecretString=VALUE)
    aws = adapter(aws_env)
    assert await aws.get_secret(name, versionId=first) == "first-value-1"
    assert await aws.get_secret(name) == VALUE


async def test_missing_and_scheduled_for_deletion_are_not_found(aws_env: Moto) -> None:
    aws = adapter(aws_env)
    message = await failure(aws.get_secret("prod/never-created"), "not_found")
    assert "secret prod/never-created (aws)" in message and "region" in message
    await failure(aws.delete_secret("prod/never-created"), "not_found")
    name = unique()
    await aws.put_secret(name, VALUE)
    await aws.delete_secret(name)  # the 30-day recovery window
    await failure(aws.get_secret(name), "not_found")


async def test_bad_keys_are_denied(aws_env: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique()
    await adapter(aws_env).put_secret(name, VALUE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret-key")
    aws = adapter(aws_env)
    message = await failure(aws.get_secret(name), "denied", "not-the-right-secret-key")
    assert "IAM" in message
    await failure(aws.put_secret(name, "new-value-1"), "denied", "new-value-1")
    await failure(aws.delete_secret(name), "denied")
    await failure(aws.list_secrets(), "denied")


async def test_missing_permission_is_denied(aws_env: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique()
    await adapter(aws_env).put_secret(name, VALUE)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws_env.lister[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_env.lister[1])
    aws = adapter(aws_env)
    assert name in await aws.list_secrets()
    message = await failure(aws.get_secret(name), "denied")
    assert "not authorized to perform: secretsmanager:GetSecretValue" in message


async def test_server_down_is_unreachable(aws_env: Moto, dead_port: int) -> None:
    aws = SecretManagerAdapter(
        "aws", endpointUrl=f"http://127.0.0.1:{dead_port}", region="eu-west-1"
    )
    message = await failure(aws.get_secret("prod/x"), "unreachable")
    assert f"http://127.0.0.1:{dead_port}" in message
    await failure(aws.put_secret("prod/x", VALUE), "unreachable")
    await failure(aws.delete_secret("prod/x"), "unreachable")
    await failure(aws.list_secrets(), "unreachable")


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"])
async def test_endpoint_from_the_environment(
    aws_env: Moto, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    name = unique()
    await adapter(aws_env).put_secret(name, VALUE)
    monkeypatch.setenv(variable, aws_env.endpoint)
    assert await SecretManagerAdapter("aws").get_secret(name) == VALUE


async def test_no_region_is_invalid(aws_env: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    message = await failure(SecretManagerAdapter("aws").get_secret("prod/x"), "invalid")
    assert "no AWS region" in message and "AWS_REGION" in message


async def test_resolve_all_mixes_successes_and_failures(aws_env: Moto, dead_port: int) -> None:
    name = unique()
    await adapter(aws_env).put_secret(name, VALUE, key="token")
    common = {"endpointUrl": aws_env.endpoint, "region": "us-east-1"}
    good = SecretRef("API_TOKEN", "aws", {"name": name, "key": "token", **common})
    assert await resolve_all([good]) == {"API_TOKEN": VALUE}
    gone = SecretRef("GONE", "aws", {"name": "prod/gone", **common})
    down = SecretRef("DOWN", "aws", {"name": name, "endpointUrl": f"http://127.0.0.1:{dead_port}"})
    with pytest.raises(SecretsUnresolved) as info:
        await resolve_all([good, gone, down])
    assert {(f.secret, f.reason) for f in info.value.failures} == {
        ("GONE", "not_found"),
        ("DOWN", "unreachable"),
    }
    assert VALUE not in str(info.value)
