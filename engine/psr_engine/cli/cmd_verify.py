"""psr-engine verify RUN|FILE [--key PUB]: check a run's provenance against the files on disk.

Exit codes: 0 clean, 1 a mismatch or a bad signature, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from psr_engine.cli.cmd_runs import add_state_dir
from psr_engine.cli.options import add_output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        nargs="?",
        default="last",
        metavar="RUN|FILE",
        help="a run id, `last` (default), or a provenance file (statement or DSSE envelope)",
    )
    parser.add_argument(
        "--key",
        metavar="PUB",
        help="the public key (PEM) the envelope must be signed with; without it a "
        "signature is not checked",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="the folder the statement's file names are relative to (default: the manifest's "
        "folder as recorded; give the checkout's when verifying a downloaded artifact)",
    )
    add_output(parser, ("text", "json"))
    add_state_dir(parser)


def run(args: argparse.Namespace) -> int:
    from psr_engine.provenance.verify import statement_file, verify_file
    from psr_engine.store import find_state_dir

    path = statement_file(args.target, find_state_dir(args.state_dir))
    report = verify_file(path, key=args.key, base=args.root)
    if args.output == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return 0 if report.ok else 1
    for problem in report.problems:
        sys.stderr.write(f"✗ {problem}\n")
    for note in report.notes:
        sys.stderr.write(f"note: {note}\n")
    if report.ok:
        signature = " signature verified," if report.signature_ok else ""
        sys.stdout.write(f"✓ {path}:{signature} {report.checked} files match their digests\n")
        return 0
    sys.stderr.write(f"{path}: {len(report.problems)} problem(s)\n")
    return 1
