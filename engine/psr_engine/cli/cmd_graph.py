"""psr-engine graph [FILE] --format mermaid|dot: the task graph, for docs and reviews."""

from __future__ import annotations

import argparse
import sys

from psr_engine.cli.options import add_manifest, add_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser)
    add_params(parser)
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import manifest_file, parse_param_args
    from psr_engine.plan.render import plan_dot, plan_mermaid

    plan = api.make_plan(
        manifest_file(args.file), params=parse_param_args(args.param), params_file=args.params_file
    )
    sys.stdout.write((plan_mermaid if args.format == "mermaid" else plan_dot)(plan))
    return 0
