"""`psr-engine apply` traced through the CLI: the facade builds the otel sink from the
environment, spec.tracing or --trace, and spans leave through the exporter process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    # The history records the run's trace id: status --output json (and the dashboard) show it.
    assert status_json(tmp_path)["run"]["traceId"] == trace_id


def status_json(folder) -> dict:
    import json

    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "status", "last", "--output", "json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


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
    assert status_json(tmp_path)["run"]["traceId"] is None  # not traced: no trace id


def test_a_spec_that_turns_tracing_off_wins_over_the_environment(otlp_http, tmp_path):
    # The exporter process starts before the plan is read (the environment asks for
    # tracing); the manifest then says no, and nothing is traced.
    off = WORKFLOW.replace("spec:\n", "spec:\n  tracing: {enabled: false}\n")
    (tmp_path / "workflow.yaml").write_text(off)
    done = apply(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=otlp_http.endpoint)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "seen.txt").read_text().strip() == ""
    assert done.stderr == ""


def test_the_trace_of_a_killed_engine_still_reaches_the_collector(otlp_http, tmp_path):
    # The exporter process has a session of its own and ends the run at the end of its
    # input: after SIGKILL to the engine (no chance to close anything) it exports what
    # ended and ends, marked incomplete, what was still open.
    (tmp_path / "workflow.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: killed}\n"
        "spec:\n  tasks:\n"
        "    first: {run: 'echo $TRACEPARENT > seen.txt'}\n"
        "    second: {run: 'echo $$ > started; exec sleep 60', needs: [first]}\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    engine = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "-q"],
        cwd=tmp_path,
        env={**base, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_http.endpoint},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline, "the second task never started"
            time.sleep(0.05)
        time.sleep(1.0)  # longer than the shipper's 0.5 s: `first`'s spans are in the pipe
        engine.kill()
        engine.wait(timeout=30)
    finally:
        engine.kill()
        sleeper = (
            (tmp_path / "started").read_text().strip() if (tmp_path / "started").exists() else ""
        )
        if sleeper:
            os.kill(int(sleeper), signal.SIGKILL)  # the orphaned task, in a group of its own
    trace_id = (tmp_path / "seen.txt").read_text().split("-")[1]
    deadline = time.monotonic() + 30
    while "first" not in {s.name for s in otlp_http.trace(trace_id)}:
        assert time.monotonic() < deadline, "the ended task's spans never arrived"
        time.sleep(0.1)
    while "RUN killed" not in {s.name for s in otlp_http.trace(trace_id)}:
        assert time.monotonic() < deadline, "the run's span never arrived"
        time.sleep(0.1)
    spans = {s.name: s for s in otlp_http.trace(trace_id)}
    assert spans["first"].attributes["cicd.pipeline.task.run.result"] == "success"
    assert "psr.incomplete" not in spans["first"].attributes
    for still_open in ("second", "second attempt 1", "RUN killed"):
        assert spans[still_open].attributes["psr.incomplete"] is True


def test_a_module_in_the_workflows_folder_does_not_shadow_the_exporters(otlp_http, tmp_path):
    # The exporter process runs isolated (-I) on the engine's own sys.path: a json.py next
    # to the manifest is the user's business, not the exporter's. (`psr-engine`, the
    # console script, as users run it: `python -m` would put the folder on the engine's
    # own path.)
    (tmp_path / "workflow.yaml").write_text(WORKFLOW)
    (tmp_path / "json.py").write_text("raise SystemExit('a json.py of the user was imported')\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "psr-engine"), "apply", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**base, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_http.endpoint},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr and "json.py" not in done.stderr
    trace_id = (tmp_path / "seen.txt").read_text().split("-")[1]
    assert "RUN cli-traced" in {s.name for s in otlp_http.trace(trace_id)}
