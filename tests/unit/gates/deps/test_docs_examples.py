"""Every Python example in docs/features/dependency-scanning.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
PAGE = ROOT / "docs" / "features" / "dependency-scanning.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"example-{i}" for i in range(len(BLOCKS))])
def test_documented_example_runs(block, monkeypatch, osv_cache_dir, capsys):
    monkeypatch.chdir(ROOT)  # the examples use repository-relative paths
    monkeypatch.setenv(
        "XDG_CACHE_HOME", str(osv_cache_dir.parents[1])
    )  # never the user's real cache
    exec(compile(block, str(PAGE), "exec"), {})
    assert "Traceback" not in capsys.readouterr().out


def test_the_page_has_examples():
    assert len(BLOCKS) == 2
