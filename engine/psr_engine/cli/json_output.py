"""A command's JSON document on stdout, by the one convention (json_convention.py)."""

from __future__ import annotations

import json
import sys
from typing import Any

from psr_engine.json_convention import camel as camel
from psr_engine.json_convention import conventional as conventional
from psr_engine.json_convention import rfc3339 as rfc3339


def write(document: Any, *, indent: int = 2) -> None:
    """Print `document` as JSON by the convention, on stdout."""
    sys.stdout.write(json.dumps(conventional(document), indent=indent, default=str) + "\n")
