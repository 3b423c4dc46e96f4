"""psr-engine run SCRIPT.py: one Python script with monitoring, retries and a timeout
(the heritage mode of Python Script Runner)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("script", metavar="SCRIPT.py", help="the Python script to run")
    parser.add_argument("--timeout", metavar="DURATION", help="e.g. 90s, 10m, 1h30m")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="extra attempts after a failure (default 0)",
    )
    parser.add_argument("--events-jsonl", metavar="FILE", help="also write every event to FILE")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments after --")


def run(args: argparse.Namespace) -> int:
    from psr_engine import api

    script_args = args.args[1:] if args.args[:1] == ["--"] else args.args
    plan = api.script_plan(args.script, script_args, timeout=args.timeout, retries=args.retries)
    sinks = api.build_sinks(plan, quiet=args.quiet, events_jsonl=args.events_jsonl)
    result = api.run(plan, sinks=sinks, handle_signals=True)
    return int(result.exit_code)
