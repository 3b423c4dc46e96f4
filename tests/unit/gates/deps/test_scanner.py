"""The scanner over every source: files by type, folders, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from psr_engine.errors import DiagnosedError

DEPS = Path(__file__).resolve().parents[3] / "data" / "deps"


def _hits(findings) -> set[tuple[str, int, str]]:
    return {(f.file, f.line, f.properties["package"]) for f in findings}


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "requirements/requirements.txt",
            {
                ("requirements/base.txt", 1, "pillow"),
                ("requirements/sub/extra.txt", 2, "lxml"),
                ("requirements/requirements.txt", 7, "jinja2"),
                ("requirements/requirements.txt", 10, "requests"),
                ("requirements/requirements.txt", 11, "urllib3"),
                ("requirements/requirements.txt", 13, "django"),
                ("requirements/requirements.txt", 15, "pyyaml"),
            },
        ),
        (
            "pep621/pyproject.toml",
            {
                ("pep621/pyproject.toml", 5, "jinja2"),
                ("pep621/pyproject.toml", 11, "pyyaml"),
                ("pep621/pyproject.toml", 13, "pillow"),
                ("pep621/pyproject.toml", 17, "urllib3"),
            },
        ),
        (
            "poetry/poetry.lock",
            {("poetry/poetry.lock", 4, "jinja2"), ("poetry/poetry.lock", 42, "pyyaml")},
        ),
        ("uv/uv.lock", {("uv/uv.lock", 13, "requests"), ("uv/uv.lock", 27, "urllib3")}),
        (
            "pipenv/Pipfile.lock",
            {("pipenv/Pipfile.lock", 9, "django"), ("pipenv/Pipfile.lock", 24, "pyyaml")},
        ),
    ],
)
def test_scan_requirements_dispatches_on_file_type(scanner, file, expected):
    findings = scanner.scan_requirements(DEPS / file, root=DEPS)
    assert _hits(findings) == expected


def test_scan_reports_unpinned_and_skipped_in_notes_not_findings(scanner):
    findings = scanner.scan_requirements(DEPS / "requirements" / "requirements.txt", root=DEPS)
    assert {f.properties["package"] for f in findings}.isdisjoint({"flask", "numpy"})
    unpinned = sorted(str(n).split("/")[-1] for n in scanner.notes if n.kind == "unpinned")
    assert unpinned == [
        "requirements.txt:12: unpinned: flask<1,>=0.12: not pinned, not checked",
        "requirements.txt:20: unpinned: numpy==1.16.*: not pinned, not checked",
    ]


def test_notes_name_files_relative_to_the_root_as_findings_do(scanner):
    findings = scanner.scan([DEPS / "requirements" / "requirements.txt"], root=DEPS)
    assert {f.file for f in findings} >= {"requirements/requirements.txt"}
    sources = {n.source for n in scanner.notes}
    assert "requirements/requirements.txt" in sources
    assert all(not s.startswith("/") for s in sources), sources
    assert any(
        str(n).startswith("requirements/requirements.txt:12: unpinned") for n in scanner.notes
    )


def test_scan_of_a_folder_reads_its_dependency_files(scanner):
    findings = scanner.scan([DEPS / "poetry"], root=DEPS)
    files = {f.file for f in findings}
    assert files == {"poetry/pyproject.toml", "poetry/poetry.lock"}


def test_scan_of_a_missing_file_is_a_diagnosed_error(scanner, tmp_path):
    with pytest.raises(DiagnosedError, match="dependency file not found"):
        scanner.scan([tmp_path / "requirements.txt"])


def test_arbitrary_equality_with_a_non_pep440_version_is_noted(scanner, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2===2.10-custom.build\n")
    assert scanner.scan_requirements(req, root=tmp_path) == []
    assert [n.kind for n in scanner.notes] == ["skipped"]


def test_scan_environment_checks_installed_versions(scanner, tmp_path):
    info = tmp_path / "Jinja2-2.10.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n")
    findings = scanner.scan_environment(paths=[str(tmp_path)])
    assert "PYSEC-2019-217" in {f.rule_id for f in findings}
    assert {(f.file, f.line) for f in findings} == {("", 0)}
