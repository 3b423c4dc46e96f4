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
    return _main(list(sys.argv[1:] if argv is None else argv))


__all__ = ["main"]
