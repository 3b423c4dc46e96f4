"""A small project with planted problems, and helpers to run one gate over it."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import anyio
import pytest

from psr_engine.gates.runner import GateReport, run_gate
from psr_engine.plan.model import PlannedGate

REPO = Path(__file__).resolve().parents[4]
OSV = REPO / "tests" / "data" / "osv-pypi" / "vulns"
SARIF_SCHEMA = REPO / "tests" / "data" / "schemas" / "sarif-2.1.0.json"
# A GitHub token shape with a random body: the secret scanner's critical rule fires on it.
TOKEN = "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        textwrap.dedent(
            """
            import subprocess


            def run(command):
                return subprocess.call("echo " + command, shell=True)
            """
        ).lstrip()
    )
    (root / "config").mkdir()
    (root / "config" / "settings.env").write_text(f"GITHUB_TOKEN={TOKEN}\n")
    (root / "requirements.txt").write_text("# old pin\nrequests==2.19.0\n")
    # Two advisories' worth of OSV data is enough and indexes in milliseconds.
    shutil.copytree(OSV / "requests", root / "osv" / "requests")
    monkeypatch.delenv("PSR_OSV_DB", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return root


@pytest.fixture
def gate(project: Path):
    """Build a PlannedGate over the project: gate("secrets", failOn...)."""
    return lambda type, **fields: make_gate(project, type, **fields)


@pytest.fixture
def scan(project: Path):
    """Run a PlannedGate with the project as base_dir; returns its GateReport."""
    return lambda planned: run_gate_sync(planned, project)


@pytest.fixture
def sarif_valid():
    """Load a SARIF file and validate it against the SARIF 2.1.0 schema."""
    return validate_sarif


def make_gate(root: Path, type: str, **fields) -> PlannedGate:
    """A PlannedGate as the planner would give it: every path absolute."""
    fields["paths"] = tuple(str(root / p) for p in fields.get("paths", (".",)))
    for key in ("baseline", "sarif"):
        if fields.get(key):  # relative to the project
            fields[key] = str(root / fields[key])
    if "osvDb" in fields.get("options", {}):
        fields["options"] = {**fields["options"], "osvDb": str(root / fields["options"]["osvDb"])}
    if "requirements" in fields:
        fields["requirements"] = tuple(str(root / p) for p in fields["requirements"])
    return PlannedGate(name=fields.pop("name", type), type=type, **fields)


def run_gate_sync(planned: PlannedGate, root: Path) -> GateReport:
    return anyio.run(lambda: run_gate(planned, base_dir=str(root)))


def validate_sarif(path: Path) -> dict:
    import jsonschema

    log = json.loads(path.read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    return log
