"""The psr-engine command line.

Start-up time matters (``psr-engine --version`` must stay well under 150 ms), so this
module imports only the standard library; each subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from psr_engine.cli.app import main as _main


def main(argv: Sequence[str] | None = None) -> int:
    return _main(list(sys.argv[1:] if argv is None else argv))


__all__ = ["main"]
