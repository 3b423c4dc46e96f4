"""The SBOM of a project with only a pyproject.toml: its dependencies and their real graph,
checked against `cyclonedx-py environment` run on the same environment (this venv)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from psr_engine.gates.installed import installed_distributions, marker_can_hold
from psr_engine.gates.sbom import generate_sbom

DIRECT = ["jinja2>=3", "rich", "httpx", "requests", "ruamel.yaml"]  # all in the test venv


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f"[project]\nname = 'acme-etl'\nversion = '2.1.0'\ndependencies = {json.dumps(DIRECT)}\n"
    )
    return tmp_path


def _small_venv(tmp_path: Path) -> tuple[str, Path]:
    """A venv holding only the metadata (.dist-info) of DIRECT's closure, copied from this one,
    the closure taken over every Requires-Dist whatever its marker: both tools read metadata
    only, and cyclonedx-py over this venv's ~200 distributions takes a minute of CPU."""
    import venv
    from importlib.metadata import distribution, distributions

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    (site,) = target.glob("lib/python*/site-packages")
    known = {canonicalize_name(d.metadata["Name"]): d for d in distributions()}
    todo, seen = [canonicalize_name(Requirement(r).name) for r in DIRECT], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in known:
            continue
        seen.add(name)
        dist = distribution(known[name].metadata["Name"])
        folder = Path(dist._path)  # type: ignore[attr-defined]  # the .dist-info folder
        shutil.copytree(folder, site / folder.name)
        todo.extend(canonicalize_name(Requirement(r).name) for r in dist.requires or ())
    return str(target / "bin" / "python"), site


def _cyclonedx_py(project: Path, python: str) -> dict:
    tool = shutil.which("cyclonedx-py", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("cyclonedx-py is not installed (pip install cyclonedx-bom: the test extra)")
    out = project / "cdx-py.json"
    # --no-validate: cyclonedx-py checks its own output against the CycloneDX schema with
    # jsonschema's format checkers (rfc3987-syntax builds a grammar): 25 s of this test's 26,
    # for a document that is the reference here, not what is under test (ours is validated).
    subprocess.run(
        [
            tool, "environment", "--no-validate", "--pyproject", str(project / "pyproject.toml"),
            "--output-format", "JSON", "--output-file", str(out), python,
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )  # fmt: skip
    return json.loads(out.read_text())


def _graph(doc: dict) -> dict[str, set[str]]:
    """name==version (normalised) -> what it depends on, the root as `ROOT`."""
    refs = {doc["metadata"]["component"]["bom-ref"]: "ROOT"}
    for c in doc["components"]:
        refs[c["bom-ref"]] = f"{canonicalize_name(c['name'])}=={c.get('version', '')}"
    return {refs[d["ref"]]: {refs[r] for r in d.get("dependsOn", ())} for d in doc["dependencies"]}


def _marker_false_edges(site: Path) -> set[tuple[str, str]]:
    """Requirements none of whose Requires-Dist lines can hold here although the target is
    installed: cyclonedx-py draws them (it ignores markers), we do not."""
    installed = installed_distributions([str(site)])
    can: dict[tuple[str, str], bool] = {}
    for dist in installed.values():
        for text in dist.requires:
            req = Requirement(text)
            target = installed.get(canonicalize_name(req.name))
            if target is not None:
                pair = (f"{dist.key}=={dist.version}", f"{target.key}=={target.version}")
                can[pair] = can.get(pair, False) or marker_can_hold(req)
    return {pair for pair, holds in can.items() if not holds}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sbom_of_a_pyproject_lists_its_dependencies_with_cyclonedx_pys_graph(tmp_path):
    project = _project(tmp_path)
    python, site = _small_venv(tmp_path)
    # A folder: its pyproject.toml is the file used; the environment is the small venv's.
    ours = json.loads(generate_sbom(project, paths=[str(site)]))
    theirs = _cyclonedx_py(project, python)

    root = ours["metadata"]["component"]
    assert (root["name"], root["version"]) == ("acme-etl", "2.1.0")
    mine, reference = _graph(ours), _graph(theirs)
    direct = {f"{canonicalize_name(Requirement(r).name)}==" for r in DIRECT}
    assert {r.rsplit("==", 1)[0] + "==" for r in mine["ROOT"]} == direct
    assert mine["ROOT"] == reference["ROOT"]  # the same versions, found installed
    # The components are the root's closure in cyclonedx-py's graph, less marker-false edges,
    # and every component depends on exactly what cyclonedx-py says it does, less those.
    false = _marker_false_edges(site)
    closure, stack = set(), list(reference["ROOT"])
    while stack:
        node = stack.pop()
        if node not in closure:
            closure.add(node)
            stack.extend(n for n in reference[node] if (node, n) not in false)
    assert set(mine) - {"ROOT"} == closure
    for node in closure:
        assert mine[node] == {n for n in reference[node] if (node, n) not in false}, node
    assert sum(len(v) for v in mine.values()) > len(mine)  # a graph, not a star
    purls = {c["name"]: c.get("purl") for c in ours["components"]}
    assert purls["ruamel.yaml"].startswith("pkg:pypi/ruamel.yaml@")


def test_an_editable_install_gets_no_pypi_purl():
    """This venv has psr-engine installed editable (make install): local code, no purl."""
    doc = json.loads(generate_sbom())
    (engine,) = [c for c in doc["components"] if c["name"] == "psr-engine"]
    assert "purl" not in engine
    assert engine["properties"][0]["name"] == "psr-engine:location"
    assert engine["properties"][0]["value"].startswith("file://")


def test_a_dependency_that_is_not_installed_is_listed_as_the_file_states_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'p'\nversion = '1'\n"
        "dependencies = ['not-installed-anywhere==1.2.3', 'other-missing>=2']\n"
    )
    doc = json.loads(generate_sbom(tmp_path / "pyproject.toml"))
    assert {(c["name"], c.get("version"), c["purl"]) for c in doc["components"]} == {
        ("not-installed-anywhere", "1.2.3", "pkg:pypi/not-installed-anywhere@1.2.3"),
        ("other-missing", None, "pkg:pypi/other-missing"),
    }
