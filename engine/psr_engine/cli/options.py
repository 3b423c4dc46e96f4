"""Arguments several commands share, and their conversion to what the API takes."""

from __future__ import annotations

import argparse
import os

DEFAULT_MANIFEST = "workflow.yaml"


_FOUND = f"{DEFAULT_MANIFEST} (or .yml, or *.psr.yaml) here or in the nearest parent folder"


def add_manifest(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    """FILE (or FILE...), optional: resolve it with `manifest_file` (`manifest_files`)."""
    if many:
        parser.add_argument(
            "files", nargs="*", metavar="FILE", help=f"manifests (default: {_FOUND})"
        )
    else:
        parser.add_argument(
            "file",
            nargs="?",
            default=None,
            metavar="FILE",
            help=f"the manifest (default: {_FOUND})",
        )


def manifest_files(given: list[str] | None) -> list[str]:
    """The files named, else the manifests of the nearest folder that has any, from the current
    one upwards (as `runs` finds `.psr/`), saying on stderr which when it is not
    ./workflow.yaml. None anywhere: ManifestError (exit 2) saying how to make one."""
    if given:
        return list(given)
    return _said(_found())


def manifest_file(given: str | None) -> str:
    """`manifest_files` for a command that takes one manifest: several found is a question."""
    if given:
        return given
    found = _found()
    if len(found) > 1:
        from psr_engine.errors import ManifestError

        raise ManifestError(
            f"several manifests and none named: {', '.join(found)}\n"
            "  hint: name the one to use (psr-engine COMMAND FILE)"
        )
    return _said(found)[0]


def _found() -> list[str]:
    from psr_engine.errors import ManifestError
    from psr_engine.store.paths import find_manifest

    found = find_manifest()
    if not found:
        raise ManifestError(
            f"{DEFAULT_MANIFEST}: no such file here or in any parent folder\n"
            "  hint: name the manifest (psr-engine COMMAND FILE), or write one: psr-engine init"
        )
    return [os.path.relpath(path) for path in found]


def _said(found: list[str]) -> list[str]:
    import sys

    if found != [DEFAULT_MANIFEST]:
        sys.stderr.write(f"using {', '.join(found)}\n")
    return found


def add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a param (repeatable); arrays and objects as JSON",
    )
    parser.add_argument("--params-file", metavar="FILE", help="params from a YAML or JSON file")


def add_output(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=choices,
        default=choices[0],
        help=f"format (default: {choices[0]})",
    )


def add_console(parser: argparse.ArgumentParser) -> None:
    """What the console shows of a run: task output by mode, or (--quiet) failures only."""
    from psr_engine.events.sinks.task_output import OUTPUT_MODES

    parser.add_argument(
        "--output-mode",
        choices=OUTPUT_MODES,
        default=None,
        help="task output on the console: live (lines as they come, prefixed [task]), "
        "grouped (a block per attempt as it ends), failed (failed attempts only), none "
        "(default: live on a terminal, grouped elsewhere)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only failures and the final summary; no task output (--output-mode none)",
    )


def parse_param_args(pairs: list[str]) -> dict[str, str]:
    from psr_engine.errors import ManifestError

    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ManifestError(f"-p {pair!r}: expected KEY=VALUE, e.g. -p date=2026-11-25")
        params[key.strip()] = value
    return params


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
