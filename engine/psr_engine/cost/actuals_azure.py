"""Azure actuals: a Cost Management query (ActualCost, daily, by service) filtered by tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psr_engine.cost.actuals import CostItem
from psr_engine.cost.prices import CostError

if TYPE_CHECKING:
    from psr_engine.cost.actuals import CloudCostTracker


def query_definition(tracker: CloudCostTracker) -> Any:
    from datetime import UTC, datetime, time

    from azure.mgmt.costmanagement import models as m

    tags = [
        m.QueryFilter(tags=m.QueryComparisonExpression(name=key, operator="In", values=[value]))
        for key, value in sorted(tracker.labels.items())
    ]
    where = None if not tags else tags[0] if len(tags) == 1 else m.QueryFilter(and_property=tags)
    return m.QueryDefinition(
        type="ActualCost",
        timeframe="Custom",
        time_period=m.QueryTimePeriod(
            from_property=datetime.combine(tracker.start, time(), UTC),
            to=datetime.combine(tracker.end, time(), UTC),
        ),
        dataset=m.QueryDataset(
            granularity="Daily",
            aggregation={"totalCost": m.QueryAggregation(name="Cost", function="Sum")},
            grouping=[m.QueryGrouping(type="Dimension", name="ServiceName")],
            filter=where,
        ),
    )


def azure_items(
    tracker: CloudCostTracker,
    *,
    scope: str,
    client: Any = None,
    credential: Any = None,
    base_url: str | None = None,
    connection_verify: Any = None,
) -> list[CostItem]:
    from azure.core.exceptions import AzureError

    if client is None:
        from azure.mgmt.costmanagement import CostManagementClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        extra = {} if connection_verify is None else {"connection_verify": connection_verify}
        client = CostManagementClient(
            credential, base_url=base_url or "https://management.azure.com", **extra
        )
    try:
        result = client.query.usage(scope, query_definition(tracker))
    except AzureError as error:
        raise CostError(f"Azure Cost Management ({scope}): {error}") from None
    if result is None:
        return []
    return rows_to_items(
        [c.name for c in result.columns or ()], result.rows or [], tracker.end.isoformat()
    )


def rows_to_items(columns: list[str], rows: list[list[Any]], end: str) -> list[CostItem]:
    """Rows of [Cost, UsageDate (yyyymmdd), ServiceName, Currency] (in the columns' order)."""
    index = {name.lower(): i for i, name in enumerate(columns)}
    try:
        cost_at = index.get("cost", index.get("totalcost", index.get("pretaxcost")))
        date_at, service_at = index.get("usagedate"), index.get("servicename")
        currency_at = index.get("currency")
        if cost_at is None:
            raise KeyError("Cost")
    except KeyError as error:
        raise CostError(f"Azure Cost Management answered without a {error} column") from None
    items = []
    for row in rows:
        day = str(row[date_at]) if date_at is not None else ""
        start = f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 else day
        items.append(
            CostItem(
                "azure",
                str(row[service_at]) if service_at is not None else "total",
                float(row[cost_at]),
                str(row[currency_at]) if currency_at is not None else "USD",
                start,
                start or end,
            )
        )
    return items
