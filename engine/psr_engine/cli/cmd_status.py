"""psr-engine status RUN_ID|last: one run and the final state of each of its tasks.

`--output json` prints the spec's shape, with the events' field names:
{"run": {...}, "tasks": {"<task instance>": {"status", "reason", "attempt", "exitCode",
"durationS", "cpuUserS", "cpuSysS", "maxRssBytes", "outputs", ...}}}
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from psr_engine.cli.cmd_runs import (
    STATUS_SYMBOLS,
    add_state_dir,
    format_time,
    open_history,
    render_table,
)
from psr_engine.cli.options import add_output
from psr_engine.units import format_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="RUN_ID|last", help="a run id (or its start), or last")
    parser.add_argument("--workflow", metavar="NAME", help="with `last`: that workflow's last")
    add_output(parser, ("table", "json"))
    add_state_dir(parser)


def _provenance_file(args: argparse.Namespace, run_id: str) -> str | None:
    """The run's provenance statement (or envelope), when it was written."""
    import os

    from psr_engine.provenance.statement import STATEMENT_FILE
    from psr_engine.store import find_state_dir
    from psr_engine.store.paths import run_dir

    path = os.path.join(run_dir(find_state_dir(args.state_dir), run_id), STATEMENT_FILE)
    return path if os.path.isfile(path) else None


def run(args: argparse.Namespace) -> int:
    with open_history(args) as store:
        record = store.run(args.ref, workflow=args.workflow)
        tasks = store.tasks(record.id)
        gates = store.gates(record.id)
    provenance = _provenance_file(args, record.id)
    if args.output == "json":
        document: dict[str, Any] = {
            "run": record.to_dict(),
            "tasks": {t.id: t.to_dict() for t in tasks},
        }
        if gates:
            document["gates"] = {g.gate: g.to_dict() for g in gates}
        if provenance:
            document["provenance"] = provenance
        from psr_engine.cli import json_output

        json_output.write(document)
        return 0
    out = sys.stdout
    symbol = STATUS_SYMBOLS.get(record.status, "?")
    out.write(f"run {record.id} of {record.workflow}: {symbol} {record.status}")
    out.write(f" ({record.reason})\n" if record.reason else "\n")
    out.write(f"  started   {format_time(record.started_at)}")
    out.write(f"   duration {format_duration(record.duration)}\n")
    if record.resumed_from:
        out.write(f"  resumed from {record.resumed_from}\n")
    if record.ci_url:
        out.write(f"  CI job    {record.ci_url}\n")
    if provenance:
        out.write(f"  provenance {provenance}\n")
    for gate in gates:
        found = ", ".join(f"{n} {s}" for s, n in gate.counts.items() if n) or "no findings"
        out.write(f"  gate {gate.gate}: {gate.status} ({found})\n")
    if not tasks:
        out.write("  no tasks recorded\n")
        return 0
    table = [("TASK", "STATUS", "ATTEMPTS", "EXIT", "DURATION", "REASON")]
    for t in tasks:
        table.append(
            (
                t.id,
                f"{STATUS_SYMBOLS.get(t.status, '?')} {t.status}",
                str(t.attempts),
                "-" if t.exit_code is None else str(t.exit_code),
                format_duration(t.duration) if t.attempts else "-",
                t.reason or "",
            )
        )
    out.write(render_table(table))
    return 0
