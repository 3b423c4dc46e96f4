"""What the wheel ships: the schema, the templates, the semgrep rules and the price table are
package data, found through importlib.resources once installed (not the repository)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_wheel_carries_every_data_file_the_engine_reads(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("psr_engine-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "psr_engine/schemas/workflow.v1.json" in names
    assert "psr_engine/cost/prices.json" in names
    assert any(n.startswith("psr_engine/gates/rules/python/") for n in names)
    for template in ("etl-pipeline", "api-integration", "file-processing", "data-transformation"):
        assert f"psr_engine/templates_data/{template}/template.yaml" in names
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)
