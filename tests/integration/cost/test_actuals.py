"""CloudCostTracker against a real moto server (AWS) and stand-ins driven through the real
Azure and BigQuery SDKs (no emulator for either installs here)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from psr_engine.cost.actuals import CloudCostTracker
from psr_engine.cost.prices import CostError

pytestmark = pytest.mark.integration


def ce_period(day: str, end: str, services: dict[str, str], *, estimated: bool = False) -> dict:
    return {
        "TimePeriod": {"Start": day, "End": end},
        "Total": {},
        "Groups": [
            {"Keys": [name], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
            for name, amount in services.items()
        ],
        "Estimated": estimated,
    }


def test_aws_cost_explorer_by_tags_with_pages(aws) -> None:
    import boto3

    aws.can_cost_results(
        {
            "ResultsByTime": [
                ce_period(
                    "2026-11-01",
                    "2026-11-02",
                    {
                        "Amazon Elastic Compute Cloud - Compute": "1.25",
                        "Amazon Simple Storage Service": "0.05",
                    },
                ),
            ],
            "NextPageToken": "page-2",
        },
        {
            "ResultsByTime": [
                ce_period(
                    "2026-11-02",
                    "2026-11-03",
                    {"Amazon Elastic Compute Cloud - Compute": "2.5"},
                    estimated=True,
                )
            ]
        },
    )
    client = boto3.client("ce", region_name="us-east-1", endpoint_url=aws.endpoint)
    tracker = CloudCostTracker(
        labels={"team": "data", "cost-center": "cc-42"},
        since=date(2026, 11, 1),
        until=date(2026, 11, 3),
    )
    items = tracker.track_aws_resources(client=client)
    assert [(i.service, i.amount, i.start, i.estimated) for i in items] == [
        ("Amazon Elastic Compute Cloud - Compute", 1.25, "2026-11-01", False),
        ("Amazon Simple Storage Service", 0.05, "2026-11-01", False),
        ("Amazon Elastic Compute Cloud - Compute", 2.5, "2026-11-02", True),
    ]
    breakdown = tracker.get_cost_breakdown()
    assert breakdown.total == {"USD": 3.8}
    assert breakdown.by_service["aws/Amazon Elastic Compute Cloud - Compute"] == {"USD": 3.75}
    assert breakdown.start == "2026-11-01" and breakdown.end == "2026-11-03"


def test_aws_without_canned_results_finds_nothing(aws) -> None:
    tracker = CloudCostTracker(labels={"team": "data"}, since=date(2026, 11, 1))
    assert tracker.track_aws_resources(endpoint_url=aws.endpoint) == []
    assert tracker.get_cost_breakdown().total == {}


def test_aws_tag_filter_shape() -> None:
    from psr_engine.cost.actuals_aws import tag_filter

    assert tag_filter({"team": "data"}) == {
        "Tags": {"Key": "team", "Values": ["data"], "MatchOptions": ["EQUALS"]}
    }
    both = tag_filter({"team": "data", "env": "prod"})
    assert [t["Tags"]["Key"] for t in both["And"]] == ["env", "team"]


def test_aws_unreachable_is_a_cost_error(aws) -> None:
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tracker = CloudCostTracker(labels={"team": "data"}, since=date(2026, 11, 1))
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "ce",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(CostError, match="AWS Cost Explorer"):
        tracker.track_aws_resources(client=client)


def test_cli_cost_actual_aws_json(aws) -> None:
    aws.can_cost_results(
        {"ResultsByTime": [ce_period("2026-11-01", "2026-11-02", {"AWS Lambda": "0.5"})]}
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "psr_engine",
            "cost",
            "actual",
            "--provider",
            "aws",
            "--since",
            "7d",
            "--label",
            "team=data",
            "--endpoint-url",
            aws.endpoint,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["total"] == {"USD": 0.5} and document["labels"] == {"team": "data"}


# -- Azure ---------------------------------------------------------------------------------

SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000001"


def azure_answer(method: str, path: str, body: Any) -> tuple[int, Any]:
    if method == "POST" and "/providers/Microsoft.CostManagement/query" in path:
        return 200, {
            "id": f"{SCOPE}/providers/Microsoft.CostManagement/query/q1",
            "name": "q1",
            "type": "Microsoft.CostManagement/query",
            "properties": {
                "nextLink": None,
                "columns": [
                    {"name": "Cost", "type": "Number"},
                    {"name": "UsageDate", "type": "Number"},
                    {"name": "ServiceName", "type": "String"},
                    {"name": "Currency", "type": "String"},
                ],
                "rows": [
                    [1.5, 20261101, "Virtual Machines", "USD"],
                    [0.25, 20261101, "Storage", "USD"],
                    [2.0, 20261102, "Virtual Machines", "USD"],
                ],
            },
        }
    return 404, {"error": {"code": "NotFound", "message": path}}


def test_azure_cost_management_query_by_tags(stand_in, azure_credential) -> None:
    server = stand_in(azure_answer, tls=True)
    tracker = CloudCostTracker(
        labels={"team": "data", "env": "prod"}, since=date(2026, 11, 1), until=date(2026, 11, 3)
    )
    items = tracker.track_azure_resources(
        scope=SCOPE,
        credential=azure_credential,
        base_url=server.url,
        connection_verify=server.ca_file,
    )
    assert [(i.service, i.amount, i.start) for i in items] == [
        ("Virtual Machines", 1.5, "2026-11-01"),
        ("Storage", 0.25, "2026-11-01"),
        ("Virtual Machines", 2.0, "2026-11-02"),
    ]
    assert tracker.get_cost_breakdown().by_provider == {"azure": {"USD": 3.75}}
    _method, path, body, headers = server.requests[-1]
    assert path.startswith(f"{SCOPE}/providers/Microsoft.CostManagement/query?api-version=")
    assert headers["Authorization"] == "Bearer token"
    assert body["type"] == "ActualCost" and body["timeframe"] == "Custom"
    assert body["timePeriod"]["from"].startswith("2026-11-01")
    tags = [t["tags"] for t in body["dataset"]["filter"]["and"]]
    assert tags == [
        {"name": "env", "operator": "In", "values": ["prod"]},
        {"name": "team", "operator": "In", "values": ["data"]},
    ]


def test_azure_error_answer_is_a_cost_error(stand_in, azure_credential) -> None:
    server = stand_in(
        lambda m, p, b: (403, {"error": {"code": "AuthorizationFailed", "message": "no access"}}),
        tls=True,
    )
    tracker = CloudCostTracker(labels={"team": "data"}, since=date(2026, 11, 1))
    with pytest.raises(CostError, match="Azure Cost Management"):
        tracker.track_azure_resources(
            scope=SCOPE,
            credential=azure_credential,
            base_url=server.url,
            connection_verify=server.ca_file,
        )


# -- GCP -----------------------------------------------------------------------------------


def bigquery_answer(method: str, path: str, body: Any) -> tuple[int, Any]:
    if method == "POST" and path.startswith("/bigquery/v2/projects/billing-proj/queries"):
        return 200, {
            "kind": "bigquery#queryResponse",
            "jobReference": {"projectId": "billing-proj", "jobId": "job1", "location": "US"},
            "jobComplete": True,
            "totalRows": "2",
            "schema": {
                "fields": [
                    {"name": "service", "type": "STRING", "mode": "NULLABLE"},
                    {"name": "day", "type": "DATE", "mode": "NULLABLE"},
                    {"name": "cost", "type": "FLOAT", "mode": "NULLABLE"},
                    {"name": "currency", "type": "STRING", "mode": "NULLABLE"},
                ]
            },
            "rows": [
                {"f": [{"v": "Compute Engine"}, {"v": "2026-11-01"}, {"v": "4.2"}, {"v": "USD"}]},
                {"f": [{"v": "Cloud Storage"}, {"v": "2026-11-01"}, {"v": "0.3"}, {"v": "USD"}]},
            ],
        }
    return 404, {"error": {"code": 404, "message": f"not found: {path}", "status": "NOT_FOUND"}}


@pytest.mark.filterwarnings("ignore::FutureWarning")  # google-api-core on Python 3.11
def test_gcp_billing_export_query_by_labels(stand_in, no_cloud_env) -> None:
    from google.auth.credentials import AnonymousCredentials

    server = stand_in(bigquery_answer)
    tracker = CloudCostTracker(
        labels={"team": "data"}, since=date(2026, 11, 1), until=date(2026, 11, 2)
    )
    items = tracker.track_gcp_resources(
        table="billing-proj.billing.gcp_billing_export_v1_0000",
        project="billing-proj",
        credentials=AnonymousCredentials(),
        api_endpoint=server.url,
    )
    assert [(i.service, i.amount, i.start, i.end) for i in items] == [
        ("Compute Engine", 4.2, "2026-11-01", "2026-11-02"),
        ("Cloud Storage", 0.3, "2026-11-01", "2026-11-02"),
    ]
    body = server.requests[-1][2]
    assert "`billing-proj.billing.gcp_billing_export_v1_0000`" in body["query"]
    values = {p["name"]: p["parameterValue"]["value"] for p in body["queryParameters"]}
    assert values["k0"] == "team" and values["v0"] == "data"
    assert values["start"].startswith("2026-11-01")


def test_gcp_table_name_is_checked_not_interpolated_blindly() -> None:
    tracker = CloudCostTracker(labels={"team": "data"}, since=date(2026, 11, 1))
    with pytest.raises(CostError, match=r"project\.dataset\.table"):
        tracker.track_gcp_resources(table="x`; DROP TABLE y; --", client=object())
