"""False positives on real code: this Python's standard library, its tests left out."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from psr_engine.gates.secrets import SecretScanner

# The stdlib's own test suites hold deliberate look-alikes (test keys, fake tokens).
STDLIB_EXCLUDES = ["test/", "tests/", "idlelib/idle_test/", "site-packages/", "__pycache__/"]
MAX_PER_100K_LINES = 5


def test_the_standard_library_gives_at_most_5_findings_per_100k_lines():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    report = SecretScanner(exclude=STDLIB_EXCLUDES).scan_tree(stdlib)
    rate = len(report.findings) / report.lines_scanned * 100_000
    print(
        f"stdlib: {report.files_scanned} files, {report.lines_scanned} lines, "
        f"{len(report.findings)} findings = {rate:.2f} per 100k lines"
    )
    assert report.lines_scanned > 100_000  # the walk really read the library
    assert rate <= MAX_PER_100K_LINES, [(f.file, f.line, f.rule_id) for f in report.findings]
