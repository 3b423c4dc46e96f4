"""What the audit trail records for each kind of decision: secrets (name and provider, never
the value), gates, resume, a budget that blocks, a cancel; and `audit --since`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

SECRET = "tok-4f9a7c-never-in-the-trail"


def _entries(ws) -> list[dict]:
    result = ws.cli("audit", "-o", "json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_secrets_and_gate_decisions_are_recorded_without_values(ws) -> None:
    ws.write("src/app.py", "print('hello')\n")
    ws.manifest(
        'use: {run: "test -n \\"$TOKEN\\"", secrets: [TOKEN]}',
        extra="""
        secrets:
          TOKEN: {provider: env, name: PSR_TEST_TOKEN}
        gates:
          - {name: leaks, type: secrets, paths: [src], failOn: low}
        """,
    )
    result = ws.cli("apply", "-q", env={"PSR_TEST_TOKEN": SECRET})
    assert result.code == 0, result.stdout + result.stderr
    entries = _entries(ws)
    assert [e["action"] for e in entries] == ["apply", "secret", "gate"]
    assert entries[1]["details"] == {"name": "TOKEN", "provider": "env"}
    assert entries[2]["details"]["gate"] == "leaks"
    assert entries[2]["details"]["decision"] == "passed"
    assert {e["runId"] for e in entries} == {entries[0]["runId"]}
    assert all(e["user"] and e["host"] and e["manifestDigest"] for e in entries)
    assert SECRET not in (ws.root / ".psr" / "audit.jsonl").read_text()


def test_resume_and_a_blocking_budget_are_recorded(ws) -> None:
    ws.manifest('flaky: {run: "test -f ok"}')
    assert ws.cli("apply", "-q").code == 1
    (ws.root / "ok").write_text("")
    assert ws.cli("apply", "-q", "--resume", "last").code == 0
    first, resumed = _entries(ws)
    assert resumed["action"] == "resume"
    assert resumed["details"]["resumedFrom"] == first["runId"]

    ws.manifest(
        'long: {run: "true", timeout: 10h, resources: {cpu: 2, memory: 4Gi}}',
        extra="""
        cost:
          provider: aws
          region: us-east-1
          instanceType: m5.large
          budget: {limit: 0.0001, currency: USD, action: fail}
        """,
    )
    assert ws.cli("apply", "-q").code == 3
    budget, refused = _entries(ws)[-2:]
    assert budget["action"] == "budget"
    assert budget["details"]["decision"] == "block"
    assert budget["details"]["limit"] == 0.0001
    assert (refused["action"], refused["details"]["refused"]) == ("apply", "budget")


def test_an_interrupted_run_records_a_cancel(ws) -> None:
    ws.manifest('wait: {run: "sleep 30"}')
    proc = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply", "-q"],
        cwd=ws.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    trail = ws.root / ".psr" / "audit.jsonl"
    deadline = time.monotonic() + 60
    while not (trail.exists() and trail.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the task has started
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    actions = [e["action"] for e in _entries(ws)]
    assert actions == ["apply", "cancel"]


def test_audit_since_filters_by_time(ws) -> None:
    ws.manifest('only: {run: "true"}')
    assert ws.cli("apply", "-q").code == 0
    assert len(json.loads(ws.cli("audit", "--since", "1h", "-o", "json").stdout)) == 1
    assert json.loads(ws.cli("audit", "--since", "2099-01-01", "-o", "json").stdout) == []
    bad = ws.cli("audit", "--since", "yesterday-ish")
    assert bad.code == 2 and "--since" in bad.stderr
