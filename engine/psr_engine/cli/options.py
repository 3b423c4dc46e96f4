"""Arguments several commands share, and their conversion to what the API takes."""

from __future__ import annotations

import argparse
import os

DEFAULT_MANIFEST = "workflow.yaml"


def add_manifest(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    if many:
        parser.add_argument(
            "files", nargs="*", metavar="FILE", help=f"manifests (default: {DEFAULT_MANIFEST})"
        )
    else:
        parser.add_argument(
            "file",
            nargs="?",
            default=DEFAULT_MANIFEST,
            metavar="FILE",
            help=f"the manifest (default: {DEFAULT_MANIFEST})",
        )


def add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a param (repeatable); arrays and objects as JSON",
    )
    parser.add_argument("--params-file", metavar="FILE", help="params from a YAML or JSON file")


def add_output(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=choices,
        default=choices[0],
        help=f"format (default: {choices[0]})",
    )


def parse_param_args(pairs: list[str]) -> dict[str, str]:
    from psr_engine.errors import ManifestError

    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ManifestError(f"-p {pair!r}: expected KEY=VALUE, e.g. -p date=2026-11-25")
        params[key.strip()] = value
    return params


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
