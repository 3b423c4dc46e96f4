"""The Python face of the providers: ``SecretManagerAdapter`` for one backend, ``resolve_all``
for a run's secrets (each fetched once, all at once, every failure reported together), and
``secrets_command`` behind ``psr-engine secrets``."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from psr_engine.errors import SecretError
from psr_engine.secrets import load_provider
from psr_engine.secrets.base import (
    ProviderError,
    SecretProvider,
    SecretRef,
    SecretsUnresolved,
)
from psr_engine.secrets.masker import Masker

ACTIONS = ("get", "put", "delete", "list")
# Providers whose `list` names the fields of one secret rather than secrets: a field name can
# be secret itself (a bare value read as a name), so without --reveal only their count shows.
_LISTS_FIELDS = frozenset({"file"})


class SecretManagerAdapter:
    """One secret backend with default options, e.g.
    ``SecretManagerAdapter("vault", mount="kv", address="https://vault:8200")``.

    ``path`` is where the secret lives in that backend: the Vault path, the AWS, Azure or GCP
    secret name, the env var name, the file path. Per-call options override the defaults.
    Async methods for async code; the ``*_sync`` twins run them with ``anyio.run`` (not from
    inside a running event loop).
    """

    def __init__(self, provider: str, **options: Any) -> None:
        self.provider_name = provider
        self.provider: SecretProvider = load_provider(provider)
        self.options: dict[str, Any] = dict(options)

    def ref(self, path: str, *, key: str | None = None, **opts: Any) -> SecretRef:
        """The SecretRef that ``get_secret(path, key=...)`` resolves."""
        options = {**self.options, **opts, self.provider.path_field: path}
        if key is not None:
            options["key"] = key
        return SecretRef(name=path, provider=self.provider_name, options=options)

    async def get_secret(self, path: str, *, key: str | None = None, **opts: Any) -> str:
        ref = self.ref(path, key=key, **opts)
        _raise_if_invalid(self.provider, ref)
        return await self.provider.get(ref)

    async def put_secret(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **opts: Any
    ) -> None:
        """Store ``value`` at ``path``: with ``key``, one field (a string) of the secret."""
        if key is not None and not isinstance(value, str):
            raise ProviderError(
                "invalid",
                secret=path,
                provider=self.provider_name,
                detail="give either key with a string value, or a mapping of fields without key",
            )
        await self.provider.put(path, value, key=key, **{**self.options, **opts})

    async def delete_secret(self, path: str, **opts: Any) -> None:
        await self.provider.delete(path, **{**self.options, **opts})

    async def list_secrets(self, path: str = "", **opts: Any) -> list[str]:
        return await self.provider.list(path, **{**self.options, **opts})

    def get_secret_sync(self, path: str, *, key: str | None = None, **opts: Any) -> str:
        return _run(self.get_secret, path, key=key, **opts)

    def put_secret_sync(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **opts: Any
    ) -> None:
        _run(self.put_secret, path, value, key=key, **opts)

    def delete_secret_sync(self, path: str, **opts: Any) -> None:
        _run(self.delete_secret, path, **opts)

    def list_secrets_sync(self, path: str = "", **opts: Any) -> list[str]:
        return _run(self.list_secrets, path, **opts)

    def __repr__(self) -> str:
        return f"SecretManagerAdapter({self.provider_name!r})"


def validate_refs(refs: Sequence[SecretRef]) -> list[str]:
    """Configuration errors of every reference, without I/O: what a load-time check reports."""
    errors: list[str] = []
    instances: dict[str, SecretProvider] = {}
    for ref in refs:
        try:
            provider = instances.get(ref.provider) or load_provider(ref.provider)
        except ProviderError as exc:
            errors.append(f"secret {ref.name}: {exc.detail} ({exc.hint})")
            continue
        instances[ref.provider] = provider
        where = f"secret {ref.name} ({ref.provider})"
        errors.extend(f"{where}: {problem}" for problem in provider.validate(ref.options))
    return errors


async def resolve_all(
    refs: Sequence[SecretRef], *, providers: Mapping[str, SecretProvider] | None = None
) -> dict[str, str]:
    """Resolve every reference once, concurrently; name -> value in the order given.

    Identical references (same provider and options) are fetched once. Every failure
    (configuration, backend, a value too short to mask) is collected; if any, one
    SecretsUnresolved (a SecretError) lists them all, without any value.
    ``providers`` may supply instances (tests, plug-ins); others come from the registry.
    """
    import anyio

    instances: dict[str, SecretProvider] = dict(providers or {})
    failures: list[ProviderError] = []
    groups: dict[str, list[SecretRef]] = {}
    seen: dict[str, str] = {}
    for ref in refs:
        lookup = json.dumps([ref.provider, dict(ref.options)], sort_keys=True, default=repr)
        if ref.name in seen:
            if seen[ref.name] != lookup:
                failures.append(_failure(ref, "invalid", "defined twice with different fields"))
            continue
        seen[ref.name] = lookup
        try:
            provider = instances.get(ref.provider) or load_provider(ref.provider)
        except ProviderError as exc:
            failures.append(_failure(ref, "invalid", exc.detail, exc.hint))
            continue
        instances[ref.provider] = provider
        problems = provider.validate(ref.options)
        if problems:
            failures.append(_failure(ref, "invalid", "; ".join(problems)))
            continue
        groups.setdefault(lookup, []).append(ref)

    values: dict[str, str] = {}

    async def fetch(group: list[SecretRef]) -> None:
        first = group[0]
        try:
            value = await instances[first.provider].get(first)
        except ProviderError as exc:
            failures.extend(_failure(r, exc.reason, exc.detail, exc.hint) for r in group)
            return
        except Exception as exc:
            # An SDK's own message might quote what it was handed: report only its type.
            detail = f"unexpected {type(exc).__name__} from the provider"
            failures.extend(_failure(r, "unreachable", detail) for r in group)
            return
        for ref in group:
            try:
                Masker.check_value(ref.name, value)
            except SecretError as exc:
                failures.append(_failure(ref, "invalid", str(exc).splitlines()[0]))
            else:
                values[ref.name] = value

    async with anyio.create_task_group() as tg:
        for group in groups.values():
            tg.start_soon(fetch, group)
    if failures:
        raise SecretsUnresolved(failures)
    return {name: values[name] for name in seen}


async def secrets_command(
    action: str,
    provider: str,
    path: str = "",
    *,
    key: str | None = None,
    value: str | None = None,
    reveal: bool = False,
    options: Mapping[str, Any] | None = None,
) -> str:
    """What ``psr-engine secrets ACTION`` prints. ``get`` shows a value only with ``reveal``;
    otherwise it confirms the secret exists and gives its length. ``list`` of a secret's
    fields (the file provider) shows their names only with ``reveal``."""
    adapter = SecretManagerAdapter(provider, **dict(options or {}))
    where = f"{path}#{key}" if key else path
    if action == "get":
        secret = await adapter.get_secret(path, key=key)
        if reveal:
            return secret
        return f"{where} ({provider}): {len(secret)} characters (hidden; --reveal prints it)"
    if action == "put":
        if value is None:
            raise ProviderError(
                "invalid",
                secret=path,
                provider=provider,
                detail="put needs a value",
                hint="give the value on stdin or with --value",
            )
        await adapter.put_secret(path, value, key=key)
        return f"stored {where} ({provider})"
    if action == "delete":
        if key and provider != "file":
            # Backends delete whole secrets: never turn "remove a field" into "remove it all".
            raise ProviderError(
                "invalid",
                secret=path,
                provider=provider,
                detail="delete removes a whole secret, not one field",
                hint="drop --key to delete the secret, or put the fields you want to keep",
            )
        await adapter.delete_secret(path, **({"key": key} if key else {}))
        return f"deleted {where} ({provider})"
    if action == "list":
        names = await adapter.list_secrets(path)
        if provider in _LISTS_FIELDS and not reveal:
            fields = f"{len(names)} field{'' if len(names) == 1 else 's'}"
            return f"{path} ({provider}): {fields} (hidden; --reveal lists their names)"
        return "\n".join(names)
    raise ProviderError(
        "invalid",
        secret=path or "(none)",
        provider=provider,
        detail=f"unknown action {action!r}",
        hint=f"use one of: {', '.join(ACTIONS)}",
    )


def _failure(ref: SecretRef, reason: Any, detail: str, hint: str = "") -> ProviderError:
    return ProviderError(reason, secret=ref.name, provider=ref.provider, detail=detail, hint=hint)


def _raise_if_invalid(provider: SecretProvider, ref: SecretRef) -> None:
    problems = provider.validate(ref.options)
    if problems:
        raise _failure(ref, "invalid", "; ".join(problems))


def _run(func: Any, *args: Any, **kwargs: Any) -> Any:
    import anyio

    return anyio.run(functools.partial(func, *args, **kwargs))


__all__ = [
    "ACTIONS",
    "SecretManagerAdapter",
    "resolve_all",
    "secrets_command",
    "validate_refs",
]
