"""Every manifest in tests/data/invalid-plan/ loads (it is schema-valid) but cannot be planned:
load_manifest + compile_plan raise PlanError with a diagnostic at each ``# expect: LINE: regex``
header line whose message matches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from psr_engine.errors import PlanError
from psr_engine.manifest import load_manifest, resolve_params
from psr_engine.plan import compile_plan
from psr_engine.units import Resources

CORPUS = Path(__file__).parents[2] / "data" / "invalid-plan"
EXPECT = re.compile(r"^#\s*expect:\s*(\d+):\s*(.+?)\s*$")


def expectations(path: Path) -> list[tuple[int, str]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if match := EXPECT.match(line):
            found.append((int(match[1]), match[2]))
    return found


CASES = sorted(CORPUS.glob("*.yaml"))


def test_the_corpus_is_there():
    assert len(CASES) >= 10
    assert all(expectations(path) for path in CASES)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_invalid_plan_is_reported_at_its_line(path: Path):
    manifest = load_manifest(str(path))
    params = resolve_params(manifest.params, {}, source=str(path))
    with pytest.raises(PlanError) as caught:
        # A fixed capacity keeps the cases independent of this machine's size.
        compile_plan(manifest, params, capacity=Resources(cpu=8, memory=16 * 2**30))
    diagnostics = caught.value.diagnostics
    assert all(d.file == str(path) for d in diagnostics)
    for line, pattern in expectations(path):
        assert any(d.line == line and re.search(pattern, d.message) for d in diagnostics), (
            f"no diagnostic at line {line} matching {pattern!r}; got:\n{caught.value}"
        )
