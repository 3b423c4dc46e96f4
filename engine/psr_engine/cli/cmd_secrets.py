"""psr-engine secrets get|put|delete|list PROVIDER PATH [--key K]: manage secrets in a store.

A value is printed only with --reveal; `put` reads the value from stdin unless --value is
given (a value on the command line lands in shell history and `ps`).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("action", choices=("get", "put", "delete", "list"))
    add("provider", metavar="PROVIDER", help="vault, aws, azure, gcp, env or file")
    add(
        "path",
        nargs="?",
        default="",
        metavar="PATH",
        help="the secret (vault path, aws/azure/gcp name, file path; a prefix for list)",
    )
    add("--key", help="a field of the secret")
    add("--value", help="put: the value (default: read from stdin)")
    add(
        "--reveal",
        action="store_true",
        help="get: print the value itself; list (file): print the field names",
    )
    add(
        "-O",
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a provider field, as in the manifest (e.g. -O mount=kv -O region=eu-west-1)",
    )


def run(args: argparse.Namespace) -> int:
    import anyio

    from psr_engine.cli.options import parse_param_args
    from psr_engine.secrets import secrets_command

    value = args.value
    if args.action == "put" and value is None:
        value = sys.stdin.read().rstrip("\n")
    options = parse_param_args(args.option)
    out = anyio.run(
        lambda: secrets_command(
            args.action,
            args.provider,
            args.path,
            key=args.key,
            value=value,
            reveal=args.reveal,
            options=options,
        )
    )
    if out:
        sys.stdout.write(out + "\n")
    return 0
