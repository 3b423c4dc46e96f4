"""The vault provider against a real OpenBao dev server (see conftest.py)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from psr_engine.secrets import SecretManagerAdapter, resolve_all
from psr_engine.secrets.base import ProviderError, SecretRef, SecretsUnresolved

Bao = Any  # conftest.Bao: a test module cannot import its conftest under importlib mode

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

VALUE = "db-p@ss'word-" + secrets.token_hex(4)


def unique(prefix: str = "app/") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def failure(call: Any, reason: str, *hidden: str) -> str:
    """Await ``call``, expect a ProviderError with ``reason``, and check no value leaks."""
    with pytest.raises(ProviderError) as info:
        await call
    message = str(info.value)
    assert info.value.reason == reason, message
    assert "Traceback" not in message
    for item in (VALUE, *hidden):
        assert item not in message
    return message


async def test_kv2_get_put_version_list_delete(vault_env: Bao) -> None:
    vault = SecretManagerAdapter("vault")
    path = unique()
    await vault.put_secret(path, "first-version-1", key="password")
    await vault.put_secret(path, VALUE, key="password")
    await vault.put_secret(path, "app-user", key="user")  # keeps password
    assert await vault.get_secret(path, key="password") == VALUE
    assert await vault.get_secret(path, key="password", version=1) == "first-version-1"
    message = await failure(vault.get_secret(path), "invalid", "app-user")
    assert "2 fields" in message and "password" not in message  # names can be secret
    folder, name = path.split("/")
    assert name in await vault.list_secrets(folder)
    await vault.delete_secret(path)
    await failure(vault.get_secret(path, key="password"), "not_found")


async def test_single_field_secret_needs_no_key(vault_env: Bao) -> None:
    vault = SecretManagerAdapter("vault")
    path = unique()
    await vault.put_secret(path, {"token": VALUE})
    assert await vault.get_secret(path) == VALUE


async def test_kv1_mount(vault_env: Bao) -> None:
    vault = SecretManagerAdapter("vault", mount="kv1", kvVersion=1)
    path = unique()
    await vault.put_secret(path, {"password": VALUE, "user": "app"})
    assert await vault.get_secret(path, key="password") == VALUE
    assert await vault.list_secrets("app") != []
    await vault.delete_secret(path)
    await failure(vault.get_secret(path, key="password"), "not_found")
    await failure(vault.delete_secret(path), "not_found")


async def test_missing_secret_and_missing_field_are_not_found(vault_env: Bao) -> None:
    vault = SecretManagerAdapter("vault")
    message = await failure(vault.get_secret("app/never-written", key="x"), "not_found")
    assert "secret/app/never-written (KV v2)" in message and "secret app/never-written" in message
    path = unique()
    await vault.put_secret(path, {"user": "someone-1"})
    message = await failure(vault.get_secret(path, key="password"), "not_found", "someone-1")
    assert "'password'" in message and "user" not in message  # names can be secret
    assert await vault.list_secrets("no/such/folder") == []


async def test_bad_token_is_denied(vault_env: Bao, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "not-a-real-token-12345")
    vault = SecretManagerAdapter("vault")
    message = await failure(vault.get_secret("app/x", key="k"), "denied", "not-a-real-token-12345")
    assert "VAULT_TOKEN" in message
    await failure(vault.put_secret("app/x", VALUE, key="k"), "denied")
    await failure(vault.delete_secret("app/x"), "denied")
    await failure(vault.list_secrets("app"), "denied")


async def test_policy_limits_are_denied(vault_env: Bao, monkeypatch: pytest.MonkeyPatch) -> None:
    path = unique()
    await SecretManagerAdapter("vault").put_secret(path, VALUE, key="k")
    monkeypatch.setenv("VAULT_TOKEN", vault_env.reader_token)
    reader = SecretManagerAdapter("vault")
    assert await reader.get_secret(path, key="k") == VALUE
    await failure(reader.get_secret("other/place", key="k"), "denied", vault_env.reader_token)
    await failure(reader.put_secret(path, "new-value-1", key="k"), "denied", "new-value-1")


async def test_no_token_at_all_says_how_to_get_one(
    vault_env: Bao, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    message = await failure(SecretManagerAdapter("vault").get_secret("app/x", key="k"), "denied")
    assert "no Vault token" in message and "VAULT_TOKEN" in message


async def test_server_down_is_unreachable(vault_env: Bao, dead_port: int) -> None:
    vault = SecretManagerAdapter("vault", address=f"http://127.0.0.1:{dead_port}")
    message = await failure(vault.get_secret("app/x", key="k"), "unreachable", vault_env.root_token)
    assert "cannot reach Vault at http://127.0.0.1:" in message
    await failure(vault.put_secret("app/x", VALUE, key="k"), "unreachable")
    await failure(vault.delete_secret("app/x"), "unreachable")
    await failure(vault.list_secrets(""), "unreachable")


async def test_approle_login_reads_with_its_policy(
    vault_env: Bao, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = unique()
    await SecretManagerAdapter("vault").put_secret(path, VALUE, key="k")
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("PSR_TEST_SECRET_ID", vault_env.secret_id)
    auth = {"method": "approle", "roleId": vault_env.role_id, "secretIdEnv": "PSR_TEST_SECRET_ID"}
    assert await SecretManagerAdapter("vault", auth=auth).get_secret(path, key="k") == VALUE
    monkeypatch.setenv("PSR_TEST_SECRET_ID", "00000000-0000-0000-0000-000000000000")
    message = await failure(
        SecretManagerAdapter("vault", auth=auth).get_secret(path, key="k"), "denied"
    )
    assert "approle login" in message and vault_env.secret_id not in message


async def test_resolve_all_reports_each_vault_failure(vault_env: Bao, dead_port: int) -> None:
    path = unique()
    await SecretManagerAdapter("vault").put_secret(path, VALUE, key="password")
    good = SecretRef("DB_PASSWORD", "vault", {"path": path, "key": "password"})
    missing = SecretRef("GONE", "vault", {"path": "app/gone", "key": "password"})
    down = SecretRef("DOWN", "vault", {"path": path, "address": f"http://127.0.0.1:{dead_port}"})
    assert await resolve_all([good]) == {"DB_PASSWORD": VALUE}
    with pytest.raises(SecretsUnresolved) as info:
        await resolve_all([good, missing, down])
    assert {(f.secret, f.reason) for f in info.value.failures} == {
        ("GONE", "not_found"),
        ("DOWN", "unreachable"),
    }
    assert VALUE not in str(info.value) and vault_env.root_token not in str(info.value)
