"""psr-engine schema: print the manifest's JSON Schema (point an editor at it)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--name", default="workflow.v1.json", help="which schema (default: workflow.v1.json)"
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine.manifest.schema import schema_text

    text = schema_text(args.name)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
