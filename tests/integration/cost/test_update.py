"""`cost prices --update` against local stand-ins of the three public price APIs (no network
here): the AWS Price List API through boto3 (moto does not serve `pricing`), the Azure Retail
Prices REST API and the Cloud Billing Catalog API over plain HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from psr_engine.cost.prices import InstancePrice, PriceTable, load_table
from psr_engine.cost.update import update_prices

pytestmark = pytest.mark.integration

TABLE = PriceTable(
    (
        InstancePrice("aws", "us-east-1", "m5.large", 2, 8, 0.096, date="2024-06-01"),
        InstancePrice("aws", "us-east-1", "m9.gone", 2, 8, 0.5, date="2024-06-01"),
        InstancePrice("azure", "eastus", "Standard_D2s_v5", 2, 8, 0.096, date="2024-06-01"),
        InstancePrice(
            "gcp",
            "us-central1",
            "n2-standard-2",
            2,
            8,
            0.097118,
            vcpu_hour=0.031611,
            gib_hour=0.004237,
        ),
        InstancePrice(
            "gcp", "us-central1", "c2-standard-4", 4, 16, 0.2, vcpu_hour=0.03, gib_hour=0.004
        ),
    ),
    vcpu_per_gib=7.46,
)


def aws_product(instance: str, usd: str) -> str:
    return json.dumps(
        {
            "product": {"attributes": {"instanceType": instance, "regionCode": "us-east-1"}},
            "terms": {
                "OnDemand": {
                    "T1": {
                        "priceDimensions": {"T1.D1": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}
                    }
                }
            },
        }
    )


def aws_answer(method: str, path: str, body: Any) -> tuple[int, Any]:
    filters = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
    assert filters["operatingSystem"] == "Linux" and filters["tenancy"] == "Shared"
    if filters["instanceType"] == "m5.large":
        return 200, {
            "FormatVersion": "aws_v1",
            "PriceList": [aws_product("m5.large", "0.1010000000")],
        }
    return 200, {"FormatVersion": "aws_v1", "PriceList": []}


class AzurePrices:
    """Two pages, as the real API pages (its NextPageLink is absolute, hence `base`)."""

    base = ""

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        query = parse_qs(urlsplit(path).query)
        assert "armSkuName eq 'Standard_D2s_v5'" in query["$filter"][0]
        page = query.get("page", ["1"])[0]
        if page == "1":
            return 200, {
                "Items": [
                    {
                        "retailPrice": 0.05,
                        "unitOfMeasure": "1 Hour",
                        "skuName": "D2s v5 Spot",
                        "productName": "Virtual Machines Dsv5 Series",
                    },
                    {
                        "retailPrice": 0.188,
                        "unitOfMeasure": "1 Hour",
                        "skuName": "D2s v5",
                        "productName": "Virtual Machines Dsv5 Series Windows",
                    },
                ],
                "NextPageLink": f"{self.base}/api/retail/prices?{urlsplit(path).query}&page=2",
            }
        return 200, {
            "Items": [
                {
                    "retailPrice": 0.099,
                    "unitOfMeasure": "1 Hour",
                    "skuName": "D2s v5",
                    "productName": "Virtual Machines Dsv5 Series",
                }
            ],
            "NextPageLink": None,
        }


def sku(description: str, nanos: int, usage: str = "OnDemand") -> dict:
    return {
        "description": description,
        "category": {"usageType": usage},
        "serviceRegions": ["us-central1", "us-east1"],
        "pricingInfo": [
            {"pricingExpression": {"tieredRates": [{"unitPrice": {"units": "0", "nanos": nanos}}]}}
        ],
    }


def gcp_answer(method: str, path: str, body: Any) -> tuple[int, Any]:
    query = parse_qs(urlsplit(path).query)
    if query.get("key") != ["test-key"]:
        return 403, {"error": {"message": "API key not valid"}}
    if "pageToken" not in query:
        return 200, {
            "skus": [
                sku("N2 Instance Core running in Americas", 33000000),
                sku("N2 Instance Core running in Americas", 1, "Preemptible"),
            ],
            "nextPageToken": "p2",
        }
    return 200, {
        "skus": [
            sku("N2 Instance Ram running in Americas", 4400000),
            sku("Compute optimized Core running in Americas", 35000000),
            sku("Compute optimized Ram running in Americas", 4700000),
        ],
        "nextPageToken": "",
    }


def test_update_refreshes_every_provider_from_its_api(
    stand_in, tmp_path: Path, monkeypatch
) -> None:
    import boto3

    aws = stand_in(aws_answer)
    prices = AzurePrices()
    azure = stand_in(prices)
    prices.base = azure.url
    gcp = stand_in(gcp_answer)
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url=aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    path = tmp_path / "prices.json"
    summary = update_prices(
        path=str(path),
        table=TABLE,
        aws_client=client,
        azure_url=azure.url,
        gcp_url=gcp.url,
        gcp_api_key="test-key",
    )
    assert summary.errors == {}
    assert summary.updated == {"aws": 1, "azure": 1, "gcp": 2}
    assert aws.requests[0][3]["X-Amz-Target"] == "AWSPriceListService.GetProducts"
    table = load_table({"PSR_PRICES_FILE": str(path)})
    m5 = table.find("aws", "us-east-1", "m5.large")
    assert m5.hourly == 0.101 and "Price List API" in m5.source and m5.date != "2024-06-01"
    assert table.find("azure", "eastus", "Standard_D2s_v5").hourly == 0.099
    n2 = table.find("gcp", "us-central1", "n2-standard-2")
    # 2 x 0.033 + 8 x 0.0044 = 0.066 + 0.0352 = 0.1012
    assert (n2.vcpu_hour, n2.gib_hour, n2.hourly) == (0.033, 0.0044, 0.1012)
    # 4 x 0.035 + 16 x 0.0047 = 0.14 + 0.0752 = 0.2152
    assert table.find("gcp", "us-central1", "c2-standard-4").hourly == pytest.approx(0.2152)
    written = json.loads(path.read_text())["prices"]
    assert len(written) == 4  # only refreshed figures; the snapshot stays the base


def test_an_unreachable_provider_keeps_its_figures(stand_in, tmp_path: Path) -> None:
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    prices = AzurePrices()
    azure = stand_in(prices)
    prices.base = azure.url
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        endpoint_url=dead,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    path = tmp_path / "prices.json"
    summary = update_prices(path=str(path), table=TABLE, aws_client=client, azure_url=azure.url)
    assert set(summary.errors) == {"aws", "gcp"} and summary.updated == {"azure": 1}
    assert "aws: not refreshed" in summary.text()
    assert (
        "gcp: not refreshed (the Cloud Billing Catalog API needs --gcp-api-key)" in summary.text()
    )
