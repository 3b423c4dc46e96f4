"""Reading dependencies: requirements files, pyproject.toml, lock files, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from psr_engine.errors import DiagnosedError
from psr_engine.gates.requirements import read_dependencies, read_environment

DEPS = Path(__file__).resolve().parents[3] / "data" / "deps"


def _pins(path: Path) -> list[tuple[str, str | None, str, int]]:
    found = read_dependencies(path)
    return [
        (d.name, d.version, Path(d.source).relative_to(DEPS).as_posix(), d.line)
        for d in found.dependencies
    ]


def _notes(path: Path) -> set[tuple[str, int]]:
    return {(n.kind, n.line) for n in read_dependencies(path).notes}


# --- requirements files ------------------------------------------------------------------------


def test_requirements_file_follows_includes_pins_constraints_and_markers():
    path = DEPS / "requirements" / "requirements.txt"
    assert _pins(path) == [
        ("pillow", "8.0.0", "requirements/base.txt", 1),  # -r base.txt
        ("lxml", "4.6.1", "requirements/sub/extra.txt", 2),  # --requirement=, relative to it
        ("jinja2", "2.10", "requirements/requirements.txt", 7),  # continued lines, --hash
        ("requests", "2.19.0", "requirements/requirements.txt", 10),
        ("urllib3", "1.24.1", "requirements/requirements.txt", 11),  # ===
        ("flask", None, "requirements/requirements.txt", 12),  # a range: unpinned
        ("django", "2.2.0", "requirements/requirements.txt", 13),  # pinned by -c
        ("pyyaml", "5.3", "requirements/requirements.txt", 15),  # marker true here
        ("numpy", None, "requirements/requirements.txt", 20),  # a wildcard is no pin
    ]
    # babel is only in the constraints file: constraints pin, they never add.
    assert _notes(path) == {
        ("constraint", 5),
        ("marker", 14),  # pywin32 on win32 only
        ("skipped", 16),  # -e
        ("skipped", 17),  # an archive URL
        ("skipped", 18),  # a local path
        ("skipped", 19),  # a direct reference
        ("unpinned", 12),
        ("unpinned", 20),
    }


def test_requirement_extras_and_markers_are_kept():
    found = read_dependencies(DEPS / "requirements" / "requirements.txt").dependencies
    requests = next(d for d in found if d.name == "requests")
    pyyaml = next(d for d in found if d.name == "pyyaml")
    assert requests.extras == ("socks",)
    assert pyyaml.marker == 'python_version >= "3.8"'


def test_continuation_ended_by_a_comment_line_and_env_vars(tmp_path, monkeypatch):
    monkeypatch.setenv("JINJA_VERSION", "2.10")
    req = tmp_path / "r.txt"
    req.write_text("jinja2==${JINJA_VERSION} \\\n# a comment ends the continuation\nsix==1.0\n")
    found = read_dependencies(req).dependencies
    assert [(d.name, d.version, d.line) for d in found] == [
        ("jinja2", "2.10", 1),
        ("six", "1.0", 3),
    ]


def test_invalid_requirement_names_file_and_line(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2==2.10\n\nnot a valid ==requirement\n")
    with pytest.raises(DiagnosedError) as raised:
        read_dependencies(req)
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == (str(req), 3)
    assert "not a valid requirement" in str(raised.value)


def test_missing_include_points_at_the_including_line(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.0\n-r missing.txt\n")
    with pytest.raises(
        DiagnosedError, match=r"requirements.txt:2:1: cannot read requirements file"
    ):
        read_dependencies(req)


def test_missing_file_and_pipfile_are_clear_errors(tmp_path):
    with pytest.raises(DiagnosedError, match="dependency file not found"):
        read_dependencies(tmp_path / "requirements.txt")
    (tmp_path / "Pipfile").write_text("[packages]\n")
    with pytest.raises(DiagnosedError, match=r"scan Pipfile\.lock"):
        read_dependencies(tmp_path / "Pipfile")


# --- project and lock files ----------------------------------------------------------------------


def test_pyproject_pep621_dependencies_extras_and_groups():
    path = DEPS / "pep621" / "pyproject.toml"
    assert _pins(path) == [
        ("jinja2", "2.10", "pep621/pyproject.toml", 5),
        ("requests", None, "pep621/pyproject.toml", 6),
        ("pyyaml", "5.3", "pep621/pyproject.toml", 11),
        ("pillow", "8.0.0", "pep621/pyproject.toml", 13),
        ("urllib3", "1.24.1", "pep621/pyproject.toml", 17),
        ("ruff", None, "pep621/pyproject.toml", 18),
    ]
    assert _notes(path) == {("marker", 7), ("unpinned", 6), ("unpinned", 18)}


def test_pyproject_poetry_exact_versions_are_pins_carets_are_not():
    path = DEPS / "poetry" / "pyproject.toml"
    assert _pins(path) == [
        ("jinja2", "2.10", "poetry/pyproject.toml", 9),
        ("requests", None, "poetry/pyproject.toml", 10),
        ("urllib3", "1.24.1", "poetry/pyproject.toml", 11),
        ("pyyaml", "5.3", "poetry/pyproject.toml", 16),
    ]
    assert _notes(path) == {("skipped", 12), ("marker", 13), ("unpinned", 10)}


def test_poetry_lock_pins_every_package_but_git_sources():
    path = DEPS / "poetry" / "poetry.lock"
    assert _pins(path) == [
        ("jinja2", "2.10", "poetry/poetry.lock", 4),
        ("markupsafe", "1.1.1", "poetry/poetry.lock", 20),
        ("pyyaml", "5.3", "poetry/poetry.lock", 42),
    ]
    assert _notes(path) == {("skipped", 28)}


def test_uv_lock_skips_the_editable_project_and_git_sources():
    path = DEPS / "uv" / "uv.lock"
    assert _pins(path) == [
        ("requests", "2.19.0", "uv/uv.lock", 13),
        ("urllib3", "1.24.1", "uv/uv.lock", 27),
    ]
    assert _notes(path) == {("skipped", 5), ("skipped", 22)}


def test_pipfile_lock_default_and_develop_with_markers():
    path = DEPS / "pipenv" / "Pipfile.lock"
    assert _pins(path) == [
        ("django", "2.2.0", "pipenv/Pipfile.lock", 9),
        ("pyyaml", "5.3", "pipenv/Pipfile.lock", 24),
    ]
    assert _notes(path) == {("skipped", 14), ("marker", 18)}


def test_invalid_toml_is_a_diagnosed_error(tmp_path):
    bad = tmp_path / "poetry.lock"
    bad.write_text("[[package]\nname = 1\n")
    with pytest.raises(DiagnosedError, match="not valid TOML"):
        read_dependencies(bad)


# --- the installed environment -------------------------------------------------------------------


def _dist(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_environment_lists_installed_distributions_first_on_path_wins(tmp_path):
    _dist(tmp_path / "a", "Jinja2", "2.10")
    _dist(tmp_path / "b", "jinja2", "3.1.4")
    _dist(tmp_path / "b", "PyYAML", "5.3")
    found = read_environment([str(tmp_path / "a"), str(tmp_path / "b")]).dependencies
    assert [(d.name, d.version, d.source, d.line) for d in found] == [
        ("jinja2", "2.10", "", 0),
        ("pyyaml", "5.3", "", 0),
    ]


def test_running_environment_includes_packaging():
    names = {d.name: d.version for d in read_environment().dependencies}
    from importlib.metadata import version

    assert names["packaging"] == version("packaging")
