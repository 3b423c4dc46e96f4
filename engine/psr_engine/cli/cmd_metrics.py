"""psr-engine metrics EVENTS.jsonl... [-o FILE]: runs' timings as OpenMetrics text.

Each file is one run's `apply --events-jsonl`; run i (in the order given) is labelled
`run="i"`. GitLab's `artifacts:reports:metrics` reads the result (the `.psr_benchmark` job).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", nargs="+", metavar="EVENTS", help="events JSONL files, one a run")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: standard output)"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from psr_engine.events.openmetrics import openmetrics_text, read_run_figures

    text = openmetrics_text([read_run_figures(path) for path in args.events])
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    return 0
