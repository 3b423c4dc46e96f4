"""A run refused by a `fail` budget before it starts is in the history, as a gate-blocked run
is (issue 16, item 6: it was not recorded at all)."""

from __future__ import annotations

import json

COST = """
cost:
  rates: {vcpuHour: 0.04, gibHour: 0.005}
  budget: {limit: 0.0001, currency: USD, action: fail}
"""


def test_a_run_refused_by_a_fail_budget_is_recorded_blocked(ws):
    ws.manifest(
        """
        work: {run: "touch ran", timeout: 10h, resources: {cpu: 2, memory: 4Gi}}
        """,
        extra=COST,
    )
    result = ws.cli("apply")
    assert result.code == 3, result.stdout + result.stderr
    assert "budget" in result.stderr
    assert not (ws.root / "ran").exists()
    status = ws.cli("status", "last", "-o", "json")
    assert status.code == 0, status.stderr
    run = json.loads(status.stdout)["run"]
    assert run["status"] == "blocked"
    assert run["reason"].startswith("budget: workflow test-flow: projected cost")
    [event] = [e for e in result.events if e["type"] == "run.finished"]
    assert event["status"] == "blocked"
    assert "blocked" in ws.cli("runs").stdout
