"""Every release ref the docs and templates tell users to pin exists by the tag scheme
docs/features/ci.md explains: psr-engine's repository is tagged `v<version>` (the action's
`@ref`, GitLab's `include: ref:`, pre-commit's `rev:`, the default package's archive), the
component project `<version>` (the CI/CD catalog wants plain semantic versions); `<version>` is
engine/psr_engine/_version.py's, which pyproject.toml reads. `make release-check` runs this."""

from __future__ import annotations

import re
from pathlib import Path

from ci_runner import REPO

from psr_engine._version import __version__

TAG = f"v{__version__}"
SOURCES = [
    REPO / "README.md",
    REPO / ".pre-commit-hooks.yaml",
    *sorted((REPO / "docs").rglob("*.md")),
    *sorted(p for p in (REPO / "ci-templates").rglob("*") if p.suffix in (".md", ".yml")),
]
# (what it is, a pattern whose group 1 is the ref, the ref it must be)
REFS = [
    ("action ref", r"psr-engine/psr-engine/ci-templates/github@([^\s'\"#]+)", TAG),
    ("GitLab include ref", r"^\s*ref:\s*['\"]?([^\s'\"#]+)", TAG),
    ("pre-commit rev", r"^\s*#?\s*rev:\s*['\"]?([^\s'\"#]+)", TAG),
    ("component version", r"/psr-engine@([^\s,'\"}]+)", __version__),
    ("source archive", r"/-/archive/([^/\s]+)/psr-engine-", TAG),
    ("source archive name", r"/psr-engine-(v[^/\s]+?)\.tar\.gz", TAG),
]


def _refs(sources: list[Path]) -> list[tuple[str, str, str, str, str]]:
    """(where, what, ref, expected, line) for every release ref in ``sources``."""
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for what, pattern, expected in REFS:
                for match in re.finditer(pattern, line):
                    ref = match.group(1)
                    if ref.startswith("$"):  # $CI_COMMIT_SHA: the component tests itself
                        continue
                    where = f"{path}:{number}"
                    found.append((where, what, ref, expected, line))
    return found


def test_every_release_ref_in_the_docs_matches_the_version():
    found = _refs(SOURCES)
    kinds = {what for _, what, *_ in found}
    assert {"action ref", "GitLab include ref", "pre-commit rev", "component version"} <= kinds
    wrong = [f"{where}: {what} {ref!r}, expected {want!r}" for where, what, ref, want, _ in found
             if ref != want]  # fmt: skip
    assert not wrong, "\n".join(wrong)


def test_the_docs_explain_the_tag_scheme():
    text = (REPO / "docs/features/ci.md").read_text()
    assert "## Versions and tags" in text
    assert "`v<version>`" in text and "`<version>`" in text


def test_a_ref_that_does_not_exist_is_caught(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("- uses: psr-engine/psr-engine/ci-templates/github@v1\n    rev: v1.0.0\n")
    refs = {(what, ref) for _, what, ref, *_ in _refs([bad])}
    assert refs == {("action ref", "v1"), ("pre-commit rev", "v1.0.0")}
