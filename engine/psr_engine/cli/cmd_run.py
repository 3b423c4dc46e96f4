"""psr-engine run SCRIPT.py [--timeout T] [--retries N] [-- ARGS]: one Python script with
monitoring, retries and a timeout (the heritage mode of Python Script Runner)."""

from __future__ import annotations

import argparse

from psr_engine.cli.options import add_console

# The CLI hands this command everything after the first `--` as `args.passthrough`.
PASSTHROUGH = True


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", metavar="DURATION", help="e.g. 90s, 10m, 1h30m")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="extra attempts after a failure (default 0)",
    )
    parser.add_argument("--events-jsonl", metavar="FILE", help="also write every event to FILE")
    add_console(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_options(parser)
    parser.add_argument("script", metavar="SCRIPT.py", help="the Python script to run")
    # Options may also follow the script (the order); the script's own arguments come
    # after `--`, which cli/app.py cuts off before argparse sees them (PASSTHROUGH).
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.app import parser_class

    rest = list(args.rest)
    script_args: list[str] = list(getattr(args, "passthrough", None) or [])
    if rest:
        late = parser_class()(prog="psr-engine run SCRIPT.py")
        _add_options(late)
        late.parse_args(rest, namespace=args)
    plan = api.script_plan(args.script, script_args, timeout=args.timeout, retries=args.retries)
    sinks = api.build_sinks(
        plan, quiet=args.quiet, output_mode=args.output_mode, events_jsonl=args.events_jsonl
    )
    result = api.run(plan, sinks=sinks, handle_signals=True)
    return int(result.exit_code)
