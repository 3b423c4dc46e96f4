"""Private keys as the tools write them, generated at test time: every one is found.

A fabricated fixture key missed what `ssh-keygen -N ""` really writes: an unencrypted OpenSSH
key's first body line is `b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA…`, whose
runs of A's the placeholder filter took for a stand-in. Key material is now checked by its
structure instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from secret_corpus import pem_keys

from psr_engine.gates.secrets import SecretScanner

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(
    SSH_KEYGEN is None,
    reason="ssh-keygen is not installed (apt-get install openssh-client; make test does)",
)
KEY_TYPES = [("ed25519", []), ("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "256"])]


def _keygen(tmp_path: Path, kind: str, bits: list[str], passphrase: str, *extra: str) -> Path:
    path = tmp_path / f"id_{kind}"
    subprocess.run(
        [
            SSH_KEYGEN or "ssh-keygen",
            "-q",
            "-t",
            kind,
            *bits,
            "-N",
            passphrase,
            "-C",
            "ci@test",
            "-f",
            str(path),
            *extra,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


@needs_ssh_keygen
@pytest.mark.parametrize("passphrase", ["", "correct horse battery"], ids=["plain", "encrypted"])
@pytest.mark.parametrize(("kind", "bits"), KEY_TYPES, ids=[k for k, _ in KEY_TYPES])
def test_ssh_keygen_keys_are_found_encrypted_or_not(tmp_path, kind, bits, passphrase):
    path = _keygen(tmp_path, kind, bits, passphrase)
    text = path.read_text()
    if not passphrase:  # the shape that used to be dropped as a placeholder
        assert text.splitlines()[1].startswith("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ")
    findings = SecretScanner(workers=1).scan_file(path, root=tmp_path)
    assert [(f.rule_id, f.line, f.severity) for f in findings] == [
        ("openssh-private-key", 1, "critical")
    ]
    assert SecretScanner().validate_secret_type(text, "openssh-private-key")


@needs_ssh_keygen
@pytest.mark.parametrize(("kind", "bits"), KEY_TYPES[1:], ids=[k for k, _ in KEY_TYPES[1:]])
def test_ssh_keygen_pem_format_keys_are_found(tmp_path, kind, bits):
    path = _keygen(tmp_path, kind, bits, "", "-m", "PEM")
    findings = SecretScanner(workers=1).scan_file(path, root=tmp_path)
    assert [(f.rule_id, f.line) for f in findings] == [("private-key", 1)]


@needs_ssh_keygen
def test_a_key_in_a_tree_is_found_beside_its_public_half(tmp_path):
    _keygen(tmp_path, "ed25519", [], "")
    findings = SecretScanner(workers=1).scan_directory(tmp_path)
    assert [(f.file, f.rule_id) for f in findings] == [("id_ed25519", "openssh-private-key")]


@pytest.mark.parametrize(("rule_id", "kind", "pem"), pem_keys(), ids=lambda v: str(v)[:24])
def test_cryptography_keys_of_every_type_and_format_are_found(tmp_path, rule_id, kind, pem):
    (tmp_path / "key.pem").write_bytes(pem)
    findings = SecretScanner(workers=1).scan_file(tmp_path / "key.pem", root=tmp_path)
    assert [(f.rule_id, f.line) for f in findings] == [(rule_id, 1)], kind


def test_a_key_pasted_into_json_with_escaped_newlines_is_found(tmp_path):
    import json

    (_, _, pem) = next(k for k in pem_keys() if k[1] == "ec-pkcs8-plain")
    text = json.dumps({"tls": {"key": pem.decode()}})
    findings = SecretScanner(workers=1).scan_text(text, file="config.json")
    assert [f.rule_id for f in findings] == ["private-key"]
