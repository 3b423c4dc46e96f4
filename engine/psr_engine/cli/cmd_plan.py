"""psr-engine plan [FILE]: what a run would do, as a table or as the Plan's JSON."""

from __future__ import annotations

import argparse
import sys

from psr_engine.cli.options import add_manifest, add_output, add_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser)
    add_params(parser)
    add_output(parser, ("table", "json"))


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import manifest_file, parse_param_args, use_color

    plan = api.make_plan(
        manifest_file(args.file), params=parse_param_args(args.param), params_file=args.params_file
    )
    if args.output == "json":
        sys.stdout.write(plan.to_json(indent=2) + "\n")
    else:
        import shutil

        from psr_engine.plan.render import plan_table

        color = use_color() and sys.stdout.isatty()
        width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120
        sys.stdout.write(plan_table(plan, width=width, no_color=not color))
        if plan.cost:
            from psr_engine.cost import projection, projection_text
            from psr_engine.store import state_dir_for_manifest

            projected = projection(plan, state_dir_for_manifest(plan.manifest_path))
            if projected is not None:
                sys.stdout.write("\n" + projection_text(projected))
    return 0
