"""Signed provenance: `keys generate`, `apply --sign-key`, a DSSE envelope that verifies with
securesystemslib on its own, and `verify` naming every file or byte that changed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

TASKS = """
build:
  run: "printf 'artifact v1' > app.bin"
  cache: {inputs: [src.txt], outputs: [app.bin]}
"""


def _signed_run(ws, key_type: str = "ed25519", *, env_key: bool = False) -> Path:
    ws.write("src.txt", "source\n")
    ws.manifest(TASKS)
    made = ws.cli("keys", "generate", "--type", key_type, "--out", "signing.pem")
    assert made.code == 0, made.stderr
    assert (ws.root / "signing.pem").stat().st_mode & 0o777 == 0o600
    if env_key:
        result = ws.cli("apply", "-q", env={"PSR_SIGNING_KEY": str(ws.root / "signing.pem")})
    else:
        result = ws.cli("apply", "-q", "--sign-key", "signing.pem")
    assert result.code == 0, result.stderr
    (envelope,) = (ws.root / ".psr" / "runs").glob("*/provenance.intoto.json")
    return envelope


def _verify_with_securesystemslib(envelope_path: Path, public_pem: Path) -> dict:
    """Our verify code is not used: securesystemslib and cryptography alone."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    envelope = Envelope.from_dict(json.loads(envelope_path.read_text()))
    key = SSlibKey.from_crypto(load_pem_public_key(public_pem.read_bytes()))
    assert set(envelope.verify([key], 1)) == {key.keyid}
    assert envelope.payload_type == "application/vnd.in-toto+json"
    return json.loads(envelope.payload)


@pytest.mark.parametrize(("key_type", "env_key"), [("ed25519", False), ("ecdsa-p256", True)])
def test_the_envelope_verifies_with_securesystemslib_independently(ws, key_type, env_key) -> None:
    envelope = _signed_run(ws, key_type, env_key=env_key)
    statement = _verify_with_securesystemslib(envelope, ws.root / "signing.pub.pem")
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert [s["name"] for s in statement["subject"]] == ["app.bin"]
    checked = ws.cli("verify", "last", "--key", "signing.pub.pem")
    assert checked.code == 0, checked.stderr
    assert "signature verified" in checked.stdout


def test_verify_names_the_output_and_the_envelope_byte_that_changed(ws) -> None:
    envelope = _signed_run(ws)
    original = envelope.read_text()
    (ws.root / "app.bin").write_bytes(b"artifact v2")
    changed = ws.cli("verify", "last", "--key", "signing.pub.pem")
    assert changed.code == 1
    assert "subject app.bin: sha256 differs" in changed.stderr
    (ws.root / "app.bin").write_bytes(b"artifact v1")
    assert ws.cli("verify", str(envelope), "--key", "signing.pub.pem").code == 0

    # One byte of the payload (the statement inside the envelope), re-encoded validly.
    document = json.loads(original)
    payload = bytearray(base64.b64decode(document["payload"]))
    at = payload.index(b"artifact") if b"artifact" in payload else payload.index(b"app.bin")
    payload[at] ^= 0x01
    document["payload"] = base64.b64encode(bytes(payload)).decode()
    envelope.write_text(json.dumps(document))
    tampered = ws.cli("verify", str(envelope), "--key", "signing.pub.pem")
    assert tampered.code == 1
    assert "signature: does not verify" in tampered.stderr

    # One byte of the signature itself.
    document = json.loads(original)
    signature = document["signatures"][0]["sig"]
    flipped = "A" if signature[10] != "A" else "B"
    document["signatures"][0]["sig"] = signature[:10] + flipped + signature[11:]
    envelope.write_text(json.dumps(document))
    tampered = ws.cli("verify", str(envelope), "--key", "signing.pub.pem")
    assert tampered.code == 1
    assert "signature: does not verify" in tampered.stderr


def test_verify_refuses_bad_input_with_exit_2(ws) -> None:
    envelope = _signed_run(ws)
    assert ws.cli("verify", "no-such-run").code == 2
    (ws.root / "junk.pem").write_text("not a key")
    bad_key = ws.cli("verify", str(envelope), "--key", "junk.pem")
    assert bad_key.code == 2 and "junk.pem" in bad_key.stderr
    bad_sign = ws.cli("apply", "-q", "--sign-key", "junk.pem")
    assert bad_sign.code == 2 and "junk.pem" in bad_sign.stderr
    assert ws.cli("keys", "generate", "--out", "signing.pem").code == 2  # never overwritten


def test_verify_with_root_checks_a_copy_elsewhere(ws, tmp_path) -> None:
    """A statement downloaded as a CI artifact, checked against another checkout."""
    import shutil

    envelope = _signed_run(ws)
    checkout = tmp_path / "checkout"
    shutil.copytree(ws.root, checkout, ignore=shutil.ignore_patterns(".psr"))
    copy = tmp_path / "provenance.intoto.json"
    shutil.copy(envelope, copy)
    args = ("verify", str(copy), "--key", "signing.pub.pem", "--root", str(checkout))
    assert ws.cli(*args).code == 0
    (checkout / "app.bin").write_bytes(b"artifact v3")
    changed = ws.cli(*args)
    assert changed.code == 1 and "subject app.bin" in changed.stderr
