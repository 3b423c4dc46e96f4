"""psr-engine templates [NAME]: list the project templates, or describe one."""

from __future__ import annotations

import argparse
import json
import sys

from psr_engine.cli.options import add_output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="describe this template")
    add_output(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    from psr_engine.templates import TemplateManager

    manager = TemplateManager()
    if args.name:
        info = manager.describe(args.name)
        if args.output == "json":
            _dump(info.to_dict())
            return 0
        lines = [f"{info.name}: {info.description}"]
        if info.requires:
            extras = ",".join(info.requires)
            lines.append(f"needs: pip install 'psr-engine[{extras}]'")
        if info.params:
            lines.append("params (-p NAME=VALUE):")
            width = max(len(p.name) for p in info.params)
            for p in info.params:
                lines.append(f"  {p.name:<{width}}  {p.description} (default: {p.default!r})")
        lines.append("files:")
        lines.extend(f"  {f.path}" for f in info.files)
        lines.append(f"use: psr-engine init --template {info.name} DIR")
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    templates = manager.list()
    if args.output == "json":
        _dump([t.to_dict() for t in templates])
        return 0
    width = max((len(t.name) for t in templates), default=0)
    for info in templates:
        first = info.description.splitlines()[0] if info.description else ""
        sys.stdout.write(f"{info.name:<{width}}  {first}\n")
    return 0


def _dump(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")
