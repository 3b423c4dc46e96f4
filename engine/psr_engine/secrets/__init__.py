"""Secrets: providers that fetch them, the resolver that fetches them once per run, and the
masker that keeps them out of every log and event.

The provider registry below is the one place that maps a manifest's ``provider:`` to code;
each entry is imported only when a secret asks for it. Public names load lazily (PEP 562):
importing this package costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psr_engine.secrets.base import SecretProvider

# provider name -> "module:Class"; every class follows base.SecretProvider.
PROVIDERS: dict[str, str] = {
    "aws": "psr_engine.secrets.aws:AwsProvider",
    "azure": "psr_engine.secrets.azure:AzureProvider",
    "env": "psr_engine.secrets.env:EnvProvider",
    "file": "psr_engine.secrets.file:FileProvider",
    "gcp": "psr_engine.secrets.gcp:GcpProvider",
    "vault": "psr_engine.secrets.vault:VaultProvider",
}


def load_provider(name: str) -> SecretProvider:
    """A new instance of the provider registered as ``name`` (instances cache their clients)."""
    target = PROVIDERS.get(name)
    if target is None:
        from psr_engine.secrets.base import ProviderError

        raise ProviderError(
            "invalid",
            secret="(any)",
            provider=name,
            detail=f"unknown secret provider {name!r}",
            hint=f"use one of: {', '.join(sorted(PROVIDERS))}",
        )
    module, _, cls = target.partition(":")
    provider: SecretProvider = getattr(import_module(module), cls)()
    return provider


# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Masker": "psr_engine.secrets.masker",
    "ProviderError": "psr_engine.secrets.base",
    "SecretManagerAdapter": "psr_engine.secrets.adapter",
    "SecretProvider": "psr_engine.secrets.base",
    "SecretRef": "psr_engine.secrets.base",
    "SecretsUnresolved": "psr_engine.secrets.base",
    "resolve_all": "psr_engine.secrets.adapter",
    "secrets_command": "psr_engine.secrets.adapter",
    "validate_refs": "psr_engine.secrets.adapter",
}

__all__ = sorted(["PROVIDERS", "load_provider", *_LAZY])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'psr_engine.secrets' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
