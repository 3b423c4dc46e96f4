"""The env provider: reads the engine's environment, read-only."""

from __future__ import annotations

import pytest

from psr_engine.errors import SecretError
from psr_engine.secrets import SecretManagerAdapter
from psr_engine.secrets.base import ProviderError, SecretRef
from psr_engine.secrets.env import EnvProvider

pytestmark = pytest.mark.anyio


async def test_get_reads_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSR_TEST_TOKEN", "tok-123456")
    value = await EnvProvider().get(SecretRef("API", "env", {"name": "PSR_TEST_TOKEN"}))
    assert value == "tok-123456"


async def test_missing_variable_is_not_found_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PSR_TEST_ABSENT", raising=False)
    with pytest.raises(ProviderError) as info:
        await EnvProvider().get(SecretRef("API", "env", {"name": "PSR_TEST_ABSENT"}))
    assert info.value.reason == "not_found"
    assert isinstance(info.value, SecretError)
    assert "PSR_TEST_ABSENT" in str(info.value) and "secret API (env)" in str(info.value)


async def test_put_and_delete_are_refused_as_read_only() -> None:
    for call in (EnvProvider().put("X", "value-1"), EnvProvider().delete("X")):
        with pytest.raises(ProviderError) as info:
            await call
        assert info.value.reason == "invalid" and "read-only" in str(info.value)
        assert "value-1" not in str(info.value)


async def test_list_gives_names_with_the_prefix_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSRTEST_A", "secret-a-value")
    monkeypatch.setenv("PSRTEST_B", "secret-b-value")
    assert await EnvProvider().list("PSRTEST_") == ["PSRTEST_A", "PSRTEST_B"]


def test_validate_requires_name_and_rejects_unknown_fields() -> None:
    assert EnvProvider().validate({"name": "X"}) == []
    errors = EnvProvider().validate({"nmae": "X"})
    assert any("missing required field 'name'" in e for e in errors)
    assert any("unknown field(s) nmae" in e for e in errors)


def test_adapter_sync_twin_reads_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSR_TEST_TOKEN", "tok-sync-1")
    assert SecretManagerAdapter("env").get_secret_sync("PSR_TEST_TOKEN") == "tok-sync-1"
