"""Argument parsing and dispatch. Stdlib only at import time: each command module is imported
when that command runs, and imports the heavy parts of the engine itself. Not even argparse
(with re, enum and gettext, most of `--version`'s imports): it is imported once a command is
parsed.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

from psr_engine._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from types import ModuleType

# command -> (module under psr_engine.cli, one-line help). Order is the order of --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("cmd_validate", "check manifests against the schema and the planner's rules"),
    "plan": ("cmd_plan", "show what a run would do: levels, tasks, needs, resources, gates"),
    "graph": ("cmd_graph", "draw the task graph as Mermaid or Graphviz DOT"),
    "apply": ("cmd_apply", "run a workflow"),
    "run": ("cmd_run", "run one Python script with monitoring, retries and a timeout"),
    "runs": ("cmd_runs", "list recorded runs, newest first"),
    "status": ("cmd_status", "show one run and the final state of its tasks"),
    "logs": ("cmd_logs", "print (or --follow) the logs of a run's tasks"),
    "prune": ("cmd_prune", "remove old runs and their logs from the history"),
    "ui": ("cmd_ui", "the dashboard: runs in the browser, a REST API, live updates"),
    "state-dir": ("cmd_state_dir", "print the folder holding a workflow's run history"),
    "scan": ("cmd_scan", "scan code, secrets or dependencies like a security gate"),
    "sbom": ("cmd_sbom", "write a CycloneDX SBOM of the environment or a dependency file"),
    "metrics": ("cmd_metrics", "runs' timings (events JSONL files) as OpenMetrics text"),
    "gitlab-report": ("cmd_gitlab_report", "convert SARIF to GitLab SAST and Code Quality reports"),
    "verify": ("cmd_verify", "check a run's provenance: its signature and every file's digest"),
    "keys": ("cmd_keys", "generate a key pair for signing run provenance"),
    "audit": (
        "cmd_audit",
        "list the audit trail (who applied what, gates, budgets, secrets), or verify it",
    ),
    "secrets": ("cmd_secrets", "get, put, delete or list secrets in Vault, AWS, Azure, GCP, files"),
    "schema": ("cmd_schema", "print the manifest's JSON Schema"),
    "cost": ("cmd_cost", "cloud costs: price table, chargeback report, billing actuals"),
    "init": ("cmd_init", "start a project: a minimal workflow.yaml, or a template"),
    "templates": ("cmd_templates", "list the project templates, or describe one"),
}


_parser: list[type[argparse.ArgumentParser]] = []


def parser_class() -> type[argparse.ArgumentParser]:
    """psr-engine's ArgumentParser (argparse imported on first use: start-up)."""
    if not _parser:
        import argparse

        class Parser(argparse.ArgumentParser):
            """argparse exits 2 on a usage error already; keep its message short and on
            stderr."""

            def error(self, message: str) -> None:  # type: ignore[override]
                self.print_usage(sys.stderr)
                self.exit(2, f"{self.prog}: error: {message}\n")

            def _get_formatter(self) -> argparse.HelpFormatter:
                # argparse's own sizes help with shutil.get_terminal_size, which imports
                # shutil (with bz2, lzma and zlib) for every command, as each argument added
                # makes a formatter: the same width, without them. (Every argparse formatter
                # takes `width`; typeshed's protocol names `prog` only.)
                width = terminal_columns() - 2
                return self.formatter_class(prog=self.prog, width=width)  # type: ignore[call-arg]

        _parser.append(Parser)
    return _parser[0]


def terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, that command alone: the others' modules are not
    imported nor their parsers built (start-up). `only` must be the command argv names."""
    parser = parser_class()(
        prog="psr-engine",
        description="A declarative workflow engine: validate, plan and run workflow.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"psr-engine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class())
    for name, (module, help_text) in COMMANDS.items():
        if only is None or name == only:
            command = sub.add_parser(name, help=help_text, description=help_text)
            _module(module).add_arguments(command)
    return parser


def _module(name: str) -> ModuleType:
    return import_module(f"psr_engine.cli.{name}")


def main(argv: list[str], *, whole_process: bool = False) -> int:
    # Fast path: `--version` must not pay for building every subcommand's parser.
    if argv in (["--version"], ["-V"]):
        sys.stdout.write(f"psr-engine {__version__}\n")
        return 0
    if whole_process:
        from psr_engine.cli import startup

        startup.begin(argv[0] if argv and argv[0] in COMMANDS else "other")
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    argv, passthrough = _split_passthrough(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.passthrough = passthrough
    run: Callable[[argparse.Namespace], int] = _module(COMMANDS[args.command][0]).run
    return guarded(run, args)


def _split_passthrough(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`psr-engine run S.py [OPTIONS] -- ARGS`: everything after the first `--` belongs to the
    script, untouched. argparse would drop that `--` and then parse ARGS as its own (exit 2
    "unrecognized arguments"), so commands whose module sets PASSTHROUGH get it cut off here."""
    if not argv or argv[0] not in COMMANDS or "--" not in argv:
        return argv, None
    if not getattr(_module(COMMANDS[argv[0]][0]), "PASSTHROUGH", False):
        return argv, None
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def guarded(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command, turning every error meant for users into a message and an exit code."""
    from psr_engine.errors import PsrError

    try:
        return run(args)
    except PsrError as error:
        print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except BrokenPipeError:
        # `psr-engine plan | head`: the reader went away; not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if os.environ.get("PSR_DEBUG"):
            raise
        print_error(
            f"internal error: {type(error).__name__}: {error}\n"
            "  this is a bug in psr-engine; run again with PSR_DEBUG=1 for the traceback"
        )
        return 70


def print_error(message: str) -> None:
    from psr_engine.printable import printable_lines

    prefix = "error: " if not message.startswith(("error", "/")) and ":" not in message[:1] else ""
    # An error may quote a value the user gave (a param): its control characters escaped.
    sys.stderr.write(f"{prefix}{printable_lines(message)}\n")
