"""psr-engine state-dir [FILE]: print the folder that holds a workflow's run history.

The rule `apply` writes by ($PSR_STATE_DIR, else `.psr/` beside the manifest), so a script
(a CI job saving the history between attempts, copying task logs) never guesses a path.
Without FILE, the rule the look-back commands read by (runs, status, logs): $PSR_STATE_DIR,
else the nearest `.psr/` from the current folder upwards.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="the manifest whose history `apply FILE` records (default: look upwards from here)",
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine.store import find_state_dir, state_dir_for_manifest

    where = find_state_dir() if args.file is None else state_dir_for_manifest(args.file)
    sys.stdout.write(where + "\n")
    return 0
