"""The pre-commit hook, run by pre-commit itself (`try-repo` on this working copy): it checks
workflow.yaml and *.psr.yaml manifests anywhere, and leaves other YAML alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ci_runner import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # pip installs the hook's env

BROKEN = "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: x}\nspec:\n  tasks:\n    a: {run: echo, needs: [b]}\n"
GOOD = "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: y}\nspec:\n  tasks:\n    a: {run: echo hi}\n"


def test_pre_commit_try_repo_validates_any_manifest_and_only_manifests(tmp_path):
    tool = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit: the test extra)")
    project = tmp_path / "project"
    (project / "etl").mkdir(parents=True)
    (project / "etl/workflow.yaml").write_text(GOOD)
    (project / "pipelines.psr.yml").write_text(BROKEN)
    (project / "etl/nightly.psr.yaml").write_text(GOOD)
    (project / "docker-compose.yaml").write_text(BROKEN)  # not a manifest: never checked
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    proc = subprocess.run(
        [tool, "try-repo", str(REPO), "psr-engine-validate", "--all-files", "--verbose"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # the hook failed: one broken manifest
    assert "pipelines.psr.yml:6:" in out and "unknown task 'b'" in out
    assert "etl/workflow.yaml: valid" in out and "etl/nightly.psr.yaml: valid" in out
    assert "docker-compose.yaml" not in out
