"""Tracing asked for without the otel extra (issue 16, item 6): exit 70 (`ModuleNotFoundError:
opentelemetry`) for `--trace` and the environment, exit 1 for `tracing:`, before. Now the
environment alone gives one warning and an untraced run; `--trace` and `tracing:` exit 2 with
the install hint.

Simulated: the test environment has the otel extra installed (other tests need it), so each
command runs in a subprocess whose sitecustomize (first on PYTHONPATH) puts an import blocker
on sys.meta_path that refuses `opentelemetry` and its submodules as an absent package is
refused (ModuleNotFoundError), for find_spec as for import."""

from __future__ import annotations

import os

BLOCKER = """
import sys


class _NoOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoOpenTelemetry())
"""
HINT = "pip install 'psr-engine[otel]'"


def without_otel(ws) -> dict[str, str]:
    blocker = ws.root / "no-otel"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path}
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            env[name] = ""  # only what each test sets
    return env


def manifest(ws, extra: str = "") -> None:
    ws.manifest(
        """
        hello:
          run: echo hello
        """,
        extra=extra,
    )


def test_the_blocker_makes_opentelemetry_unimportable(ws):
    env = without_otel(ws)
    probe = ws.root / "probe.py"
    probe.write_text("import opentelemetry\n")
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(probe)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr


def test_an_otlp_endpoint_in_the_environment_warns_once_and_runs_untraced(ws):
    manifest(ws)
    env = {**without_otel(ws), "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    result = ws.cli("apply", env=env)
    assert result.code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "not traced" in warnings[0] and HINT in warnings[0]
    assert result.statuses() == {"hello": "succeeded"}


def test_trace_without_the_extra_exits_2_with_the_install_hint(ws):
    manifest(ws)
    result = ws.cli("apply", "--trace", env=without_otel(ws))
    assert result.code == 2, result.stderr
    assert "--trace asks for tracing" in result.stderr and HINT in result.stderr
    assert "internal error" not in result.stderr
    assert result.events == []  # nothing ran


def test_tracing_in_the_manifest_without_the_extra_exits_2_with_the_install_hint(ws):
    manifest(ws, extra="tracing: {serviceName: etl}")
    result = ws.cli("apply", env=without_otel(ws))
    assert result.code == 2, result.stderr
    assert "spec.tracing asks for tracing" in result.stderr and HINT in result.stderr
