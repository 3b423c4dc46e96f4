"""The ``env`` provider: a secret the engine's own environment already holds (CI secrets)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from psr_engine.secrets.base import ProviderError, SecretRef, check_fields


class EnvProvider:
    """Reads ``name`` from the engine's environment. Read-only: a CI system owns these."""

    name = "env"
    path_field = "name"

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        return check_fields(options, required=("name",), strings=("name",), known=("name",))

    async def get(self, ref: SecretRef) -> str:
        variable = str(ref.options.get("name") or "")
        value = os.environ.get(variable)
        if value is None:
            raise ProviderError(
                "not_found",
                secret=ref.name,
                provider=self.name,
                detail=f"environment variable {variable} is not set",
                hint=f"export {variable}=... before running, or set it in your CI secrets",
            )
        return value

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        raise self._read_only(path)

    async def delete(self, path: str, **options: Any) -> None:
        raise self._read_only(path)

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """Names (never values) of the environment variables starting with ``path``."""
        return sorted(name for name in os.environ if name.startswith(path))

    def _read_only(self, path: str) -> ProviderError:
        return ProviderError(
            "invalid",
            secret=path,
            provider=self.name,
            detail="the env provider is read-only",
            hint="set the variable in your shell or CI system instead",
        )
