"""psr-engine prune --keep N | --older-than 30d: forget old runs and delete their logs."""

from __future__ import annotations

import argparse
import sys

from psr_engine.cli.cmd_runs import add_state_dir, open_history


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", type=int, metavar="N", help="keep the newest N ended runs")
    parser.add_argument(
        "--older-than",
        metavar="AGE",
        help="remove runs started more than AGE ago (30d, 12h, 90m, 2w, or seconds)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, remove nothing"
    )
    add_state_dir(parser)


def parse_age(text: str) -> float:
    """`30d`, `2w`, `12h`, `1h30m`, `90s` or a number of seconds."""
    from psr_engine.store import HistoryError
    from psr_engine.units import parse_duration

    text = text.strip()
    factor = {"d": 86400.0, "w": 604800.0}.get(text[-1:].lower())
    try:
        if factor is not None:
            return float(text[:-1]) * factor
        return float(parse_duration(text))
    except ValueError:
        raise HistoryError(
            f"--older-than {text!r}: expected an age like 30d, 2w, 12h or 90m"
        ) from None


def run(args: argparse.Namespace) -> int:
    from psr_engine.store import HistoryError

    if args.keep is None and args.older_than is None:
        raise HistoryError("prune needs --keep N or --older-than AGE (e.g. --older-than 30d)")
    age = parse_age(args.older_than) if args.older_than is not None else None
    with open_history(args) as store:
        removed = store.prune(keep=args.keep, older_than_s=age, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for record in removed:
        sys.stdout.write(f"{verb} {record.id} ({record.workflow}, {record.status})\n")
    sys.stdout.write(f"{verb} {len(removed)} run{'s' if len(removed) != 1 else ''}\n")
    return 0
