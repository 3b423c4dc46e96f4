"""psr-engine sbom [--from FILE|DIR] [--output FILE]: a CycloneDX 1.6 SBOM (JSON).

Of the Python environment psr-engine runs in, of a dependency file (requirements.txt,
pyproject.toml, poetry.lock, uv.lock, Pipfile.lock), or of a project folder (its lock file
first, then requirements.txt, then pyproject.toml). Components carry their `dependsOn` graph.
The document is validated before it is printed or written; exit 2 when the dependency file is
missing or unreadable.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        metavar="FILE|DIR",
        help="a requirements.txt, pyproject.toml, poetry.lock, uv.lock or Pipfile.lock, or a "
        "project folder holding one (default: the environment psr-engine is installed in)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the SBOM to FILE (default: standard output)"
    )


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from psr_engine.gates.sbom import generate_sbom

    if args.output is not None:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    text = generate_sbom(args.source, output=args.output)
    if args.output is None:
        sys.stdout.write(text + "\n")
    else:
        components = len(json.loads(text).get("components", []))
        sys.stderr.write(
            f"wrote a CycloneDX 1.6 SBOM of {components} components to {args.output}\n"
        )
    return 0
