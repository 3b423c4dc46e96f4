"""The ``vault`` provider: HashiCorp Vault or OpenBao KV (v2 by default, v1 on request), via hvac.

Connection comes from the usual variables (VAULT_ADDR, VAULT_TOKEN or ~/.vault-token,
VAULT_NAMESPACE, VAULT_CACERT) unless the reference says otherwise (``address``,
``namespace``, ``caCert``, ``auth``). Tokens never come from a manifest: AppRole, JWT and
Kubernetes logins name the environment variable or file that holds their credential.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from psr_engine.secrets.base import (
    ProviderError,
    Reason,
    SecretRef,
    check_fields,
    in_thread,
    option,
    pick_field,
    require,
    scrub,
)

AUTH_METHODS = ("token", "approle", "jwt", "kubernetes")
K8S_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_KNOWN = (
    "path",
    "mount",
    "key",
    "version",
    "kvVersion",
    "address",
    "namespace",
    "caCert",
    "auth",
    "timeout",
)


class VaultProvider:
    """Reads one field of a KV secret at ``mount``/``path``."""

    name = "vault"
    path_field = "path"

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        errors = check_fields(
            options,
            required=("path",),
            strings=("path", "mount", "key", "address", "namespace", "caCert"),
            known=_KNOWN,
        )
        kv = options.get("kvVersion", 2)
        if kv not in (1, 2):
            errors.append(f"field 'kvVersion' must be 1 or 2, not {kv!r}")
        version = options.get("version")
        if version is not None:
            if kv == 1:
                errors.append("field 'version' needs KV v2 (kvVersion: 2)")
            elif not isinstance(version, int) or isinstance(version, bool) or version < 1:
                errors.append("field 'version' must be a positive integer")
        errors.extend(_auth_errors(options.get("auth")))
        return errors

    async def get(self, ref: SecretRef) -> str:
        opts = ref.options
        path = str(opts.get("path") or "")
        fields = await in_thread(lambda: self._read(ref.name, path, opts))
        return pick_field(fields, opts.get("key"), secret=ref.name, provider=self.name)

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        """Write the secret. With ``key``, that field is set and the others kept; a plain string
        without ``key`` is stored in the field ``value``; a mapping replaces all fields."""

        def write() -> None:
            if key is not None:
                if not isinstance(value, str):
                    raise self._error("invalid", path, "give a string value with key")
                try:
                    fields = dict(self._read(path, path, options))
                except ProviderError as exc:
                    if exc.reason != "not_found":
                        raise
                    fields = {}
                fields[key] = value
            elif isinstance(value, Mapping):
                fields = dict(value)
            else:
                fields = {"value": value}
            self._call(
                path,
                options,
                lambda kv, mount: kv.create_or_update_secret(
                    path=path, secret=fields, mount_point=mount
                ),
                sensitive=list(fields.values()),
            )

        await in_thread(write)

    async def delete(self, path: str, **options: Any) -> None:
        """Delete the secret (in KV v2: its metadata and every version)."""

        def remove() -> None:
            # Vault answers a delete of a missing secret with success: check first.
            self._read(path, path, options)
            if _kv_version(options) == 2:
                self._call(
                    path,
                    options,
                    lambda kv, mount: kv.delete_metadata_and_all_versions(
                        path=path, mount_point=mount
                    ),
                )
            else:
                self._call(
                    path,
                    options,
                    lambda kv, mount: kv.delete_secret(path=path, mount_point=mount),
                )

        await in_thread(remove)

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """Secret names under ``path`` (folders end in ``/``); an empty folder gives []."""

        def names() -> list[str]:
            try:
                answer = self._call(
                    path or "/",
                    options,
                    lambda kv, mount: kv.list_secrets(path=path, mount_point=mount),
                )
            except ProviderError as exc:
                if exc.reason == "not_found":
                    return []
                raise
            return sorted(answer.get("data", {}).get("keys", []))

        return await in_thread(names)

    # -- talking to Vault (in a worker thread) ---------------------------------------------

    def _read(self, secret: str, path: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
        version = options.get("version")
        if _kv_version(options) == 2:
            answer = self._call(
                secret,
                options,
                lambda kv, mount: kv.read_secret_version(
                    path=path, version=version, mount_point=mount, raise_on_deleted_version=True
                ),
            )
            data = (answer.get("data") or {}).get("data")
        else:
            answer = self._call(
                secret, options, lambda kv, mount: kv.read_secret(path=path, mount_point=mount)
            )
            data = answer.get("data")
        if not isinstance(data, Mapping):
            raise self._error("not_found", secret, f"nothing stored at {_where(options, path)}")
        return data

    def _call(
        self,
        secret: str,
        options: Mapping[str, Any],
        operation: Any,
        *,
        sensitive: Sequence[Any] | None = None,
    ) -> Any:
        hvac = require("hvac", extra="vault", secret=secret, provider=self.name)
        import requests

        client = self._client(secret, options)
        engine = client.secrets.kv.v2 if _kv_version(options) == 2 else client.secrets.kv.v1
        try:
            return operation(engine, option(options, "mount", "secret"))
        except hvac.exceptions.VaultError as exc:
            hidden = [client.token, *(str(v) for v in sensitive or ())]
            raise self._from_vault(exc, secret, options, hidden) from None
        except requests.exceptions.RequestException as exc:
            raise self._unreachable(secret, options, exc) from None

    def _client(self, secret: str, options: Mapping[str, Any]) -> Any:
        import hvac
        import requests

        address = option(options, "address", os.environ.get("VAULT_ADDR", ""))
        address = address or "http://127.0.0.1:8200"
        namespace = option(options, "namespace", os.environ.get("VAULT_NAMESPACE")) or None
        verify: Any = option(options, "caCert", os.environ.get("VAULT_CACERT")) or None
        auth = dict(options.get("auth") or {"method": "token"})
        cache_key = json.dumps([address, namespace, verify, auth], sort_keys=True, default=str)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is not None:
                return client
            client = hvac.Client(
                url=address,
                namespace=namespace,
                verify=verify,
                timeout=option(options, "timeout", 30),
            )
            try:
                self._login(client, auth, secret)
            except hvac.exceptions.VaultError as exc:
                method = auth.get("method", "token")
                raise self._error(
                    "denied",
                    secret,
                    f"{method} login to {address} failed: {_vault_errors(exc)}",
                    hint="check the role and the credential it reads",
                ) from None
            except requests.exceptions.RequestException as exc:
                raise self._unreachable(secret, options, exc) from None
            self._clients[cache_key] = client
            return client

    def _login(self, client: Any, auth: Mapping[str, Any], secret: str) -> None:
        method = auth.get("method", "token")
        mount = auth.get("mount") or method
        if method == "token":
            variable = auth.get("tokenEnv")
            if variable:
                client.token = self._env(variable, "tokenEnv", secret)
            if not client.token:
                raise self._error(
                    "denied",
                    secret,
                    "no Vault token",
                    hint="set VAULT_TOKEN (or run `bao login`), or configure auth: {method: ...}",
                )
        elif method == "approle":
            role_id = auth.get("roleId") or self._env(
                auth.get("roleIdEnv", ""), "roleIdEnv", secret
            )
            secret_id = None
            if auth.get("secretIdEnv"):
                secret_id = self._env(auth["secretIdEnv"], "secretIdEnv", secret)
            client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)
        elif method == "jwt":
            jwt = self._jwt(auth, secret, default_file=None)
            client.auth.jwt.jwt_login(role=auth["role"], jwt=jwt, path=mount)
        elif method == "kubernetes":
            jwt = self._jwt(auth, secret, default_file=K8S_TOKEN)
            client.auth.kubernetes.login(role=auth["role"], jwt=jwt, mount_point=mount)

    def _jwt(self, auth: Mapping[str, Any], secret: str, *, default_file: str | None) -> str:
        if auth.get("jwtEnv"):
            return self._env(auth["jwtEnv"], "jwtEnv", secret)
        path = auth.get("jwtFile") or default_file or ""
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise self._error(
                "invalid", secret, f"cannot read the JWT file {path}: {exc.strerror}"
            ) from None

    def _env(self, variable: str, field: str, secret: str) -> str:
        value = os.environ.get(variable) if variable else None
        if not value:
            raise self._error(
                "invalid",
                secret,
                f"environment variable {variable or '(none)'} named by auth.{field} is not set",
            )
        return value

    # -- errors -----------------------------------------------------------------------------

    def _from_vault(
        self, exc: Exception, secret: str, options: Mapping[str, Any], hidden: Sequence[str]
    ) -> ProviderError:
        import hvac.exceptions as e

        where = _where(options, str(options.get("path") or secret))
        said = scrub(_vault_errors(exc), *hidden)
        if isinstance(exc, e.InvalidPath):
            return self._error(
                "not_found",
                secret,
                f"nothing stored at {where}",
                hint="check mount, path and kvVersion (KV v1 and v2 paths differ)",
            )
        if isinstance(exc, e.Forbidden | e.Unauthorized):
            return self._error(
                "denied",
                secret,
                f"access to {where} denied: {said}",
                hint="check the token (VAULT_TOKEN) and that its policy allows this path",
            )
        if isinstance(exc, e.InvalidRequest | e.ParamValidationError | e.UnsupportedOperation):
            return self._error("invalid", secret, f"Vault refused the request for {where}: {said}")
        reason: Reason = "unreachable"
        return self._error(reason, secret, f"Vault could not serve {where}: {said}")

    def _unreachable(
        self, secret: str, options: Mapping[str, Any], exc: Exception
    ) -> ProviderError:
        address = option(options, "address", os.environ.get("VAULT_ADDR", "")) or "(default)"
        return self._error(
            "unreachable",
            secret,
            f"cannot reach Vault at {address} ({_transport(exc)})",
            hint="check VAULT_ADDR (or address) and that the server is up; TLS: VAULT_CACERT",
        )

    def _error(self, reason: Reason, secret: str, detail: str, hint: str = "") -> ProviderError:
        return ProviderError(reason, secret=secret, provider=self.name, detail=detail, hint=hint)


def _kv_version(options: Mapping[str, Any]) -> int:
    return int(option(options, "kvVersion", 2))


def _where(options: Mapping[str, Any], path: str) -> str:
    return f"{option(options, 'mount', 'secret')}/{path} (KV v{_kv_version(options)})"


def _transport(exc: Exception) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "its TLS certificate is not trusted"
    return type(exc).__name__


def _vault_errors(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    return "; ".join(str(e) for e in errors) if errors else type(exc).__name__


def _auth_errors(auth: Any) -> list[str]:
    if auth is None:
        return []
    if not isinstance(auth, Mapping):
        return ["field 'auth' must be a mapping such as {method: approle, roleId: ...}"]
    method = auth.get("method", "token")
    if method not in AUTH_METHODS:
        return [f"auth.method must be one of {', '.join(AUTH_METHODS)}, not {method!r}"]
    errors = []
    if "token" in auth:
        errors.append("auth.token is not allowed: a token never goes in a manifest (VAULT_TOKEN)")
    if method == "approle" and not (auth.get("roleId") or auth.get("roleIdEnv")):
        errors.append("auth.method approle needs roleId (or roleIdEnv)")
    if method in ("jwt", "kubernetes") and not auth.get("role"):
        errors.append(f"auth.method {method} needs role")
    if method == "jwt" and not (auth.get("jwtEnv") or auth.get("jwtFile")):
        errors.append("auth.method jwt needs jwtEnv or jwtFile")
    return errors
