"""Makes ci_runner (this folder's helpers) importable under --import-mode=importlib."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ci_runner import GitHubRunner


@pytest.fixture
def github(tmp_path: Path) -> GitHubRunner:
    workspace = tmp_path / "repo"
    workspace.mkdir()
    return GitHubRunner(workspace)
