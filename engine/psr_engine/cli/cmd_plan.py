"""psr-engine plan [FILE]: what a run would do, as a table or as the Plan's JSON.

`-o FILE.json` saves a reviewable plan (`apply FILE.json` runs exactly it); `--diff OLD [NEW]`
shows what changed between two saved plans (NEW: a fresh plan of FILE), task by task.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from psr_engine.cli.options import add_manifest, add_params

if TYPE_CHECKING:
    from psr_engine.cost.projection import ProjectedCost
    from psr_engine.plan.model import Plan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser)
    add_params(parser)
    parser.add_argument(
        "-o",
        "--output",
        default="table",
        metavar="table|json|FILE.json",
        help="table (default) or json on stdout, or save a reviewable plan to FILE.json "
        "(`psr-engine apply FILE.json` runs exactly it)",
    )
    parser.add_argument(
        "--diff",
        nargs="+",
        metavar="PLAN.json",
        help="OLD [NEW]: what changed between two saved plans, task by task (NEW: a fresh "
        "plan of FILE); or RUN (`last`, a run id): what changed since that run (manifest, "
        "files, params, engine version; its statement holds no tasks); exit 0 either way",
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import manifest_file, parse_param_args, use_color

    if args.diff:
        return _diff(args)
    if args.output not in ("table", "json") and not args.output.endswith(".json"):
        from psr_engine.errors import ManifestError

        raise ManifestError(f"-o {args.output!r}: expected table, json or a FILE.json to save")
    plan = api.make_plan(
        manifest_file(args.file), params=parse_param_args(args.param), params_file=args.params_file
    )
    if args.output not in ("table", "json"):
        written = api.save_plan(plan, args.output)
        sys.stderr.write(
            f"saved the plan to {written}: review it, then psr-engine apply {written}\n"
        )
        return 0
    if args.output == "json":
        from psr_engine.cli import json_output

        document = plan.to_dict()
        projected = _projection(plan)
        if projected is not None:
            document["costProjection"] = projected.to_dict()
        json_output.write(document)
    else:
        import shutil

        from psr_engine.plan.render import plan_table

        color = use_color() and sys.stdout.isatty()
        width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120
        sys.stdout.write(plan_table(plan, width=width, no_color=not color))
        projected = _projection(plan)
        if projected is not None:
            from psr_engine.cost import projection_text

            sys.stdout.write("\n" + projection_text(projected))
    return 0


def _projection(plan: Plan) -> ProjectedCost | None:
    """The run's projected cost (with `spec.cost`), as the table and the JSON show it."""
    if not plan.cost:
        return None
    from psr_engine.cost import projection
    from psr_engine.store import state_dir_for_manifest

    return projection(plan, state_dir_for_manifest(plan.manifest_path))


def _diff(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import manifest_file, parse_param_args
    from psr_engine.errors import ManifestError

    if len(args.diff) > 2:
        raise ManifestError("--diff takes OLD.json and at most one NEW.json")
    first = args.diff[0]
    if len(args.diff) == 1 and not first.endswith(".json"):
        # A run (`last`, or its id): what it was made from, against the manifest now.
        plan = api.make_plan(
            manifest_file(args.file),
            params=parse_param_args(args.param),
            params_file=args.params_file,
        )
        lines = api.diff_saved_plans(
            api.run_plan_document(plan, first), api.saved_plan_document(plan, "plan.json")
        )
        if not lines:
            sys.stdout.write(f"no changes since run {first}: same manifest, files and params\n")
            return 0
        sys.stdout.write(f"--- run {first}\n+++ {plan.manifest_path}\n" + "\n".join(lines) + "\n")
        return 0
    old = api.read_saved_plan(first)
    if len(args.diff) == 2:
        new = api.read_saved_plan(args.diff[1])
        label = args.diff[1]
    else:
        plan = api.make_plan(
            manifest_file(args.file),
            params=parse_param_args(args.param),
            params_file=args.params_file,
        )
        new = api.saved_plan_document(plan, args.diff[0])
        label = plan.manifest_path
    lines = api.diff_saved_plans(old, new)
    if not lines:
        sys.stdout.write(f"no changes: {args.diff[0]} and {label} plan the same run\n")
        return 0
    sys.stdout.write(f"--- {args.diff[0]}\n+++ {label}\n" + "\n".join(lines) + "\n")
    return 0
