"""The azure provider against the Key Vault stand-in (see conftest.py for why a stand-in).

The SDK is the real azure-keyvault-secrets: its HTTPS pipeline, the 401 challenge and the
token exchange all run; only the service behind it is small. The credential is a fixed
token because DefaultAzureCredential needs Entra ID, which cannot be reached offline.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from psr_engine.secrets import SecretManagerAdapter, resolve_all
from psr_engine.secrets.base import ProviderError, SecretRef, SecretsUnresolved

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KeyVault = Any  # conftest.KeyVault: a test module cannot import its conftest (importlib mode)
VALUE = "az-p@ss/word+" + secrets.token_hex(4)


def unique() -> str:
    return f"app-{secrets.token_hex(4)}"


async def failure(call: Any, reason: str, *hidden: str) -> str:
    with pytest.raises(ProviderError) as info:
        await call
    message = str(info.value)
    assert info.value.reason == reason, message
    assert "Traceback" not in message
    for item in (VALUE, "good-token", "forbidden-token", *hidden):
        assert item not in message
    return message


async def test_put_get_versions_list_delete(keyvault: KeyVault) -> None:
    options = keyvault.options()
    azure = SecretManagerAdapter("azure", **options)
    name = unique()
    await azure.put_secret(name, "old-value-1")
    await azure.put_secret(name, VALUE)
    assert await azure.get_secret(name) == VALUE
    first_version = keyvault.store[name][0][0]
    assert await azure.get_secret(name, version=first_version) == "old-value-1"
    assert name in await azure.list_secrets("app-")
    await azure.delete_secret(name)
    await failure(azure.get_secret(name), "not_found")
    # The SDK really went through the challenge and asked for a Key Vault token.
    assert "https://vault.azure.net/.default" in options["credential"].scopes


async def test_json_secret_fields(keyvault: KeyVault) -> None:
    azure = SecretManagerAdapter("azure", **keyvault.options())
    name = unique()
    await azure.put_secret(name, VALUE, key="password")
    await azure.put_secret(name, "app-user", key="user")
    assert await azure.get_secret(name, key="password") == VALUE
    assert json.loads(await azure.get_secret(name)) == {"password": VALUE, "user": "app-user"}
    message = await failure(azure.get_secret(name, key="token"), "not_found", "app-user")
    assert "password" not in message and "user" not in message  # names can be secret


async def test_missing_secret_is_not_found(keyvault: KeyVault) -> None:
    azure = SecretManagerAdapter("azure", **keyvault.options())
    message = await failure(azure.get_secret("never-set"), "not_found")
    assert "'never-set'" in message and keyvault.url in message
    await failure(azure.delete_secret("never-set"), "not_found")


@pytest.mark.parametrize("token", ["expired-or-wrong-token", "forbidden-token"])
async def test_bad_or_forbidden_token_is_denied(
    keyvault: KeyVault, fixed_credential: Any, token: str
) -> None:
    azure = SecretManagerAdapter("azure", **keyvault.options(credential=fixed_credential(token)))
    message = await failure(azure.get_secret("anything"), "denied", token)
    assert "Key Vault Secrets User" in message or "sign in" in message
    await failure(azure.put_secret("anything", VALUE), "denied", token)
    await failure(azure.delete_secret("anything"), "denied", token)
    await failure(azure.list_secrets(), "denied", token)


async def test_default_credential_offline_is_denied_with_a_hint(
    keyvault: KeyVault, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """No credential given: DefaultAzureCredential finds no identity here (no az login, no
    AZURE_* variables) and the failure is a clear "denied", not a traceback."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    options = keyvault.options()
    del options["credential"]
    message = await failure(SecretManagerAdapter("azure", **options).get_secret("x-1"), "denied")
    assert "authentication to" in message and "az login" in message


async def test_server_down_is_unreachable(keyvault: KeyVault, dead_port: int) -> None:
    options = keyvault.options(vaultUrl=f"https://127.0.0.1:{dead_port}")
    azure = SecretManagerAdapter("azure", **options)
    message = await failure(azure.get_secret("x-1"), "unreachable")
    assert f"https://127.0.0.1:{dead_port}" in message
    await failure(azure.put_secret("x-1", VALUE), "unreachable")
    await failure(azure.delete_secret("x-1"), "unreachable")
    await failure(azure.list_secrets(), "unreachable")


async def test_untrusted_certificate_is_unreachable_with_a_tls_hint(keyvault: KeyVault) -> None:
    options = keyvault.options()
    del options["connectionVerify"]
    message = await failure(
        SecretManagerAdapter("azure", **options).get_secret("x-1"), "unreachable"
    )
    assert "certificate is not trusted" in message and "connectionVerify" in message


async def test_resolve_all_with_azure(keyvault: KeyVault, dead_port: int) -> None:
    name = unique()
    await SecretManagerAdapter("azure", **keyvault.options()).put_secret(name, VALUE)
    good = SecretRef("SAS_TOKEN", "azure", {**keyvault.options(), "name": name})
    gone = SecretRef("GONE", "azure", {**keyvault.options(), "name": "gone-1"})
    down = SecretRef(
        "DOWN",
        "azure",
        {**keyvault.options(vaultUrl=f"https://127.0.0.1:{dead_port}"), "name": name},
    )
    assert await resolve_all([good]) == {"SAS_TOKEN": VALUE}
    with pytest.raises(SecretsUnresolved) as info:
        await resolve_all([good, gone, down])
    assert {(f.secret, f.reason) for f in info.value.failures} == {
        ("GONE", "not_found"),
        ("DOWN", "unreachable"),
    }
    assert VALUE not in str(info.value)
