"""GCP actuals: a query over the Cloud Billing export to BigQuery, by service and currency,
where the resources' labels hold the workflow's labels."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from psr_engine.cost.actuals import CostItem
from psr_engine.cost.prices import CostError

if TYPE_CHECKING:
    from psr_engine.cost.actuals import CloudCostTracker

_TABLE = re.compile(r"^[A-Za-z0-9_.:-]+$")


def billing_query(table: str, labels: dict[str, str]) -> tuple[str, list[tuple[str, str, Any]]]:
    """The SQL and its parameters (name, type, value). Label values are parameters; the table
    name cannot be one in BigQuery, so it is checked against a strict pattern instead."""
    if not _TABLE.match(table):
        raise CostError(f"--table {table!r}: expected project.dataset.table of the billing export")
    where = ["usage_start_time >= @start", "usage_start_time < @end"]
    params: list[tuple[str, str, Any]] = []
    for i, (key, value) in enumerate(sorted(labels.items())):
        where.append(
            f"EXISTS (SELECT 1 FROM UNNEST(labels) AS l WHERE l.key = @k{i} AND l.value = @v{i})"
        )
        params += [(f"k{i}", "STRING", key), (f"v{i}", "STRING", value)]
    sql = (
        "SELECT service.description AS service, DATE(usage_start_time) AS day, "
        "SUM(cost) + SUM(IFNULL((SELECT SUM(c.amount) FROM UNNEST(credits) AS c), 0)) AS cost, "
        f"currency FROM `{table}` WHERE {' AND '.join(where)} "
        "GROUP BY service, day, currency ORDER BY day, service"
    )
    return sql, params


def gcp_items(
    tracker: CloudCostTracker,
    *,
    table: str,
    client: Any = None,
    project: str | None = None,
    credentials: Any = None,
    api_endpoint: str | None = None,
) -> list[CostItem]:
    from datetime import UTC, datetime, time, timedelta

    from google.api_core.exceptions import GoogleAPIError
    from google.cloud import bigquery

    if client is None:
        options = {"api_endpoint": api_endpoint} if api_endpoint else None
        client = bigquery.Client(project=project, credentials=credentials, client_options=options)
    sql, params = billing_query(table, tracker.labels)
    start = datetime.combine(tracker.start, time(), UTC)
    end = datetime.combine(tracker.end, time(), UTC)
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("start", "TIMESTAMP", start),
            bigquery.ScalarQueryParameter("end", "TIMESTAMP", end),
            *(bigquery.ScalarQueryParameter(n, t, v) for n, t, v in params),
        ]
    )
    try:
        rows = list(client.query_and_wait(sql, job_config=config))
    except GoogleAPIError as error:
        raise CostError(f"BigQuery billing export {table}: {error}") from None
    items = []
    for row in rows:
        day = row["day"]
        first = day.isoformat() if hasattr(day, "isoformat") else str(day)
        last = (day + timedelta(days=1)).isoformat() if hasattr(day, "isoformat") else first
        items.append(
            CostItem(
                "gcp", str(row["service"]), float(row["cost"]), str(row["currency"]), first, last
            )
        )
    return items
