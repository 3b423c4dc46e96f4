"""The ``azure`` provider: Azure Key Vault secrets via azure-keyvault-secrets.

Credentials come from DefaultAzureCredential (environment, workload identity, managed
identity, Azure CLI login, ...). The Python API may pass ``credential=`` an object of its own.
``connectionVerify`` (a CA bundle) and ``verifyChallengeResource`` exist for private
endpoints and test servers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from psr_engine.secrets.base import (
    ProviderError,
    Reason,
    SecretRef,
    check_fields,
    in_thread,
    json_fields,
    merge_field,
    option,
    pick_field,
    require,
    scrub,
)

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_KNOWN = (
    "vaultUrl",
    "name",
    "version",
    "key",
    "connectionVerify",
    "verifyChallengeResource",
    "credential",
    "retryTotal",
    "purge",
)


class AzureProvider:
    """Reads a secret (or one field of a JSON secret) from an Azure Key Vault."""

    name = "azure"
    path_field = "name"

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._credential: Any = None
        self._lock = threading.Lock()

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        errors = check_fields(
            options,
            required=("vaultUrl", "name"),
            strings=("vaultUrl", "name", "version", "key", "connectionVerify"),
            known=_KNOWN,
        )
        url = options.get("vaultUrl")
        if isinstance(url, str) and url and not url.startswith("https://"):
            errors.append("field 'vaultUrl' must be an https:// URL (https://NAME.vault.azure.net)")
        name = options.get("name")
        if isinstance(name, str) and name and not _NAME.match(name):
            errors.append("field 'name' may hold only letters, digits and dashes (1-127)")
        return errors

    async def get(self, ref: SecretRef) -> str:
        opts = ref.options
        name = str(opts.get("name") or "")
        secret = await in_thread(
            lambda: self._call(
                ref.name, opts, lambda c: c.get_secret(name, version=opts.get("version"))
            )
        )
        text = "" if secret.value is None else str(secret.value)
        key = opts.get("key")
        if key is None:
            return text
        fields = json_fields(text, secret=ref.name, provider=self.name)
        return pick_field(fields, key, secret=ref.name, provider=self.name)

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        """Set a new version of secret ``path``. With ``key``, the secret is a JSON object and
        only that field changes; a mapping is stored as a JSON object."""

        def write() -> None:
            current = None
            if key is not None:
                try:
                    current = self._call(path, options, lambda c: c.get_secret(path)).value
                except ProviderError as exc:
                    if exc.reason != "not_found":
                        raise
            stored = merge_field(current, value, key)
            text = stored if isinstance(stored, str) else json.dumps(stored)
            hidden = [text, *(stored.values() if isinstance(stored, dict) else ())]
            self._call(path, options, lambda c: c.set_secret(path, text), hidden=hidden)

        await in_thread(write)

    async def delete(self, path: str, **options: Any) -> None:
        """Delete secret ``path`` (soft delete where the vault keeps deleted secrets;
        ``purge=True`` waits for it and purges it for good)."""

        def remove() -> None:
            poller = self._call(path, options, lambda c: c.begin_delete_secret(path))
            if options.get("purge"):
                poller.wait()
                self._call(path, options, lambda c: c.purge_deleted_secret(path))

        await in_thread(remove)

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """Names of the vault's secrets that start with ``path``."""

        def names(client: Any) -> list[str]:
            found = (p.name for p in client.list_properties_of_secrets())
            return sorted(n for n in found if n and n.startswith(path))

        return await in_thread(lambda: self._call(path or "(all)", options, names))

    # -- the SDK (in a worker thread) -------------------------------------------------------

    def _call(
        self, secret: str, options: Mapping[str, Any], operation: Any, *, hidden: Any = ()
    ) -> Any:
        require("azure.keyvault.secrets", extra="azure", secret=secret, provider=self.name)
        from azure.core import exceptions as ax

        try:
            return operation(self._client(secret, options))
        except ax.ResourceNotFoundError:
            return self._raise(
                "not_found",
                secret,
                f"no secret {options.get('name') or secret!r} in {options.get('vaultUrl')}",
                hint="check vaultUrl and name (and version)",
            )
        except ax.ClientAuthenticationError as exc:
            said = scrub(_message(exc), *hidden)
            return self._raise(
                "denied",
                secret,
                f"authentication to {options.get('vaultUrl')} failed: {said}",
                hint="sign in (az login, AZURE_CLIENT_ID/AZURE_TENANT_ID/..., managed identity)",
            )
        except ax.HttpResponseError as exc:
            said = scrub(_message(exc), *hidden)
            status = exc.status_code or 0
            reason: Reason = "unreachable" if status >= 500 else "invalid"
            hint = ""
            if status in (401, 403):
                reason = "denied"
                hint = "grant the identity the 'Key Vault Secrets User' role (or an access policy)"
            return self._raise(reason, secret, f"Key Vault answered {status}: {said}", hint=hint)
        except (ax.ServiceRequestError, ax.ServiceResponseError) as exc:
            return self._raise(
                "unreachable",
                secret,
                f"cannot reach {options.get('vaultUrl')} ({_transport(exc)})",
                hint="check vaultUrl, the network and TLS (connectionVerify)",
            )

    def _client(self, secret: str, options: Mapping[str, Any]) -> Any:
        from azure.keyvault.secrets import SecretClient

        verify = options.get("connectionVerify")
        challenge = bool(option(options, "verifyChallengeResource", True))
        retries = int(option(options, "retryTotal", 2))
        cache_key = json.dumps([options.get("vaultUrl"), verify, challenge, retries])
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                kwargs: dict[str, Any] = {
                    "verify_challenge_resource": challenge,
                    "retry_total": retries,
                }
                if verify is not None:
                    kwargs["connection_verify"] = verify
                client = SecretClient(
                    vault_url=str(options.get("vaultUrl") or ""),
                    credential=options.get("credential") or self._default_credential(secret),
                    **kwargs,
                )
                self._clients[cache_key] = client
            return client

    def _default_credential(self, secret: str) -> Any:
        if self._credential is None:
            require("azure.identity", extra="azure", secret=secret, provider=self.name)
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def _raise(self, reason: Reason, secret: str, detail: str, hint: str = "") -> Any:
        raise ProviderError(
            reason, secret=secret, provider=self.name, detail=detail, hint=hint
        ) from None


def _transport(exc: Exception) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "its TLS certificate is not trusted"
    return type(exc).__name__


def _message(exc: Any) -> str:
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "message", None):
        return f"{error.code}: {error.message}"
    text = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
