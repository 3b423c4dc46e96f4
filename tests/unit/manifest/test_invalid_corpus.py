"""Every manifest in tests/data/invalid/ is rejected with the message its header expects.

A case names its expectations in header lines ``# expect: LINE: REGEX`` (several allowed):
loading and validating it must raise a ManifestError with, for each expectation, a
diagnostic on LINE whose message (or hint) matches REGEX. JSON cannot hold comments, so a
``.json`` case keeps its header lines in ``NAME.json.expect``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from psr_engine.errors import ManifestError
from psr_engine.manifest import load_manifest

CORPUS = Path(__file__).parents[2] / "data" / "invalid"
EXPECT = re.compile(rb"^# expect: (\d+): (.+)$")
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def expectations(case: Path) -> list[tuple[int, str]]:
    header = case.with_name(case.name + ".expect") if case.suffix == ".json" else case
    found = []
    for raw in header.read_bytes().splitlines():
        match = EXPECT.match(raw)
        if match:
            found.append((int(match[1]), match[2].decode("utf-8")))
    return found


def test_the_corpus_covers_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_invalid_manifest_is_rejected_with_the_expected_diagnostic(case: Path) -> None:
    expected = expectations(case)
    assert expected, f"{case.name} has no '# expect: LINE: REGEX' header"
    with pytest.raises(ManifestError) as caught:
        load_manifest(case)
    diagnostics = caught.value.diagnostics
    shown = "\n".join(str(d) for d in diagnostics)
    for line, pattern in expected:
        assert any(
            d.line == line and re.search(pattern, f"{d.message}\n{d.hint}") for d in diagnostics
        ), f"no diagnostic on line {line} matching {pattern!r}; got:\n{shown}"
    assert all(d.file == str(case) for d in diagnostics)
