"""The safe spellings of what the other modules do: no psr.python rule may fire here."""

import hashlib
import json
import secrets
import subprocess
import tarfile

import requests
import yaml


def run(path):
    return subprocess.run(["ls", "-l", path], check=True, capture_output=True)


def load(stream, blob):
    return yaml.safe_load(stream), json.loads(blob)


def fetch(url):
    return requests.get(url, timeout=10)


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def new_session():
    return secrets.token_urlsafe(32)


def unpack(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
