"""psr-engine audit [verify]: list the audit trail, or check its hash chain.

Exit codes: 0 ok, 1 the chain is broken (verify), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from psr_engine.cli.cmd_runs import add_state_dir
from psr_engine.cli.options import add_output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("list", "verify"),
        default="list",
        help="list (default) the entries, or verify the chain: names each edited, removed or "
        "reordered entry, exit 1 if any",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only entries newer than this: an age (30d, 12h, 90m) or a date/time "
        "(2026-12-01, 2026-12-01T10:00:00Z)",
    )
    add_output(parser, ("table", "json"))
    add_state_dir(parser)


def _since(text: str) -> float:
    from datetime import UTC, datetime

    from psr_engine.cli.cmd_prune import parse_age
    from psr_engine.errors import HistoryError, ProvenanceError

    try:
        return time.time() - parse_age(text)
    except HistoryError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProvenanceError(
            f"--since {text!r}: expected an age (30d, 12h) or a date/time (2026-12-01)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _entry_time(entry: dict[str, object]) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(entry.get("time", "")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def run(args: argparse.Namespace) -> int:
    from psr_engine.errors import ProvenanceError
    from psr_engine.provenance.audit import AuditLog
    from psr_engine.store import find_state_dir

    log = AuditLog(find_state_dir(args.state_dir))
    import os

    if not os.path.exists(log.path):
        raise ProvenanceError(
            f"{log.path}: no audit trail here; it is written by `psr-engine apply` "
            "(pass --state-dir, or run from the project's folder)"
        )
    if args.action == "verify":
        return _verify(log, args.output)
    since = _since(args.since) if args.since else None
    entries = [e for _, e, _ in log.entries() if e is not None]
    if since is not None:
        entries = [e for e in entries if _entry_time(e) >= since]
    if args.output == "json":
        sys.stdout.write(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        return 0
    for entry in entries:
        sys.stdout.write(_line(entry) + "\n")
    return 0


def _line(entry: dict[str, Any]) -> str:
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    assert isinstance(details, dict)
    note = {
        "gate": lambda: f"{details.get('gate')}: {details.get('decision')}",
        "budget": lambda: (
            f"{details.get('decision')} ({details.get('spent')} of "
            f"{details.get('limit')} {details.get('currency')})"
        ),
        "secret": lambda: f"{details.get('name')} from {details.get('provider')}",
        "resume": lambda: f"of {details.get('resumedFrom')}",
        "cancel": lambda: str(details.get("reason", "")),
    }.get(str(entry.get("action")), lambda: str(details.get("manifest", "")))()
    ci = entry.get("ci")
    who = f"{entry.get('user')}@{entry.get('host')}"
    if isinstance(ci, dict):
        who += f" [{ci.get('system')}]"
    return (
        f"{entry.get('seq', '?'):>5} {entry.get('time', '')} {entry.get('action', ''):<7} "
        f"{entry.get('runId', '-'):<24} {who}  {note}"
    )


def _verify(log: object, output: str) -> int:
    from psr_engine.provenance.audit import AuditLog

    assert isinstance(log, AuditLog)
    problems = log.verify()
    count = sum(1 for _, e, _ in log.entries() if e is not None)
    if output == "json":
        body = {"ok": not problems, "entries": count, "problems": [p.to_dict() for p in problems]}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    elif problems:
        for problem in problems:
            sys.stderr.write(f"{log.path}: {problem}\n")
        sys.stderr.write(f"audit trail broken: {len(problems)} problem(s) in {count} entries\n")
    else:
        sys.stdout.write(f"audit trail intact: {count} entries, chain verified\n")
    return 1 if problems else 0
