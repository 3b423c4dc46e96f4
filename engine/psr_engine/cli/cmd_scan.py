"""psr-engine scan code|secrets|deps [PATH...]: one security gate, run from the command line.

The same scanners, baseline, failOn and SARIF as a manifest's gates; paths in findings (and so
baseline fingerprints) are relative to the current folder. Exit codes: 0 nothing at or above
--fail-on, 3 blocked, 2 bad input (a missing path, a bad baseline, no OSV database), 1 a
scanner that could not run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from psr_engine.cli.options import add_output

if TYPE_CHECKING:
    from psr_engine.plan.model import PlannedGate

KINDS = {"code": "code", "secrets": "secrets", "deps": "dependencies"}
LEVELS = ("low", "medium", "high", "critical", "never")
MAX_NOTES = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=tuple(KINDS), help="what to scan for")
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="files and folders to scan (default: the current folder); for deps, dependency "
        "files or folders holding them",
    )
    add_output(parser, ("table", "json"))
    parser.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 report to FILE")
    parser.add_argument(
        "--fail-on",
        choices=LEVELS,
        default="high",
        metavar="LEVEL",
        help="the lowest severity that fails the scan (exit 3): low, medium, high (default), "
        "critical, or never",
    )
    parser.add_argument("--baseline", metavar="FILE", help="accepted findings (fingerprints)")
    parser.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="accept every current finding: write their fingerprints to FILE and exit 0",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out findings in files matching PATTERN (gitignore style; repeatable)",
    )
    parser.add_argument(
        "--tool",
        action="append",
        choices=("bandit", "semgrep"),
        help="code: run only this analyser (repeatable; default both)",
    )
    parser.add_argument(
        "--osv-db", metavar="PATH", help="deps: a folder of OSV advisories (default $PSR_OSV_DB)"
    )
    parser.add_argument("--online", action="store_true", help="deps: ask the OSV API")
    parser.add_argument("--api-url", metavar="URL", help="deps --online: the OSV API's address")
    parser.add_argument(
        "--unscored-as",
        choices=LEVELS[:4],
        metavar="LEVEL",
        help="deps: the severity of an advisory whose record gives none (default high)",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from psr_engine.gates.runner import judge_with_remarks, scan_gate, write_baseline

    gate = _gate(args)
    base_dir = os.getcwd()
    scan = scan_gate(gate, base_dir=base_dir)
    if args.write_baseline:
        from psr_engine.gates.runner import exclude_findings

        count = write_baseline(exclude_findings(scan.findings, args.exclude), args.write_baseline)
        sys.stderr.write(f"wrote {count} fingerprints to {args.write_baseline}\n")
        return 0
    report, remarks = judge_with_remarks(gate, scan, base_dir=base_dir)
    summary = (report.message or "").splitlines()[0]
    if args.output == "json":
        import json

        body = {
            "scan": args.kind,
            "status": report.status,
            "failOn": gate.fail_on,
            "summary": summary,
            "counts": report.counts,
            "findings": list(report.findings),
            "notes": [*remarks, *scan.notes],
            "sarif": report.sarif,
        }
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        from psr_engine.gates.report import findings_table

        if report.findings:
            sys.stdout.write(findings_table(report.findings) + "\n\n")
        sys.stdout.write(f"{args.kind}: {report.status}: {summary}\n")
        if report.sarif:
            sys.stdout.write(f"SARIF written to {args.sarif}\n")
        notes = [*remarks, *scan.notes]
        for note in notes[:MAX_NOTES]:
            sys.stderr.write(f"note: {note}\n")
        if len(notes) > MAX_NOTES:
            sys.stderr.write(f"note: ... and {len(notes) - MAX_NOTES} more\n")
    return 0 if report.passed else 3


def _gate(args: argparse.Namespace) -> PlannedGate:
    """The PlannedGate a manifest would give for these options (paths made absolute)."""
    import os

    from psr_engine.errors import DiagnosedError
    from psr_engine.plan.model import PlannedGate

    kind = KINDS[args.kind]
    misplaced = [
        flag
        for flag, value, kinds in (
            ("--tool", args.tool, ("code",)),
            ("--osv-db", args.osv_db, ("dependencies",)),
            ("--online", args.online, ("dependencies",)),
            ("--api-url", args.api_url, ("dependencies",)),
            ("--unscored-as", args.unscored_as, ("dependencies",)),
        )
        if value and kind not in kinds
    ]
    if misplaced:
        raise DiagnosedError(f"{misplaced[0]} does not apply to `scan {args.kind}`")
    options: dict[str, object] = {}
    if args.exclude:
        options["exclude"] = list(args.exclude)
    if args.osv_db:
        options["osvDb"] = os.path.abspath(args.osv_db)
    if args.online:
        options["online"] = True
    if args.api_url:
        options["apiUrl"] = args.api_url
    if args.unscored_as:
        options["unscoredAs"] = args.unscored_as
    return PlannedGate(
        name=args.kind,
        type=kind,
        fail_on=args.fail_on,
        paths=tuple(os.path.abspath(p) for p in args.paths),
        tools=tuple(dict.fromkeys(args.tool or ())),
        baseline=os.path.abspath(args.baseline) if args.baseline else None,
        sarif=os.path.abspath(args.sarif) if args.sarif else None,
        options=options,
    )
