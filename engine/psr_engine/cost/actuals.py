"""Actuals: what the clouds' billing says the workflow's resources cost, found by the
workflow's labels used as cost-allocation tags (AWS), tags (Azure) or labels (GCP).

Billing data lags: AWS Cost Explorer and Azure Cost Management refresh a few times a day, and
GCP's BigQuery billing export by up to a day, so today's runs show up tomorrow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class CostItem:
    """One line of a bill: a provider's service over a period, in its currency."""

    provider: str  # aws | azure | gcp
    service: str
    amount: float
    currency: str
    start: str  # ISO date, inclusive
    end: str  # ISO date, exclusive
    estimated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "service": self.service,
            "amount": round(self.amount, 8),
            "currency": self.currency,
            "start": self.start,
            "end": self.end,
            "estimated": self.estimated,
        }


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Every item found, and totals by currency, by provider and by service."""

    items: tuple[CostItem, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    start: str = ""
    end: str = ""

    @property
    def total(self) -> dict[str, float]:
        return _sum(self.items, lambda i: i.currency)

    @property
    def by_provider(self) -> dict[str, dict[str, float]]:
        return _nested(self.items, lambda i: i.provider)

    @property
    def by_service(self) -> dict[str, dict[str, float]]:
        return _nested(self.items, lambda i: f"{i.provider}/{i.service}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "start": self.start,
            "end": self.end,
            "total": self.total,
            "byProvider": self.by_provider,
            "byService": self.by_service,
            "items": [i.to_dict() for i in self.items],
        }


def _sum(items: Any, key: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        out[key(item)] = round(out.get(key(item), 0.0) + item.amount, 8)
    return out


def _nested(items: tuple[CostItem, ...], key: Any) -> dict[str, dict[str, float]]:
    groups: dict[str, list[CostItem]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {name: _sum(group, lambda i: i.currency) for name, group in sorted(groups.items())}


class CloudCostTracker:
    """Collects a workflow's actual costs from AWS, Azure and GCP billing.

        tracker = CloudCostTracker(labels={"team": "data"}, since=date(2026, 11, 1))
        tracker.track_aws_resources()
        tracker.get_cost_breakdown().total        # {"USD": 12.34}

    Each `track_*` call adds that provider's items and returns them; clients may be passed in
    (a configured boto3 `ce` client, a CostManagementClient, a bigquery.Client).
    """

    def __init__(
        self,
        *,
        labels: Mapping[str, str],
        since: date | datetime,
        until: date | datetime | None = None,
    ) -> None:
        self.labels = dict(labels)
        self.start = _day(since)
        # Billing periods end exclusive: up to and including today by default.
        self.end = _day(until) if until else datetime.now(UTC).date() + timedelta(days=1)
        self._items: list[CostItem] = []

    def track_aws_resources(self, *, client: Any = None, **options: Any) -> list[CostItem]:
        """Cost Explorer `get_cost_and_usage`, filtered by the labels as cost-allocation tags
        (activate them in the Billing console first: untagged spend is not attributed).
        `options`: region, endpoint_url, metric (UnblendedCost)."""
        from psr_engine.cost.actuals_aws import aws_items

        return self._add(aws_items(self, client=client, **options))

    def track_azure_resources(
        self, *, scope: str, client: Any = None, **options: Any
    ) -> list[CostItem]:
        """A Cost Management query on `scope` (/subscriptions/<id>, a resource group...),
        filtered by the labels as resource tags. `options`: credential, base_url,
        connection_verify."""
        from psr_engine.cost.actuals_azure import azure_items

        return self._add(azure_items(self, scope=scope, client=client, **options))

    def track_gcp_resources(
        self, *, table: str, client: Any = None, **options: Any
    ) -> list[CostItem]:
        """A query over the BigQuery billing export `table` (project.dataset.table), filtered by
        the labels as resource labels. `options`: project, credentials, api_endpoint."""
        from psr_engine.cost.actuals_gcp import gcp_items

        return self._add(gcp_items(self, table=table, client=client, **options))

    def get_cost_breakdown(self) -> CostBreakdown:
        return CostBreakdown(
            tuple(self._items), dict(self.labels), self.start.isoformat(), self.end.isoformat()
        )

    def _add(self, items: list[CostItem]) -> list[CostItem]:
        self._items.extend(items)
        return items


def _day(value: date | datetime) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value
