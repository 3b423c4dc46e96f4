"""resolve_all: each secret once, all at once, every failure reported together, no values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from psr_engine.errors import SecretError
from psr_engine.secrets import SecretManagerAdapter, resolve_all, secrets_command, validate_refs
from psr_engine.secrets.base import ProviderError, SecretRef, SecretsUnresolved

pytestmark = pytest.mark.anyio


class FakeProvider:
    """A backend in memory: the real ones need servers (see tests/integration/secrets)."""

    name = "fake"
    path_field = "path"

    def __init__(self, values: Mapping[str, str], barrier: int = 0) -> None:
        self.values = dict(values)
        self.calls: list[str] = []
        self.barrier = barrier
        self.started = 0
        self.all_started = anyio.Event()

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        return [] if options.get("path") else ["missing required field 'path'"]

    async def get(self, ref: SecretRef) -> str:
        path = ref.options["path"]
        self.calls.append(path)
        self.started += 1
        if self.started == self.barrier:
            self.all_started.set()
        if self.barrier:
            await self.all_started.wait()  # only returns if every get runs at the same time
        if path == "boom":
            raise RuntimeError(f"SDK exploded with {self.values['a']}")
        if path not in self.values:
            raise ProviderError("not_found", secret=ref.name, provider="fake", detail="no such")
        return self.values[path]

    async def put(self, path: str, value: Any, *, key: str | None = None, **o: Any) -> None: ...
    async def delete(self, path: str, **o: Any) -> None: ...
    async def list(self, path: str = "", **o: Any) -> list[str]:
        return []


def ref(name: str, path: str, provider: str = "fake") -> SecretRef:
    return SecretRef(name, provider, {"path": path})


async def test_resolves_concurrently_and_keeps_the_order_given() -> None:
    fake = FakeProvider({"a": "alpha-value", "b": "bravo-value", "c": "charlie-value"}, barrier=3)
    with anyio.fail_after(10):  # a guard against a deadlock, not a timing assert
        values = await resolve_all(
            [ref("C", "c"), ref("A", "a"), ref("B", "b")], providers={"fake": fake}
        )
    assert list(values.items()) == [
        ("C", "charlie-value"),
        ("A", "alpha-value"),
        ("B", "bravo-value"),
    ]


async def test_identical_references_are_fetched_once() -> None:
    fake = FakeProvider({"a": "alpha-value"})
    values = await resolve_all(
        [ref("ONE", "a"), ref("TWO", "a"), ref("ONE", "a")], providers={"fake": fake}
    )
    assert values == {"ONE": "alpha-value", "TWO": "alpha-value"}
    assert fake.calls == ["a"]


async def test_every_failure_is_collected_into_one_error_without_values() -> None:
    fake = FakeProvider({"a": "alpha-value", "short": "abc"})
    refs = [
        ref("GOOD", "a"),
        ref("MISSING", "nope"),
        ref("SHORT", "short"),
        ref("BROKEN", "boom"),
        SecretRef("NOPATH", "fake", {}),
        ref("ALIEN", "x", provider="martian"),
        ref("GOOD", "other"),
    ]
    with pytest.raises(SecretsUnresolved) as info:
        await resolve_all(refs, providers={"fake": fake})
    error = info.value
    assert isinstance(error, SecretError) and error.exit_code == 2
    reasons = {f.secret: f.reason for f in error.failures}
    assert reasons == {
        "ALIEN": "invalid",
        "BROKEN": "unreachable",
        "GOOD": "invalid",
        "MISSING": "not_found",
        "NOPATH": "invalid",
        "SHORT": "invalid",
    }
    message = str(error)
    assert message.startswith("6 secrets could not be resolved:")
    assert "SHORT (fake) [invalid]: secret SHORT is shorter than 4 characters" in message
    assert "unknown secret provider 'martian'" in message
    assert "defined twice" in message
    assert "alpha-value" not in message and "abc" not in message
    assert "alpha-value" not in repr(error.failures)


async def test_no_refs_gives_an_empty_mapping() -> None:
    assert await resolve_all([]) == {}


async def test_registry_providers_resolve_real_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PSR_TEST_ENV_SECRET", "from-env-value")
    path = tmp_path / ".env"
    path.write_text("K=from-file-value\n")
    path.chmod(0o600)
    values = await resolve_all(
        [
            SecretRef("E", "env", {"name": "PSR_TEST_ENV_SECRET"}),
            SecretRef("F", "file", {"path": str(path), "key": "K"}),
        ]
    )
    assert values == {"E": "from-env-value", "F": "from-file-value"}


def test_validate_refs_reports_every_bad_reference_without_io() -> None:
    errors = validate_refs(
        [
            SecretRef("A", "vault", {"path": "etl", "kvVersion": 3}),
            SecretRef("B", "aws", {}),
            SecretRef("C", "azure", {"vaultUrl": "http://x", "name": "bad_name"}),
            SecretRef("D", "nope", {}),
            SecretRef("E", "env", {"name": "OK"}),
        ]
    )
    text = "\n".join(errors)
    assert "secret A (vault): field 'kvVersion' must be 1 or 2" in text
    assert "secret B (aws): missing required field 'name'" in text
    assert "secret C (azure): field 'vaultUrl' must be an https:// URL" in text
    assert "secret C (azure): field 'name' may hold only" in text
    assert "secret D: unknown secret provider 'nope'" in text
    assert "secret E" not in text


async def test_secrets_command_hides_values_unless_revealed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PSR_TEST_CLI", "cli-secret-value")
    hidden = await secrets_command("get", "env", "PSR_TEST_CLI")
    assert "cli-secret-value" not in hidden and "16 characters" in hidden
    assert await secrets_command("get", "env", "PSR_TEST_CLI", reveal=True) == "cli-secret-value"
    assert "PSR_TEST_CLI" in (await secrets_command("list", "env", "PSR_TEST_C")).splitlines()
    with pytest.raises(ProviderError, match="unknown action 'frob'"):
        await secrets_command("frob", "env", "X")


async def test_secrets_command_put_get_delete_a_file(tmp_path: Path) -> None:
    path = str(tmp_path / "s.json")
    assert await secrets_command("put", "file", path, key="TOKEN", value="tok-12345") == (
        f"stored {path}#TOKEN (file)"
    )
    assert await secrets_command("get", "file", path, key="TOKEN", reveal=True) == "tok-12345"
    await secrets_command("delete", "file", path, key="TOKEN")
    assert await secrets_command("list", "file", path, reveal=True) == ""
    with pytest.raises(ProviderError, match="put needs a value"):
        await secrets_command("put", "file", path, key="TOKEN")


async def test_delete_with_key_is_refused_where_it_would_remove_the_whole_secret() -> None:
    with pytest.raises(ProviderError, match="not one field") as info:
        await secrets_command("delete", "vault", "etl", key="password")
    assert info.value.reason == "invalid"


async def test_put_with_key_needs_a_string(tmp_path: Path) -> None:
    adapter = SecretManagerAdapter("file")
    with pytest.raises(ProviderError, match="key with a string value"):
        await adapter.put_secret(str(tmp_path / "s.json"), {"a": "b"}, key="a")


def test_adapter_validates_before_any_io() -> None:
    adapter = SecretManagerAdapter("aws", endpointUrl="not-a-url")
    with pytest.raises(ProviderError) as info:
        adapter.get_secret_sync("prod/db")
    assert info.value.reason == "invalid" and "endpointUrl" in str(info.value)


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(ProviderError, match="use one of: aws, azure, env, file, gcp, vault"):
        SecretManagerAdapter("keepass")
