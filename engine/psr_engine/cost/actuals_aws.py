"""AWS actuals: Cost Explorer's get_cost_and_usage, grouped by service, filtered by tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psr_engine.cost.actuals import CostItem
from psr_engine.cost.prices import CostError

if TYPE_CHECKING:
    from psr_engine.cost.actuals import CloudCostTracker


def tag_filter(labels: dict[str, str]) -> dict[str, Any] | None:
    """Cost Explorer's expression for "every label matches" (And needs two or more)."""
    terms = [
        {"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}}
        for key, value in sorted(labels.items())
    ]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"And": terms}


def aws_items(
    tracker: CloudCostTracker,
    *,
    client: Any = None,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    metric: str = "UnblendedCost",
) -> list[CostItem]:
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        import boto3

        # Cost Explorer has one endpoint, in us-east-1, whatever the resources' regions.
        client = boto3.client("ce", region_name=region, endpoint_url=endpoint_url)
    request: dict[str, Any] = {
        "TimePeriod": {"Start": tracker.start.isoformat(), "End": tracker.end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    expression = tag_filter(tracker.labels)
    if expression:
        request["Filter"] = expression
    items: list[CostItem] = []
    token: str | None = None
    while True:
        try:
            answer = client.get_cost_and_usage(
                **request, **({"NextPageToken": token} if token else {})
            )
        except (BotoCoreError, ClientError) as error:
            raise CostError(f"AWS Cost Explorer: {error}") from None
        for period in answer.get("ResultsByTime", ()):
            items.extend(_period_items(period, metric))
        token = answer.get("NextPageToken")
        if not token:
            return items


def _period_items(period: dict[str, Any], metric: str) -> list[CostItem]:
    span = period.get("TimePeriod", {})
    start, end = span.get("Start", ""), span.get("End", "")
    estimated = bool(period.get("Estimated", False))
    groups = period.get("Groups") or []
    figures = [(g.get("Keys", ["?"])[0], g.get("Metrics", {})) for g in groups]
    if not groups and period.get("Total"):
        figures = [("total", period["Total"])]
    items = []
    for service, metrics in figures:
        value = metrics.get(metric)
        if not value:
            continue
        amount = float(value.get("Amount", 0) or 0)
        items.append(
            CostItem("aws", service, amount, value.get("Unit", "USD"), start, end, estimated)
        )
    return items
