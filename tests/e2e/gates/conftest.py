"""A project with planted problems for the gate tests, and a SARIF validator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OSV = ROOT / "tests" / "data" / "osv-pypi" / "vulns"
SARIF_SCHEMA = ROOT / "tests" / "data" / "schemas" / "sarif-2.1.0.json"
# A GitHub token shape with a random body; the secret scanner's critical rule fires on it.
TOKEN = "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi"


@pytest.fixture
def planted(ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The workspace with src/app.py (a shell=True call), config/settings.env (a token),
    requirements.txt (an old requests pin) and osv/ (requests' advisories)."""
    ws.write(
        "src/app.py",
        """
        import subprocess


        def run(command):
            return subprocess.call("echo " + command, shell=True)
        """,
    )
    ws.write("config/settings.env", f"GITHUB_TOKEN={TOKEN}\n")
    ws.write("requirements.txt", "requests==2.19.0\n")
    shutil.copytree(OSV / "requests", ws.root / "osv" / "requests")
    # The OSV index cache and the database setting stay inside the test.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PSR_OSV_DB", raising=False)
    return ws


@pytest.fixture
def sarif_valid():
    """Load a SARIF file, validate it against SARIF 2.1.0, return the log."""
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text())

    def check(path: Path) -> dict:
        log = json.loads(path.read_text())
        jsonschema.Draft7Validator(schema).validate(log)
        return log

    return check
