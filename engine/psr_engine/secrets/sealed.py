"""Sealing a cached file with a key derived from what the user gave on the command line.

A plan compiled with ``-p`` values (or a params file) holds those values, and one of them may
be a secret (``-p token=$API_TOKEN``). The engine cannot tell which before the run, so the
cached plan is encrypted and authenticated (Fernet: AES-128-CBC and HMAC-SHA256, from the
``cryptography`` package) with a key derived from the given values themselves: whoever can
read ``.psr/plans/`` but does not know the values learns nothing from the file, and a
repeated ``apply`` with the same values, which knows them, reads it back.

The derivation is one SHA-256 (the cache's file name is a hash of the same values already):
it protects values with the entropy of a secret, not a guessable word.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

_CONTEXT = b"psr-engine plan cache seal v1\0"


def available() -> bool:
    """Whether sealing can be done here (the ``cryptography`` package is installed)."""
    from importlib.util import find_spec

    return find_spec("cryptography") is not None


def seal(text: str, material: bytes) -> bytes:
    """``text`` encrypted and authenticated under a key derived from ``material``."""
    return _fernet(material).encrypt(text.encode())


def unseal(blob: bytes, material: bytes) -> str | None:
    """What ``seal`` sealed with the same material; None when the file was not sealed with it
    (another value, a damaged or tampered file)."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(material).decrypt(blob).decode()
    except (InvalidToken, ValueError):
        return None


def _fernet(material: bytes) -> Any:
    from cryptography.fernet import Fernet

    key = hashlib.sha256(_CONTEXT + material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


__all__ = ["available", "seal", "unseal"]
