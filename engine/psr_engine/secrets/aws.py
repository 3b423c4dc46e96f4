"""The ``aws`` provider: AWS Secrets Manager via boto3.

Credentials, region and endpoint come from boto3's usual chain (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL, instance roles, ...) unless the
reference names them (``profile``, ``region``, ``endpointUrl``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
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
    scrub,
)

_KNOWN = (
    "name",
    "key",
    "versionStage",
    "versionId",
    "region",
    "profile",
    "endpointUrl",
    "encoding",
    "force",
    "recoveryWindowDays",
)
_NOT_FOUND = {"ResourceNotFoundException"}
_DENIED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "DecryptionFailure",
}
_INVALID = {"InvalidParameterException", "InvalidRequestException", "ValidationException"}


class AwsProvider:
    """Reads a secret (or one field of a JSON secret) from AWS Secrets Manager."""

    name = "aws"
    path_field = "name"

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        errors = check_fields(
            options,
            required=("name",),
            strings=("name", "key", "versionStage", "versionId", "region", "profile"),
            known=_KNOWN,
        )
        url = options.get("endpointUrl")
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            errors.append("field 'endpointUrl' must be an http(s) URL")
        if options.get("encoding") not in (None, "utf-8", "base64"):
            errors.append("field 'encoding' must be utf-8 or base64")
        return errors

    async def get(self, ref: SecretRef) -> str:
        opts = ref.options
        secret_id = str(opts.get("name") or "")
        request: dict[str, Any] = {"SecretId": secret_id}
        if opts.get("versionStage"):
            request["VersionStage"] = opts["versionStage"]
        if opts.get("versionId"):
            request["VersionId"] = opts["versionId"]
        answer = await in_thread(
            lambda: self._call(ref.name, opts, lambda c: c.get_secret_value(**request))
        )
        text = self._text(answer, ref.name, opts)
        key = opts.get("key")
        if key is None:
            return text
        fields = json_fields(text, secret=ref.name, provider=self.name)
        return pick_field(fields, key, secret=ref.name, provider=self.name)

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        """Store a new version (creating the secret when missing). With ``key``, the secret is a
        JSON object and only that field changes; a mapping is stored as a JSON object."""

        def write() -> None:
            current = None
            exists = True
            try:
                answer = self._call(path, options, lambda c: c.get_secret_value(SecretId=path))
                current = answer.get("SecretString")
            except ProviderError as exc:
                if exc.reason != "not_found":
                    raise
                exists = False
            stored = merge_field(current, value, key)
            text = stored if isinstance(stored, str) else json.dumps(stored)
            hidden = [text, *(stored.values() if isinstance(stored, dict) else ())]
            if exists:
                self._call(
                    path,
                    options,
                    lambda c: c.put_secret_value(SecretId=path, SecretString=text),
                    hidden=hidden,
                )
            else:
                self._call(
                    path,
                    options,
                    lambda c: c.create_secret(Name=path, SecretString=text),
                    hidden=hidden,
                )

        await in_thread(write)

    async def delete(self, path: str, **options: Any) -> None:
        """Schedule the secret for deletion (AWS keeps it 30 days, ``recoveryWindowDays``
        changes that), or delete it at once with ``force=True``."""
        request: dict[str, Any] = {"SecretId": path}
        if options.get("force"):
            request["ForceDeleteWithoutRecovery"] = True
        elif options.get("recoveryWindowDays"):
            request["RecoveryWindowInDays"] = int(options["recoveryWindowDays"])
        await in_thread(lambda: self._call(path, options, lambda c: c.delete_secret(**request)))

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """Names of the secrets whose name starts with ``path``."""

        def names() -> list[str]:
            def collect(client: Any) -> list[str]:
                filters = [{"Key": "name", "Values": [path]}] if path else []
                pages = client.get_paginator("list_secrets").paginate(Filters=filters)
                found = [s["Name"] for page in pages for s in page.get("SecretList", [])]
                return sorted(n for n in found if n.startswith(path))

            return self._call(path or "(all)", options, collect)

        return await in_thread(names)

    # -- boto3 (in a worker thread) ---------------------------------------------------------

    def _call(
        self, secret: str, options: Mapping[str, Any], operation: Any, *, hidden: Any = ()
    ) -> Any:
        require("boto3", extra="aws", secret=secret, provider=self.name)
        import botocore.exceptions as bx

        try:
            return operation(self._client(options))
        except bx.ClientError as exc:
            raise self._from_client_error(exc, secret, options, list(hidden)) from None
        except bx.NoRegionError:
            raise self._error(
                "invalid",
                secret,
                "no AWS region configured",
                hint="set region in the secret reference, or AWS_REGION",
            ) from None
        except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound) as exc:
            raise self._error(
                "denied",
                secret,
                f"no usable AWS credentials ({type(exc).__name__})",
                hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use a role",
            ) from None
        except (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError) as exc:
            raise self._error(
                "unreachable",
                secret,
                f"cannot reach Secrets Manager at {_endpoint(exc)} ({type(exc).__name__})",
                hint="check the network, region and endpointUrl / AWS_ENDPOINT_URL",
            ) from None

    def _client(self, options: Mapping[str, Any]) -> Any:
        import boto3
        from botocore.config import Config

        key = (options.get("profile"), options.get("region"), options.get("endpointUrl"))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                session = boto3.session.Session(
                    profile_name=options.get("profile"), region_name=options.get("region")
                )
                config = Config(connect_timeout=5, read_timeout=30)
                if not (os.environ.get("AWS_MAX_ATTEMPTS") or os.environ.get("AWS_RETRY_MODE")):
                    # botocore's legacy default retries 4 times with long backoff: a down
                    # endpoint would stall a run for many seconds before saying so.
                    config = config.merge(Config(retries={"mode": "standard", "max_attempts": 2}))
                # endpoint_url=None lets botocore read AWS_ENDPOINT_URL_SECRETS_MANAGER itself.
                client = session.client(
                    "secretsmanager", endpoint_url=options.get("endpointUrl"), config=config
                )
                self._clients[key] = client
            return client

    def _text(self, answer: Mapping[str, Any], secret: str, options: Mapping[str, Any]) -> str:
        if answer.get("SecretString") is not None:
            return str(answer["SecretString"])
        data = answer.get("SecretBinary") or b""
        if options.get("encoding") == "base64":
            return base64.b64encode(data).decode()
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(
                "invalid",
                secret,
                "the binary secret is not UTF-8 text",
                hint="add `encoding: base64` to receive it base64-encoded",
            ) from None

    def _from_client_error(
        self, exc: Any, secret: str, options: Mapping[str, Any], hidden: Sequence[str]
    ) -> ProviderError:
        error = exc.response.get("Error", {})
        code, said = _plain(str(error.get("Code", "")), str(error.get("Message") or ""))
        said = scrub(said, *hidden)
        operation = getattr(exc, "operation_name", "request")
        if code in _NOT_FOUND or "marked for deletion" in said or "marked deleted" in said:
            return self._error(
                "not_found",
                secret,
                f"{operation}: no such secret ({said})",
                hint="check the name and region (secrets are regional)",
            )
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500)
        reason: Reason = "unreachable"
        hint = ""
        if code in _DENIED or status in (401, 403):
            reason, hint = "denied", "check the credentials and the IAM policy for this secret"
        elif code in _INVALID or status < 500:
            reason = "invalid"
        return self._error(reason, secret, f"{operation} failed: {code}: {said}", hint=hint)

    def _error(self, reason: Reason, secret: str, detail: str, hint: str = "") -> ProviderError:
        return ProviderError(reason, secret=secret, provider=self.name, detail=detail, hint=hint)


def _plain(code: str, message: str) -> tuple[str, str]:
    """Code and message of an error, unwrapping the XML body some endpoints send to a JSON
    client (botocore then reports the HTTP status as the code)."""
    if "<Message>" in message:
        inner_code = re.search(r"<Code>([^<]*)</Code>", message)
        inner_message = re.search(r"<Message>([^<]*)</Message>", message)
        code = inner_code.group(1) if inner_code else code
        message = inner_message.group(1) if inner_message else ""
    return code, " ".join(message.split()) or code


def _endpoint(exc: Exception) -> str:
    return str(getattr(exc, "kwargs", {}).get("endpoint_url") or "the configured endpoint")
