"""Secrets: providers that fetch them, the resolver that fetches them once per run, and the
masker that keeps them out of every log and event.

A manifest's ``provider:`` maps to code through psr_engine.plugins (group "secrets"): the core's
providers and those of plug-ins; each is imported only when a secret asks for it. Public
names load lazily (PEP 562): importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psr_engine._lazy import attribute_loader
from psr_engine.plugins import BUILTIN

if TYPE_CHECKING:
    from psr_engine.secrets.base import SecretProvider

# provider name -> "module:Class": the core's providers, from the one plug-in registry (which
# also finds third-party providers in the 'psr_engine.secrets' entry-point group).
PROVIDERS: dict[str, str] = {name: target for name, (target, _) in BUILTIN["secrets"].items()}


def load_provider(name: str) -> SecretProvider:
    """A new instance of the provider registered as ``name`` (instances cache their clients)."""
    from psr_engine.plugins import PluginError, names, resolve

    try:
        factory = resolve("secrets", name)
    except PluginError as error:
        from psr_engine.secrets.base import ProviderError

        known = name in names("secrets")
        raise ProviderError(
            "invalid",
            secret="(any)",
            provider=name,
            detail=str(error) if known else f"unknown secret provider {name!r}",
            hint="" if known else f"use one of: {', '.join(names('secrets'))}",
        ) from None
    provider: SecretProvider = factory()
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


__getattr__ = attribute_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return __all__
