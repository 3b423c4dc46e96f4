"""Cost attribution and budgets through the real CLI (the engine-level tests are in unit/cost)."""

from __future__ import annotations

import json

COST = """
cost:
  provider: aws
  region: us-east-1
  instanceType: m5.large
  budget: {limit: %s, currency: USD, action: fail}
"""


def test_costs_reach_the_summary_events_and_status_json(ws):
    ws.manifest(
        """
        work: {run: "true", resources: {cpu: 2, memory: 1Gi}}
    """,
        extra=COST % "100",
    )
    result = ws.cli("apply")
    assert result.code == 0, result.stdout + result.stderr
    assert "cost" in result.stdout
    event = result.finished()["work"]
    assert event["data"]["cost"]["currency"] == "USD"
    assert event["data"]["cost"]["reserved"] > 0
    status = ws.cli("status", "last", "-o", "json")
    assert json.loads(status.stdout)["tasks"]["work"]["cost"]["reserved"] > 0


def test_a_fail_budget_below_the_projection_blocks_before_any_task(ws):
    ws.manifest(
        """
        work: {run: "touch ran", timeout: 10h, resources: {cpu: 2, memory: 4Gi}}
    """,
        extra=COST % "0.0001",
    )
    result = ws.cli("apply")
    assert result.code == 3, result.stdout + result.stderr
    assert "budget" in result.stderr
    assert not (ws.root / "ran").exists()


def test_crossing_a_fail_budget_cancels_the_rest_with_reason_budget(ws):
    # The projection prices one attempt per task at its timeout (4s of 2 vCPU + 8 GiB, about
    # 0.000107 USD); `first` retries twice, 2s each, reserving about 0.00016 USD: over 0.00011.
    ws.manifest(
        """
        first:
          run: |
            sleep 2
            [ "$PSR_ATTEMPT" = 3 ]
          timeout: 4s
          retries: {limit: 2, delay: 10ms}
          resources: {cpu: 2, memory: 8Gi}
        second:
          needs: [first]
          run: touch second-ran
          timeout: 1s
          resources: {cpu: 100m, memory: 64Mi}
    """,
        extra=COST % "0.00011",
    )
    result = ws.cli("apply")
    assert result.code == 1, result.stdout + result.stderr
    final = result.finished()
    assert final["first"]["data"]["cost"]["reserved"] > 0.00011
    assert (final["second"]["status"], final["second"]["reason"]) == ("cancelled", "budget")
    assert not (ws.root / "second-ran").exists()
