"""Tracing off costs nothing: opentelemetry is never imported by a run without it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

WORKFLOW = (
    "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: plain}\n"
    "spec:\n  tasks:\n    one: {run: 'true'}\n"
)


def environ_without_tracing() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


def test_a_run_without_tracing_never_imports_opentelemetry(tmp_path):
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    program = textwrap.dedent(
        """
        import sys
        from psr_engine import api
        import psr_engine.tracing
        plan = api.make_plan("workflow.yaml")
        sinks = api.build_sinks(plan, console=False)
        result = api.run(plan, sinks=sinks)
        assert result.status == "succeeded", result.status
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environ_without_tracing(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_apply_without_tracing_never_imports_opentelemetry(tmp_path):
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "psr_engine", "apply", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environ_without_tracing(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "import time:" in done.stderr  # the probe works
    assert "opentelemetry" not in done.stderr
