"""The ``gcp`` provider: Google Secret Manager via google-cloud-secret-manager.

Credentials come from Application Default Credentials; ``project`` defaults to
GOOGLE_CLOUD_PROJECT. ``name`` may also be a full resource name (projects/P/secrets/N).
"""

from __future__ import annotations

import os
import threading
import warnings
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
    pick_field,
    require,
)

_KNOWN = ("project", "name", "version", "key", "timeout")


class GcpProvider:
    """Reads a secret version (default ``latest``) from Google Secret Manager."""

    name = "gcp"
    path_field = "name"

    def __init__(self) -> None:
        self._client_obj: Any = None
        self._lock = threading.Lock()

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        errors = check_fields(
            options, required=("name",), strings=("project", "name", "key"), known=_KNOWN
        )
        version = options.get("version")
        if version is not None and not (
            version == "latest" or (str(version).isdigit() and not isinstance(version, bool))
        ):
            errors.append("field 'version' must be 'latest' or a version number")
        return errors

    async def get(self, ref: SecretRef) -> str:
        opts = ref.options
        resource = f"{self._secret(ref.name, opts, str(opts.get('name')))}/versions/"
        resource += str(opts.get("version") or "latest")
        answer = await in_thread(
            lambda: self._call(
                ref.name, opts, lambda c: c.access_secret_version(name=resource, timeout=_t(opts))
            )
        )
        try:
            text = answer.payload.data.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error("invalid", ref.name, "the secret is not UTF-8 text") from None
        key = opts.get("key")
        if key is None:
            return text
        fields = json_fields(text, secret=ref.name, provider=self.name)
        return pick_field(fields, key, secret=ref.name, provider=self.name)

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        """Add a version to secret ``path``, creating the secret (automatic replication)."""
        import json

        def write() -> None:
            secret = self._secret(path, options, path)
            current = None
            if key is not None:
                try:
                    current = self._call(
                        path,
                        options,
                        lambda c: c.access_secret_version(name=f"{secret}/versions/latest"),
                    ).payload.data.decode("utf-8")
                except ProviderError as exc:
                    if exc.reason != "not_found":
                        raise
            stored = merge_field(current, value, key)
            data = (stored if isinstance(stored, str) else json.dumps(stored)).encode()
            try:
                self._call(path, options, lambda c: c.get_secret(name=secret))
            except ProviderError as exc:
                if exc.reason != "not_found":
                    raise
                parent, _, secret_id = secret.rpartition("/secrets/")
                self._call(
                    path,
                    options,
                    lambda c: c.create_secret(
                        parent=parent,
                        secret_id=secret_id,
                        secret={"replication": {"automatic": {}}},
                    ),
                )
            self._call(
                path,
                options,
                lambda c: c.add_secret_version(parent=secret, payload={"data": data}),
            )

        await in_thread(write)

    async def delete(self, path: str, **options: Any) -> None:
        """Delete secret ``path`` and all its versions."""
        secret = self._secret(path, options, path)
        await in_thread(lambda: self._call(path, options, lambda c: c.delete_secret(name=secret)))

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """Names of the project's secrets that start with ``path``."""
        parent = f"projects/{self._project(path, options)}"

        def names(client: Any) -> list[str]:
            found = (s.name.rpartition("/")[2] for s in client.list_secrets(parent=parent))
            return sorted(n for n in found if n.startswith(path))

        return await in_thread(lambda: self._call(path or "(all)", options, names))

    # -- the SDK (in a worker thread) -------------------------------------------------------

    def _secret(self, secret: str, options: Mapping[str, Any], name: str) -> str:
        if name.startswith("projects/"):
            return name.split("/versions/")[0]
        return f"projects/{self._project(secret, options)}/secrets/{name}"

    def _project(self, secret: str, options: Mapping[str, Any]) -> str:
        project = options.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project:
            raise self._error(
                "invalid",
                secret,
                "no Google Cloud project",
                hint="set project in the secret reference, or GOOGLE_CLOUD_PROJECT",
            )
        return str(project)

    def _call(self, secret: str, options: Mapping[str, Any], operation: Any) -> Any:
        with warnings.catch_warnings():
            # google.api_core warns about Python versions on import; not our users' news.
            warnings.simplefilter("ignore", FutureWarning)
            require("google.cloud.secretmanager", extra="gcp", secret=secret, provider=self.name)
        from google.api_core import exceptions as gx
        from google.auth import exceptions as auth_errors

        try:
            return operation(self._client())
        except gx.NotFound:
            raise self._error("not_found", secret, "no such secret or version") from None
        except (gx.PermissionDenied, gx.Unauthenticated, auth_errors.GoogleAuthError) as exc:
            raise self._error(
                "denied",
                secret,
                f"access denied ({type(exc).__name__})",
                hint="check Application Default Credentials and roles/secretmanager.secretAccessor",
            ) from None
        except (gx.ServiceUnavailable, gx.DeadlineExceeded, gx.RetryError) as exc:
            raise self._error(
                "unreachable", secret, f"Secret Manager unreachable ({type(exc).__name__})"
            ) from None
        except gx.GoogleAPICallError as exc:
            code = int(getattr(exc, "code", 0) or 0)
            reason: Reason = "unreachable" if code >= 500 else "invalid"
            raise self._error(reason, secret, f"Secret Manager refused: {exc.message}") from None

    def _client(self) -> Any:
        with self._lock:
            if self._client_obj is None:
                from google.cloud import secretmanager

                self._client_obj = secretmanager.SecretManagerServiceClient()
            return self._client_obj

    def _error(self, reason: Reason, secret: str, detail: str, hint: str = "") -> ProviderError:
        return ProviderError(reason, secret=secret, provider=self.name, detail=detail, hint=hint)


def _t(options: Mapping[str, Any]) -> float:
    return float(options.get("timeout") or 30)
