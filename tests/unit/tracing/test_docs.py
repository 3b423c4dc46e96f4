"""The examples of docs/features/otel.md work as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from psr_engine import api

PAGE = Path(__file__).resolve().parents[3] / "docs" / "features" / "otel.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.S)


def test_the_spec_tracing_example_validates(tmp_path):
    (spec,) = [b for b in blocks("yaml") if b.startswith("spec:\n  tracing:")]
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: doc}\n"
        + spec
        + "  tasks:\n    one: {run: 'true'}\n"
    )
    result = api.validate(str(manifest))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.plan.tracing.sampler == "parentbased_traceidratio"


def test_the_python_example_runs(tmp_path):
    (code,) = [b for b in blocks("python") if "build_sink(plan" in b]
    (tmp_path / "workflow.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: doc}\n"
        "spec:\n  tasks:\n    one: {run: 'true'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", code + "\nassert result.status == 'succeeded'\n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "OTEL_TRACES_EXPORTER": "none"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "deploy"' in done.stderr  # the console exporter of the second half
