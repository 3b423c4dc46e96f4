"""The example of docs/features/plugins.md works as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[3] / "docs" / "features" / "plugins.md"


def test_the_register_example_validates_refuses_then_runs(tmp_path: Path):
    (code,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, last = done.stdout.splitlines()
    assert "use region eu or us (at spec.executor.region)" in first
    assert first.startswith("workflow.yaml:5:")
    assert last == "succeeded"
