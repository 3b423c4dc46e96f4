"""psr-engine gitlab-report SARIF... [--sast FILE] [--code-quality FILE] [--root DIR].

SARIF files (what `scan --sarif` writes, or any tool's) as GitLab's SAST and Code Quality
reports, every location made relative to DIR (default: the current folder; in a GitLab job,
$CI_PROJECT_DIR), so merge-request findings point at files that exist. Exit 2 when a file is
not SARIF.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sarif", nargs="+", metavar="SARIF", help="SARIF 2.1.0 files to convert")
    parser.add_argument("--sast", metavar="FILE", help="write a GitLab SAST report to FILE")
    parser.add_argument(
        "--code-quality", metavar="FILE", help="write a GitLab Code Quality report to FILE"
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=".",
        help="the repository root locations are made relative to (default: the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from psr_engine.errors import DiagnosedError
    from psr_engine.gates.sarif_gitlab import code_quality_report, read_sarif_issues, sast_report

    if not args.sast and not args.code_quality:
        raise DiagnosedError("gitlab-report: give --sast FILE, --code-quality FILE or both")
    issues = read_sarif_issues(args.sarif, root=args.root)
    outputs: list[tuple[str, object]] = []
    if args.sast:
        outputs.append((args.sast, sast_report(issues)))
    if args.code_quality:
        outputs.append((args.code_quality, code_quality_report(issues)))
    for path, document in outputs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    sys.stderr.write(f"{len(issues)} findings from {len(args.sarif)} SARIF files\n")
    return 0
