"""Large files between the engine and Dask workers, through an object store.

``spec.executor: {type: dask, staging: {url: s3://bucket/prefix, threshold: 8Mi}}``: a file
larger than ``threshold`` is not put in the attempt's message (Dask's data plane, which holds
it in memory on the scheduler's path and the worker's) but uploaded to
``s3://bucket/prefix/<attempt>/...`` and fetched on the other side, then deleted by the engine
once the attempt has ended. boto3 finds credentials as it always does (environment, profile,
instance role) on the engine and on each worker; ``endpoint`` points it at an S3-compatible
store (MinIO, Ceph, a test server).

Both records are small and picklable: they travel with the attempt.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from psr_engine.errors import ExecutionError

# Files above this many bytes go through the store when one is configured.
DEFAULT_THRESHOLD = 8 << 20


@dataclass(frozen=True, slots=True)
class Staged:
    """A file put in the store: where, and how large."""

    url: str  # s3://bucket/key
    size: int


@dataclass(frozen=True, slots=True)
class Staging:
    url: str  # s3://bucket/prefix
    threshold: int = DEFAULT_THRESHOLD
    endpoint: str | None = None

    @property
    def bucket(self) -> str:
        return urlparse(self.url).netloc

    @property
    def prefix(self) -> str:
        return urlparse(self.url).path.strip("/")

    def upload(self, path: str, name: str) -> Staged:
        import os

        key = f"{self.prefix}/{name}" if self.prefix else name
        _client(self.endpoint).upload_file(path, self.bucket, key)
        return Staged(f"s3://{self.bucket}/{key}", os.path.getsize(path))

    def download(self, staged: Staged, path: str) -> None:
        parsed = urlparse(staged.url)
        _client(self.endpoint).download_file(parsed.netloc, parsed.path.lstrip("/"), path)

    def delete(self, staged: Staged) -> None:
        parsed = urlparse(staged.url)
        _client(self.endpoint).delete_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))


def write_shipped(path: str, content: bytes | Staged, staging: Staging | None) -> None:
    """Put a file that travelled with an attempt at `path`, its folders made: its bytes, or the
    staged object downloaded. One rule for both ends (the worker's inputs, the engine's
    artifacts)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(content, bytes):
        with open(path, "wb") as handle:
            handle.write(content)
    else:
        assert staging is not None  # staged only when a staging store is configured
        staging.download(content, path)


def validate_staging(value: Any) -> list[tuple[str, str]]:
    """Compile-time check of `staging:` (the schema checks types)."""
    if not isinstance(value, dict):
        return [("staging", "staging must be a mapping like {url: s3://bucket/prefix}")]
    url = str(value.get("url", ""))
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        return [("staging.url", f"{url!r} is not an s3://bucket/prefix URL")]
    return []


_clients: dict[str | None, Any] = {}
_lock = threading.Lock()


def _client(endpoint: str | None) -> Any:
    with _lock:
        client = _clients.get(endpoint)
        if client is None:
            try:
                import boto3
            except ImportError:
                raise ExecutionError(
                    "staging files through s3:// needs boto3: pip install 'psr-engine[aws]' "
                    "(on the engine and on every worker)"
                ) from None
            client = _clients[endpoint] = boto3.client("s3", endpoint_url=endpoint)
        return client
