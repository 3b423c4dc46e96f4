"""psr-engine init [DIR] [--template NAME] [-p k=v] [--force]: start a project.

Without --template, writes a commented minimal workflow.yaml whose first line points editors at
the manifest's JSON Schema. Never overwrites a file unless --force.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCHEMA_URL = "https://psr-engine.dev/schemas/workflow.v1.json"

MINIMAL_WORKFLOW = """\
# yaml-language-server: $schema=@SCHEMA@
# A minimal psr-engine workflow. Run it with `psr-engine apply`; check it with
# `psr-engine validate`; see what it would do with `psr-engine plan`.
# The whole language: `psr-engine schema`, or docs/manifest.md.
apiVersion: psr-engine/v1
kind: Workflow
metadata:
  name: @NAME@             # lowercase letters, digits and dashes
  description: My first workflow
spec:
  params:                    # typed inputs: psr-engine apply -p who=team
    who: {type: string, default: world}
  defaults:                  # any task field may be defaulted here
    timeout: 5m
    retries: {limit: 1, backoff: exponential, delay: 2s}
  tasks:                     # task name -> task; `needs` orders them
    hello:
      # ${{ }} values arrive as data, quoted for where they sit (bare or inside "...")
      run: echo "hello ${{ params.who }}" && echo "greeted=${{ params.who }}" >> "$PSR_OUTPUT"
    goodbye:
      needs: [hello]         # starts after hello succeeded
      run: echo goodbye ${{ tasks.hello.outputs.greeted }}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from psr_engine.cli.options import add_params

    parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="where (default: .)")
    parser.add_argument(
        "-t", "--template", metavar="NAME", help="scaffold this template (psr-engine templates)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    add_params(parser)


def run(args: argparse.Namespace) -> int:
    from psr_engine.cli.options import parse_param_args
    from psr_engine.templates import TemplateError, TemplateManager, refuse_existing, write_files

    params = parse_param_args(args.param)
    if args.params_file:
        params = {**_params_file(args.params_file), **params}
    dest = Path(args.dir)
    if args.template:
        written = TemplateManager().scaffold(args.template, dest, params, force=args.force)
    else:
        unknown = sorted(set(params) - {"name"})
        if unknown:
            raise TemplateError(
                f"init without --template takes only -p name=..., not {unknown[0]!r}"
            )
        target = dest / "workflow.yaml"
        if not args.force:
            refuse_existing([target])
        name = params.get("name") or _workflow_name(dest)
        text = MINIMAL_WORKFLOW.replace("@SCHEMA@", SCHEMA_URL).replace("@NAME@", name)
        written = write_files(
            dest, [("workflow.yaml", text.encode("utf-8"), None)], force=args.force
        )
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    where = "" if dest == Path(".") else f"cd {dest} && "
    sys.stdout.write(f"next: {where}psr-engine apply\n")
    return 0


def _workflow_name(dest: Path) -> str:
    """The folder's name made a valid metadata.name, or `my-workflow`."""
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", dest.resolve().name.lower()).strip("-")[:63].strip("-")
    return slug or "my-workflow"


def _params_file(path: str) -> dict[str, str]:
    from ruamel.yaml import YAML

    from psr_engine.templates import TemplateError

    try:
        raw = YAML(typ="safe", pure=True).load(Path(path).read_text("utf-8"))
    except (OSError, Exception) as error:
        raise TemplateError(f"{path}: cannot read params: {error}") from error
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping of param names to values")
    return {str(k): str(v) for k, v in raw.items()}
