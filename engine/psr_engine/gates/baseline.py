"""Baselines: files of accepted findings, as fingerprints (Finding.fingerprint survives line
shifts). One format for every gate and scanner: a JSON list, or an object whose `fingerprints`
key holds one."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.findings import Finding

_HINT = "write one with `psr-engine scan ... --write-baseline FILE` (a JSON list of fingerprints)"


def load_baseline(path: str | os.PathLike[str]) -> frozenset[str]:
    """The accepted fingerprints in `path`; a DiagnosedError (exit 2) names what is wrong."""
    where = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiagnosedError(
            Diagnostic(where, 0, 0, "baseline file not found", hint=_HINT)
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DiagnosedError(Diagnostic(where, 0, 0, f"cannot read baseline: {error}")) from None
    except json.JSONDecodeError as error:
        raise DiagnosedError(
            Diagnostic(
                where, error.lineno, error.colno, f"baseline is not JSON: {error.msg}", hint=_HINT
            )
        ) from None
    if isinstance(data, dict):
        data = data.get("fingerprints")
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise DiagnosedError(
            Diagnostic(where, 1, 1, "a baseline must be a JSON list of fingerprints", hint=_HINT)
        )
    return frozenset(data)


def write_baseline(findings: Iterable[Finding], path: str | os.PathLike[str]) -> int:
    """Accept these findings: write their fingerprints to `path`; returns how many."""
    fingerprints = sorted({finding.fingerprint for finding in findings})
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(fingerprints, indent=2) + "\n", encoding="utf-8")
    return len(fingerprints)
