"""psr-engine validate FILE...: exit 0 when every file is valid, 2 otherwise."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from psr_engine.cli.options import add_manifest, add_output, add_params

if TYPE_CHECKING:
    from psr_engine.api import ValidationReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser, many=True)
    add_params(parser)
    add_output(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    from psr_engine import api
    from psr_engine.cli.options import manifest_files, parse_param_args
    from psr_engine.printable import printable_lines

    params = parse_param_args(args.param)
    results = [
        api.validate(path, params=params, params_file=args.params_file)
        for path in manifest_files(args.files)
    ]
    if args.output == "json":
        from psr_engine.cli import json_output

        json_output.write(
            {"valid": all(r.ok for r in results), "files": [r.to_dict() for r in results]}
        )
    else:
        for result in results:
            for warning in result.warnings:
                sys.stderr.write(f"{printable_lines(str(warning))}\n")
            if result.ok:
                sys.stdout.write(f"{result.path}: valid ({_counts(result)})\n")
                for note in result.required:
                    sys.stdout.write(f"{note}\n")
            else:
                for diagnostic in result.diagnostics:
                    sys.stderr.write(f"{printable_lines(str(diagnostic))}\n")
                noun = "problem" if len(result.diagnostics) == 1 else "problems"
                sys.stderr.write(f"{result.path}: invalid ({len(result.diagnostics)} {noun})\n")
    return 0 if all(r.ok for r in results) else 2


def _counts(result: ValidationReport) -> str:
    """ "5 tasks, 7 instances" when a matrix makes more instances than tasks, else "5 tasks"."""
    tasks, instances = result.task_count, result.instance_count
    text = f"{tasks} task{'' if tasks == 1 else 's'}"
    if instances != tasks:
        text += f", {instances} instance{'' if instances == 1 else 's'}"
    return text
