"""psr-engine keys generate: a key pair for signing run provenance (PEM files).

Exit codes: 0 written, 2 bad input (the file exists, an unknown type).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("generate",), help="generate: a new key pair")
    parser.add_argument(
        "--type",
        dest="key_type",
        choices=("ed25519", "ecdsa-p256"),
        default="ed25519",
        help="the key's algorithm (default: ed25519)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default="psr-signing.pem",
        help="the private key (mode 0600; default psr-signing.pem); the public key goes "
        "to FILE with .pub.pem",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from psr_engine.errors import ProvenanceError
    from psr_engine.provenance.signing import generate_key, write_private

    public_path = os.path.splitext(args.out)[0] + ".pub.pem"
    for path in (args.out, public_path):
        if os.path.exists(path):
            raise ProvenanceError(f"{path}: exists already; keys are never overwritten")
    private_pem, public_pem = generate_key(args.key_type)
    write_private(args.out, private_pem)
    with open(public_path, "wb") as handle:
        handle.write(public_pem)
    sys.stdout.write(
        f"wrote {args.key_type} private key {args.out} (keep it secret: --sign-key or "
        f"PSR_SIGNING_KEY) and public key {public_path} (verify --key)\n"
    )
    return 0
