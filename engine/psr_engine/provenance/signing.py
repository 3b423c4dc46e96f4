"""Signing statements: keys (ed25519 by default, ECDSA P-256), PEM files, DSSE envelopes.

The formats are securesystemslib's (DSSE `Envelope`, `CryptoSigner`, `SSlibKey`) and
pyca/cryptography's (keys, PEM), the `signing` extra. Keys are unencrypted PKCS#8 PEM files:
keep the private one in the CI's secret store and pass its path as --sign-key or
PSR_SIGNING_KEY.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from psr_engine.errors import ProvenanceError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
ENV_KEY = "PSR_SIGNING_KEY"
KeyType = Literal["ed25519", "ecdsa-p256"]
KEY_TYPES: tuple[KeyType, ...] = ("ed25519", "ecdsa-p256")
_INSTALL = "signing needs the `signing` extra: pip install 'psr-engine[signing]'"


def generate_key(kind: KeyType = "ed25519") -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a fresh key pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    private: Any
    if kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif kind == "ecdsa-p256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ProvenanceError(f"key type {kind!r}: expected one of {', '.join(KEY_TYPES)}")
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise ProvenanceError(f"{path}: cannot read the {what}: {error.strerror}") from None


def load_signer(path: str) -> Any:
    """A securesystemslib CryptoSigner for the PEM private key at `path`."""
    try:
        from cryptography.hazmat.primitives import serialization
        from securesystemslib.signer import CryptoSigner
    except ImportError:
        raise ProvenanceError(_INSTALL) from None
    try:
        private = serialization.load_pem_private_key(_read(path, "signing key"), password=None)
        return CryptoSigner(private)
    except (ValueError, TypeError) as error:
        raise ProvenanceError(
            f"{path}: not a usable unencrypted PEM private key (ed25519 or ECDSA P-256): "
            f"{error}; `psr-engine keys generate` makes one"
        ) from None


def load_public_key(path: str) -> Any:
    """A securesystemslib SSlibKey for the PEM public key at `path` (or a private key's)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from securesystemslib.signer import SSlibKey
    except ImportError:
        raise ProvenanceError(_INSTALL) from None
    data = _read(path, "public key")
    try:
        if b"PRIVATE KEY" in data:
            public = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            public = serialization.load_pem_public_key(data)
        return SSlibKey.from_crypto(public)
    except (ValueError, TypeError) as error:
        raise ProvenanceError(f"{path}: not a PEM ed25519 or ECDSA P-256 key: {error}") from None


def envelope_for(payload: bytes, signer: Any) -> dict[str, Any]:
    """A DSSE envelope of `payload` (the statement's bytes), signed by `signer`."""
    from securesystemslib.dsse import Envelope

    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    wire: dict[str, Any] = envelope.to_dict()
    return wire


def is_envelope(document: Mapping[str, Any]) -> bool:
    return "payload" in document and "payloadType" in document


@dataclass(frozen=True, slots=True)
class Opened:
    statement: dict[str, Any]
    signed: bool
    signature_ok: bool | None  # None: not checked (no key given, or not signed)
    problem: str | None = None


def open_document(document: Mapping[str, Any], key_path: str | None) -> Opened:
    """The statement inside `document` (a DSSE envelope or a bare statement), and whether its
    signature verified with the key at `key_path`."""
    if not is_envelope(document):
        problem = None
        if key_path:
            problem = "signature: the statement is not signed (no DSSE envelope)"
        return Opened(
            dict(document), signed=False, signature_ok=False if key_path else None, problem=problem
        )
    try:
        payload = base64.b64decode(str(document["payload"]), validate=True)
        statement = json.loads(payload)
    except (ValueError, TypeError):
        return Opened({}, True, False, "envelope: its payload is not base64 of a JSON statement")
    if not isinstance(statement, dict):
        return Opened({}, True, False, "envelope: its payload is not a JSON object")
    if key_path is None:
        return Opened(statement, True, None)
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    key = load_public_key(key_path)
    try:
        Envelope.from_dict(dict(document)).verify([key], 1)
    except (VerificationError, ValueError, KeyError, TypeError) as error:
        return Opened(
            statement, True, False, f"signature: does not verify with {key_path}: {error}"
        )
    return Opened(statement, True, True)


def write_private(path: str, data: bytes) -> None:
    """A private key file only its owner can read, never overwriting one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
