"""docs/manifest.md: its complete example is a valid manifest."""

from __future__ import annotations

import re
from pathlib import Path

from psr_engine.manifest import WorkflowParser

DOC = Path(__file__).parents[3] / "docs" / "manifest.md"


def test_the_complete_example_in_the_reference_is_valid() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A complete example", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    result = WorkflowParser().validate_workflow(example[1])
    assert result.ok, "\n".join(str(d) for d in result.diagnostics)
    assert result.manifest is not None and result.manifest.name == "daily-etl"
