"""`psr-engine apply` traced through the CLI: the facade builds the otel sink from the
environment, spec.tracing or --trace. Skipped until the sink is registered in plugins.py
(the facade's wiring lands with it); test_otlp_export.py covers the same tree meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from psr_engine import plugins

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        "otel" not in plugins.BUILTIN["sinks"], reason="the otel sink is not wired into the CLI"
    ),
]

WORKFLOW = (
    "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: cli-traced}\n"
    "spec:\n  tasks:\n    one: {run: 'echo $TRACEPARENT > seen.txt'}\n"
)


def apply(folder, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.pop("TRACEPARENT", None)
    return subprocess.run(
        [sys.executable, "-m", "psr_engine", "apply", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**base, "NO_COLOR": "1", **env},
        timeout=120,
    )


def test_an_otlp_endpoint_in_the_environment_turns_tracing_on(otlp_http, tmp_path):
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    done = apply(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint)
    assert done.returncode == 0, done.stderr
    traceparent = (tmp_path / "seen.txt").read_text().strip()
    _, trace_id, span_id, _ = traceparent.split("-")
    spans = {s.name: s for s in otlp_http.trace(trace_id)}
    assert spans["one attempt 1"].span_id == span_id
    assert spans["one attempt 1"].parent_span_id == spans["one"].span_id
    assert spans["one"].parent_span_id == spans["RUN cli-traced"].span_id


def test_otel_sdk_disabled_wins_over_trace(otlp_http, tmp_path):
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    done = apply(
        tmp_path,
        "--trace",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint,
        OTEL_SDK_DISABLED="true",
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "seen.txt").read_text().strip() == ""
