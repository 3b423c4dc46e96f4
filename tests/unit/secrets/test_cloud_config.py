"""Load-time checks of the cloud providers, and the GCP provider's error mapping.

GCP has no emulator for Secret Manager that installs here, so its client is replaced by a
fake raising the real google.api_core exceptions: what is tested is our mapping of them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from psr_engine.secrets.aws import AwsProvider
from psr_engine.secrets.base import ProviderError, SecretRef
from psr_engine.secrets.gcp import GcpProvider
from psr_engine.secrets.vault import VaultProvider

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({"method": "ldap"}, "auth.method must be one of token, approle, jwt, kubernetes"),
        ({"method": "approle"}, "approle needs roleId"),
        ({"method": "jwt", "role": "ci"}, "jwt needs jwtEnv or jwtFile"),
        ({"method": "kubernetes"}, "kubernetes needs role"),
        ({"method": "token", "token": "hvs.x"}, "a token never goes in a manifest"),
        ("approle", "field 'auth' must be a mapping"),
    ],
)
def test_vault_auth_config_errors(auth: Any, expected: str) -> None:
    errors = VaultProvider().validate({"path": "etl", "auth": auth})
    assert any(expected in e for e in errors), errors


def test_vault_version_needs_kv2_and_a_positive_integer() -> None:
    assert VaultProvider().validate({"path": "p", "version": 3}) == []
    assert VaultProvider().validate({"path": "p", "kvVersion": 1, "version": 3})
    assert VaultProvider().validate({"path": "p", "version": 0})
    approle = {"method": "approle", "roleId": "r", "secretIdEnv": "SID"}
    assert VaultProvider().validate({"path": "p", "auth": approle}) == []


def test_aws_config_errors() -> None:
    assert (
        AwsProvider().validate({"name": "prod/db", "key": "password", "region": "eu-west-1"}) == []
    )
    errors = AwsProvider().validate({"name": "x", "endpointUrl": "localhost", "encoding": "hex"})
    assert any("endpointUrl" in e for e in errors) and any("encoding" in e for e in errors)


class FakeSecretManager:
    """Stands in for SecretManagerServiceClient; raises what the real one raises."""

    def __init__(self, error: Exception | None = None, data: bytes = b"") -> None:
        self.error, self.data, self.names = error, data, []

    def access_secret_version(self, name: str, timeout: float = 0) -> Any:
        self.names.append(name)
        if self.error:
            raise self.error
        return SimpleNamespace(payload=SimpleNamespace(data=self.data))


def gcp_with(client: FakeSecretManager) -> GcpProvider:
    provider = GcpProvider()
    provider._client_obj = client
    return provider


async def test_gcp_reads_latest_by_default_and_picks_json_fields() -> None:
    client = FakeSecretManager(data=b'{"password": "gcp-value-1"}')
    ref = SecretRef("DB", "gcp", {"project": "p1", "name": "db", "key": "password"})
    assert await gcp_with(client).get(ref) == "gcp-value-1"
    assert client.names == ["projects/p1/secrets/db/versions/latest"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("NotFound", "not_found"),
        ("PermissionDenied", "denied"),
        ("Unauthenticated", "denied"),
        ("ServiceUnavailable", "unreachable"),
        ("InvalidArgument", "invalid"),
    ],
)
async def test_gcp_errors_map_to_reasons(error: str, reason: str) -> None:
    from google.api_core import exceptions as gx

    client = FakeSecretManager(error=getattr(gx, error)("backend said no"))
    ref = SecretRef("DB", "gcp", {"project": "p1", "name": "db", "version": 4})
    with pytest.raises(ProviderError) as info:
        await gcp_with(client).get(ref)
    assert info.value.reason == reason and "secret DB (gcp)" in str(info.value)


async def test_gcp_without_project_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(ProviderError, match="GOOGLE_CLOUD_PROJECT") as info:
        await gcp_with(FakeSecretManager()).get(SecretRef("DB", "gcp", {"name": "db"}))
    assert info.value.reason == "invalid"
