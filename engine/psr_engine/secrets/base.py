"""What every secret provider shares: the reference, the protocol, and the one error shape.

A provider turns a ``SecretRef`` into a string. Providers backed by a synchronous SDK (hvac,
boto3, azure, google) run each call in a worker thread so that many secrets resolve at once
without blocking the event loop. SDKs are imported inside the methods that need them: the
CLI must start without paying for boto3.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import ProviderError as ProviderError
from psr_engine.errors import Reason as Reason
from psr_engine.errors import SecretError as SecretError
from psr_engine.errors import SecretsUnresolved as SecretsUnresolved

REASONS: tuple[Reason, ...] = ("not_found", "denied", "unreachable", "invalid")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A reference to one secret; ``name`` is the env var (and ``secrets.<name>``) it becomes."""

    name: str
    provider: str
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class SecretProvider(Protocol):
    """A secret backend. ``path_field`` names the option that holds a secret's location."""

    name: str
    path_field: str

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        """Configuration errors for one reference, found at load time without any I/O."""
        ...

    async def get(self, ref: SecretRef) -> str: ...

    async def put(
        self,
        path: str,
        value: str | Mapping[str, str],
        *,
        key: str | None = None,
        **options: Any,
    ) -> None: ...

    async def delete(self, path: str, **options: Any) -> None: ...

    async def list(self, path: str = "", **options: Any) -> list[str]: ...


def scrub(text: str, *sensitive: str | None) -> str:
    """``text`` with every sensitive string in it replaced: SDK messages may echo a request."""
    for item in sensitive:
        if item and len(item) >= 4:
            text = text.replace(item, "***")
    return text


def require(module: str, *, extra: str, secret: str, provider: str) -> Any:
    """Import an optional SDK, or fail with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ProviderError(
            "invalid",
            secret=secret,
            provider=provider,
            detail=f"the {provider} provider needs the Python package {module!r}",
            hint=f"pip install 'psr-engine[{extra}]'",
        ) from None


def option(options: Mapping[str, Any], name: str, default: _T) -> _T:
    """An option's value, or ``default`` when it is missing or null."""
    value = options.get(name)
    return default if value is None else value


def check_fields(
    options: Mapping[str, Any],
    *,
    required: tuple[str, ...] = (),
    strings: tuple[str, ...] = (),
    known: tuple[str, ...] | None = None,
) -> list[str]:
    """The usual load-time checks: required fields present, string fields strings."""
    errors = [f"missing required field {name!r}" for name in required if not options.get(name)]
    for name in strings:
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(f"field {name!r} must be a string, not {type(value).__name__}")
    if known is not None:
        unknown = sorted(set(options) - set(known) - {"provider"})
        if unknown:
            errors.append(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return errors


def pick_field(
    fields: Mapping[str, Any],
    key: str | None,
    *,
    secret: str,
    provider: str,
) -> str:
    """One field of a structured secret. Without ``key``, the only field. Errors never name
    the fields: a field name can itself be secret (a file holding a bare value read as one
    field, /etc/shadow's lines)."""
    where = (
        "`psr-engine secrets list file PATH --reveal` prints them"
        if provider == "file"
        else f"look them up where {provider} keeps the secret"
    )
    if key is None:
        if len(fields) == 1:
            (value,) = fields.values()
            return as_text(value, secret=secret, provider=provider, field=None)
        raise ProviderError(
            "invalid",
            secret=secret,
            provider=provider,
            detail=f"the secret has {len(fields)} fields; choose one",
            hint=f"add `key: <field>` to the secret reference; field names are not printed "
            f"(they can be secret): {where}",
        )
    if key not in fields:
        raise ProviderError(
            "not_found",
            secret=secret,
            provider=provider,
            detail=f"the secret has no field {key!r} "
            f"({len(fields)} other field{'' if len(fields) == 1 else 's'})",
            hint=f"field names are not printed (they can be secret): {where}",
        )
    return as_text(fields[key], secret=secret, provider=provider, field=key)


def as_text(value: Any, *, secret: str, provider: str, field: str | None) -> str:
    """A field's value as the string an env var can hold: scalars as text, no structures."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    where = f"field {field!r}" if field else "the secret"
    raise ProviderError(
        "invalid",
        secret=secret,
        provider=provider,
        detail=f"{where} holds a {type(value).__name__}, not text",
        hint="point `key` at a field holding a string",
    )


def json_fields(text: str, *, secret: str, provider: str) -> dict[str, Any]:
    """A secret string that must be a JSON object (when a ``key`` asks for one of its fields)."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderError(
            "invalid",
            secret=secret,
            provider=provider,
            detail="`key` was given but the secret is not a JSON object",
            hint="drop `key` to receive the whole secret",
        )
    return data


def merge_field(
    current: str | None, value: str | Mapping[str, str], key: str | None
) -> str | dict[str, str]:
    """What to store for a put on a single-string backend: with ``key``, the JSON object of the
    current secret with that field set; a mapping, as JSON; a string, as itself."""
    if key is None:
        return dict(value) if isinstance(value, Mapping) else value
    fields: dict[str, Any] = {}
    if current:
        try:
            loaded = json.loads(current)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            fields = loaded
    if isinstance(value, Mapping):
        raise TypeError("give either key with a string value, or a mapping without key")
    fields[key] = value
    return fields


async def in_thread(func: Callable[[], _T]) -> _T:
    """Run a blocking SDK call in a worker thread; cancellation abandons it, never hangs."""
    import anyio

    return await anyio.to_thread.run_sync(func, abandon_on_cancel=True)


__all__ = [
    "REASONS",
    "ProviderError",
    "Reason",
    "SecretProvider",
    "SecretRef",
    "SecretsUnresolved",
    "as_text",
    "check_fields",
    "in_thread",
    "json_fields",
    "merge_field",
    "option",
    "pick_field",
    "require",
    "scrub",
]
