"""The workflow examples in the docs this area owns are valid manifests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from psr_engine import api

DOCS = Path(__file__).resolve().parents[3] / "docs"
PAGES = ["getting-started.md", "migration.md", "features/workflows.md"]
_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def manifests(page: str) -> list[str]:
    blocks = _BLOCK.findall((DOCS / page).read_text())
    return [b for b in blocks if "apiVersion: psr-engine/v1" in b]


@pytest.mark.parametrize("page", PAGES)
def test_every_workflow_example_in_the_page_validates(page, tmp_path):
    found = manifests(page)
    assert found, f"{page} has no workflow example"
    for number, text in enumerate(found, start=1):
        folder = tmp_path / f"example-{number}"
        folder.mkdir()
        path = folder / "workflow.yaml"
        path.write_text(text)
        _stand_ins(folder, text)
        result = api.validate(str(path))
        assert result.ok, (page, number, [str(d) for d in result.diagnostics])


def _stand_ins(folder: Path, text: str) -> None:
    """The scripts an example names, as empty stand-ins: the reader has them, and `validate`
    checks that a `python:` file exists."""
    for name in re.findall(r"^\s+python:\s*(\S+)\s*$", text, re.M):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("print('stand-in')\n")
