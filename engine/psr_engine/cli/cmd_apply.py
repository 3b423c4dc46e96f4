"""psr-engine apply [FILE]: run a workflow.

Exit codes: 0 ok, 1 failed, 2 invalid input, 3 gate blocked, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from psr_engine.cli.options import add_manifest, add_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser)
    add_params(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="TASK",
        default=None,
        help="run only these tasks and what they need",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would run, in order, and run nothing"
    )
    parser.add_argument(
        "--max-parallel",
        type=int,
        metavar="N",
        help="run at most N tasks at once (overrides spec.concurrency)",
    )
    parser.add_argument("--events-jsonl", metavar="FILE", help="also write every event to FILE")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures and the final summary line"
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import parse_param_args

    if args.max_parallel is not None and args.max_parallel < 1:
        from psr_engine.errors import ManifestError

        raise ManifestError("--max-parallel must be at least 1")
    plan = api.compile_cached(
        args.file, params=parse_param_args(args.param), params_file=args.params_file
    )
    if args.only:
        plan = api.select(plan, args.only)
    if args.dry_run:
        sys.stdout.write(api.describe_dry_run(plan))
        return 0
    sinks = api.build_sinks(plan, quiet=args.quiet, events_jsonl=args.events_jsonl)
    result = api.run(plan, sinks=sinks, handle_signals=True, concurrency=args.max_parallel)
    return int(result.exit_code)
