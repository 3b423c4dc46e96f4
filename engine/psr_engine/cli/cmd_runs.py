"""psr-engine runs: the run history, newest first.

Also home of what the look-back commands (runs, status, logs, prune) share: the --state-dir
option, opening the history, and plain-text tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from psr_engine.cli.options import add_output
from psr_engine.printable import printable
from psr_engine.units import format_duration

if TYPE_CHECKING:
    from psr_engine.store import RunStore

STATUS_SYMBOLS = {
    "succeeded": "✓",
    "failed": "✗",
    "timed_out": "⏱",
    "skipped": "○",
    "cancelled": "⊘",
    "crashed": "☠",
    "running": "▶",
    "retrying": "↻",
    "pending": "·",
    "blocked": "⛔",
}


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="the folder holding runs.db (default: $PSR_STATE_DIR, else the nearest .psr/ "
        "from here upwards, beside workflow.yaml)",
    )


def open_history(args: argparse.Namespace, *, create: bool = False) -> RunStore:
    """The history `--state-dir` names, or the one found from here (saying where, on stderr,
    when it was found below this folder)."""
    from psr_engine.store import RunStore
    from psr_engine.store.paths import locate_state_dir

    state_dir, note = locate_state_dir(args.state_dir)
    if note:
        sys.stderr.write(note + "\n")
    return RunStore.open(state_dir, create=create)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workflow", metavar="NAME", help="only runs of this workflow")
    parser.add_argument(
        "--status",
        metavar="STATUS",
        help="only runs in this state (running, succeeded, failed, cancelled, blocked, crashed)",
    )
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (20)")
    add_output(parser, ("table", "json"))
    add_state_dir(parser)


def run(args: argparse.Namespace) -> int:
    from psr_engine.store import HistoryError, db_path, find_state_dir

    if args.limit < 1:
        raise HistoryError("--limit must be at least 1")
    try:
        store = open_history(args)
    except HistoryError:
        state_dir = find_state_dir(args.state_dir)
        if os.path.isfile(db_path(state_dir)):
            raise  # a history that cannot be read is not an empty one
        # No history yet is an empty history, not an error.
        if args.output == "json":
            sys.stdout.write("[]\n")
        else:
            sys.stdout.write(f"no runs recorded in {db_path(state_dir)}\n")
        return 0
    with store:
        runs = store.runs(workflow=args.workflow, status=args.status, limit=args.limit)
        counts = store.task_counts([r.id for r in runs])
    if args.output == "json":
        from psr_engine.cli import json_output

        json_output.write([{**r.to_dict(), "tasks": counts.get(r.id, {})} for r in runs])
        return 0
    if not runs:
        sys.stdout.write("no runs match\n")
        return 0
    table = [("RUN", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TASKS")]
    for r in runs:
        table.append(
            (
                r.id,
                r.workflow,
                f"{STATUS_SYMBOLS.get(r.status, '?')} {r.status}",
                format_time(r.started_at),
                format_duration(r.duration),
                format_counts(counts.get(r.id, {})),
            )
        )
    sys.stdout.write(render_table(table))
    return 0


def format_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def format_counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    done = counts.get("succeeded", 0)
    others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "succeeded")
    return f"{done}/{total}" + (f" ({others})" if others else "")


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; every cell printable (an id holding a newline or
    an ESC sequence would forge a row or redraw the screen)."""
    rows = [[printable(str(cell)) for cell in row] for row in rows]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
