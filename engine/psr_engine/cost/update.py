"""`psr-engine cost prices --update`: refresh the price table from the providers' public APIs.

* AWS: the Price List API (boto3 `pricing`, GetProducts), Linux, shared tenancy, on-demand.
* Azure: the Retail Prices REST API (prices.azure.com, no sign-in), Consumption, not Windows,
  not Spot or Low Priority.
* GCP: the Cloud Billing Catalog API (cloudbilling.googleapis.com, needs an API key), the
  on-demand per-vCPU and per-GiB rates of E2, N2 and C2 ("Compute optimized").

Only the instance types and regions already in the table are asked for. A provider that cannot
be reached keeps its figures; the others are still refreshed.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from psr_engine.cost.prices import (
    InstancePrice,
    PriceTable,
    load_table,
    user_prices_path,
    write_table,
)

AZURE_URL = "https://prices.azure.com"
GCP_URL = "https://cloudbilling.googleapis.com"
GCP_COMPUTE_SERVICE = "6F81-5844-456A"  # Compute Engine in the Cloud Billing Catalog
_GCP_SKU = re.compile(
    r"^(?:(?P<family>E2|N2) Instance|Compute optimized) (?P<kind>Core|Ram) running in"
)


@dataclass(slots=True)
class UpdateSummary:
    path: str
    updated: dict[str, int] = field(default_factory=dict)  # provider -> prices refreshed
    errors: dict[str, str] = field(default_factory=dict)  # provider -> why it was skipped

    def text(self) -> str:
        lines = [f"prices written to {self.path}:"]
        for provider in ("aws", "azure", "gcp"):
            if provider in self.errors:
                lines.append(f"  {provider}: not refreshed ({self.errors[provider]})")
            else:
                lines.append(f"  {provider}: {self.updated.get(provider, 0)} price(s) refreshed")
        return "\n".join(lines) + "\n"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _get_json(url: str, timeout: float = 30.0) -> Any:
    # Only the fixed https API bases above (or a test's stand-in) are ever opened here.
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # nosec B310
        return json.load(answer)


# -- AWS -----------------------------------------------------------------------------------


def aws_prices(
    table: PriceTable, *, client: Any = None, endpoint_url: str | None = None
) -> list[InstancePrice]:
    if client is None:
        import boto3

        # The Price List API answers from us-east-1 (and two other regions) only.
        client = boto3.client("pricing", region_name="us-east-1", endpoint_url=endpoint_url)
    fresh = []
    for old in table.select(provider="aws"):
        filters = [
            ("instanceType", old.instance_type),
            ("regionCode", old.region),
            ("operatingSystem", "Linux"),
            ("tenancy", "Shared"),
            ("preInstalledSw", "NA"),
            ("capacitystatus", "Used"),
        ]
        answer = client.get_products(
            ServiceCode="AmazonEC2",
            Filters=[{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters],
            MaxResults=10,
        )
        for text in answer.get("PriceList", ()):
            hourly = _aws_on_demand(json.loads(text) if isinstance(text, str) else text)
            if hourly:
                fresh.append(_refreshed(old, hourly, "AWS Price List API (GetProducts)"))
                break
    return fresh


def _aws_on_demand(product: dict[str, Any]) -> float | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit") == "Hrs" and usd and float(usd) > 0:
                return float(usd)
    return None


# -- Azure ---------------------------------------------------------------------------------


def azure_prices(table: PriceTable, *, base_url: str = AZURE_URL) -> list[InstancePrice]:
    fresh = []
    for old in table.select(provider="azure"):
        query = (
            f"serviceName eq 'Virtual Machines' and armRegionName eq '{old.region}' and "
            f"armSkuName eq '{old.instance_type}' and priceType eq 'Consumption'"
        )
        url = f"{base_url}/api/retail/prices?" + urllib.parse.urlencode({"$filter": query})
        for item in _azure_items(url):
            if _azure_linux_on_demand(item):
                fresh.append(_refreshed(old, float(item["retailPrice"]), "Azure Retail Prices API"))
                break
    return fresh


def _azure_items(url: str) -> Iterator[dict[str, Any]]:
    next_url: str | None = url
    while next_url:
        page = _get_json(next_url)
        yield from page.get("Items", ())
        next_url = page.get("NextPageLink")


def _azure_linux_on_demand(item: dict[str, Any]) -> bool:
    sku = str(item.get("skuName", ""))
    return (
        item.get("unitOfMeasure") == "1 Hour"
        and "Windows" not in str(item.get("productName", ""))
        and not sku.endswith(("Spot", "Low Priority"))
        and float(item.get("retailPrice", 0)) > 0
    )


# -- GCP -----------------------------------------------------------------------------------


def gcp_prices(table: PriceTable, *, api_key: str, base_url: str = GCP_URL) -> list[InstancePrice]:
    rates: dict[tuple[str, str, str], float] = {}  # (family, kind, region) -> hourly rate
    for sku in _gcp_skus(base_url, api_key):
        match = _GCP_SKU.match(str(sku.get("description", "")))
        if not match or sku.get("category", {}).get("usageType") != "OnDemand":
            continue
        family = (match["family"] or "C2").lower()
        price = _gcp_unit_price(sku)
        if price is None:
            continue
        for region in sku.get("serviceRegions", ()):
            rates[(family, match["kind"], region)] = price
    fresh = []
    for old in table.select(provider="gcp"):
        family = old.instance_type.split("-", 1)[0]
        core = rates.get((family, "Core", old.region))
        ram = rates.get((family, "Ram", old.region))
        if core is None or ram is None:
            continue
        hourly = round(old.vcpu * core + old.memory_gib * ram, 6)
        fresh.append(
            replace(
                _refreshed(old, hourly, "Cloud Billing Catalog API"),
                vcpu_hour=core,
                gib_hour=ram,
            )
        )
    return fresh


def _gcp_skus(base_url: str, api_key: str) -> Iterator[dict[str, Any]]:
    token = ""
    while True:
        query = {"key": api_key, "currencyCode": "USD", "pageSize": "5000"}
        if token:
            query["pageToken"] = token
        page = _get_json(
            f"{base_url}/v1/services/{GCP_COMPUTE_SERVICE}/skus?" + urllib.parse.urlencode(query)
        )
        yield from page.get("skus", ())
        token = page.get("nextPageToken") or ""
        if not token:
            return


def _gcp_unit_price(sku: dict[str, Any]) -> float | None:
    for info in sku.get("pricingInfo", ()):
        tiers = info.get("pricingExpression", {}).get("tieredRates") or []
        if tiers:
            unit = tiers[-1].get("unitPrice", {})
            return int(unit.get("units", 0) or 0) + int(unit.get("nanos", 0) or 0) / 1e9
    return None


# -- all -----------------------------------------------------------------------------------


def _refreshed(old: InstancePrice, hourly: float, source: str) -> InstancePrice:
    return replace(old, hourly=hourly, date=_today(), source=f"{source}, fetched")


def update_prices(
    *,
    path: str | None = None,
    table: PriceTable | None = None,
    aws_client: Any = None,
    aws_endpoint: str | None = None,
    azure_url: str = AZURE_URL,
    gcp_url: str = GCP_URL,
    gcp_api_key: str | None = None,
) -> UpdateSummary:
    """Fetch every provider's prices and write them to the user's price file."""
    table = table or load_table()
    summary = UpdateSummary(path or user_prices_path())
    fetchers: dict[str, Callable[[], list[InstancePrice]]] = {
        "aws": lambda: aws_prices(table, client=aws_client, endpoint_url=aws_endpoint),
        "azure": lambda: azure_prices(table, base_url=azure_url),
    }
    if gcp_api_key:
        fetchers["gcp"] = lambda: gcp_prices(table, api_key=gcp_api_key, base_url=gcp_url)
    else:
        summary.errors["gcp"] = "the Cloud Billing Catalog API needs --gcp-api-key"
    fresh: list[InstancePrice] = []
    for provider, fetch in fetchers.items():
        try:
            found = fetch()
        except Exception as error:  # a network, SDK or format failure: keep the old figures
            summary.errors[provider] = f"{type(error).__name__}: {error}"
            continue
        summary.updated[provider] = len(found)
        fresh.extend(found)
    if fresh:
        # Only refreshed figures go to the user's file: the shipped snapshot stays the base,
        # so a newer psr-engine's snapshot is not hidden behind stale copies of the old one.
        earlier = _user_entries(summary.path)
        write_table(summary.path, earlier.merged(fresh).prices)
    return summary


def _user_entries(path: str) -> PriceTable:
    import os

    from psr_engine.cost.prices import parse_table

    if not os.path.isfile(path):
        return PriceTable((), 0.0)
    with open(path, encoding="utf-8") as handle:
        return parse_table(json.load(handle))
