"""Look-alikes: placeholders, documented examples, hashes, UUIDs, template variables."""

from __future__ import annotations

from pathlib import Path

PLACEHOLDERS = Path(__file__).resolve().parents[3] / "data" / "secrets" / "placeholders"


def _entries() -> int:
    count = 0
    for path in PLACEHOLDERS.iterdir():
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith(("#", ";", "//", "[", "{", "}", "import")):
                count += 1
    return count


def test_there_are_at_least_40_look_alikes():
    assert _entries() >= 40


def test_at_most_two_look_alikes_are_flagged(scanner):
    findings = scanner.scan_directory(PLACEHOLDERS)
    print(f"look-alikes flagged: {len(findings)} of {_entries()}")
    assert len(findings) <= 2, [(f.file, f.line, f.rule_id) for f in findings]
