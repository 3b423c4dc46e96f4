"""Azure actuals: a Cost Management query (ActualCost, daily, by service) filtered by tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psr_engine.cost.actuals import CostItem
from psr_engine.cost.prices import CostError

if TYPE_CHECKING:
    from psr_engine.cost.actuals import CloudCostTracker


def query_definition(tracker: CloudCostTracker) -> dict[str, Any]:
    """The query in the REST API's own shape (the SDK's models changed names between major
    versions; the wire format did not)."""
    tags = [
        {"tags": {"name": key, "operator": "In", "values": [value]}}
        for key, value in sorted(tracker.labels.items())
    ]
    dataset: dict[str, Any] = {
        "granularity": "Daily",
        "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
        "grouping": [{"type": "Dimension", "name": "ServiceName"}],
    }
    if tags:
        dataset["filter"] = tags[0] if len(tags) == 1 else {"and": tags}
    return {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {
            "from": f"{tracker.start.isoformat()}T00:00:00Z",
            "to": f"{tracker.end.isoformat()}T00:00:00Z",
        },
        "dataset": dataset,
    }


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
    # v5 of the SDK nests columns and rows under `properties`, v4 did not.
    table = getattr(result, "properties", None) or result
    if table is None:
        return []
    columns = [c.name for c in getattr(table, "columns", None) or ()]
    return rows_to_items(columns, getattr(table, "rows", None) or [], tracker.end.isoformat())


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
