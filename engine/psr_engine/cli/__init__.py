"""The psr-engine command line.

Start-up time matters (``psr-engine --version`` under 30 ms, issue 15), so this module
imports only the standard library, and little of it; each subcommand imports what it needs
when it runs.
"""

from __future__ import annotations

import sys

from psr_engine.cli.app import main as _main

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """The `psr-engine` command. With no `argv` it is the process's own command line (the
    console script, `python -m psr_engine`), and so its start-up is ours to tune
    (cli/startup.py); a program calling main([...]) keeps its interpreter as it was."""
    if argv is None:
        from psr_engine.cli import startup

        startup.standard_streams()
        return startup.leave(_main(sys.argv[1:], whole_process=True))
    return _main(list(argv))


__all__ = ["main"]
