"""psr-engine cost prices|report|actual: the price table, chargeback from the run history, and
what the clouds' billing says a workflow's resources cost.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from psr_engine.cli.options import add_output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cost_command", metavar="SUBCOMMAND", required=True)

    prices = sub.add_parser("prices", help="list the on-demand prices psr-engine knows")
    prices.add_argument("--provider", choices=("aws", "azure", "gcp"), help="only this cloud")
    prices.add_argument("--region", metavar="REGION", help="only this region")
    prices.add_argument(
        "--update",
        action="store_true",
        help="refresh the prices from the providers' public price APIs first (online)",
    )
    prices.add_argument(
        "--gcp-api-key",
        metavar="KEY",
        help="an API key for the Cloud Billing Catalog API (default: $PSR_GCP_API_KEY); "
        "without one, --update leaves GCP prices as they are",
    )
    add_output(prices, ("table", "json"))

    report = sub.add_parser("report", help="chargeback: runs, hours and cost per group")
    report.add_argument("--since", default="30d", metavar="AGE", help="look back this far (30d)")
    report.add_argument(
        "--by",
        default="workflow",
        metavar="workflow|task|label:KEY",
        help="group by workflow (default), task, or a label's value (label:team)",
    )
    report.add_argument("--workflow", metavar="NAME", help="only runs of this workflow")
    add_output(report, ("table", "json", "csv"))
    from psr_engine.cli.cmd_runs import add_state_dir

    add_state_dir(report)

    actual = sub.add_parser("actual", help="what the cloud's billing says (lags by up to a day)")
    actual.add_argument("--provider", required=True, choices=("aws", "azure", "gcp"))
    actual.add_argument("--since", default="7d", metavar="AGE", help="look back this far (7d)")
    actual.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag/label the resources carry (repeatable); default: the manifest's labels",
    )
    actual.add_argument(
        "-f", "--file", metavar="FILE", help="take the labels of this manifest's metadata.labels"
    )
    actual.add_argument("--scope", metavar="SCOPE", help="azure: /subscriptions/<id>[/...]")
    actual.add_argument("--table", metavar="TABLE", help="gcp: project.dataset.table of export")
    actual.add_argument("--project", metavar="PROJECT", help="gcp: the project to bill the query")
    actual.add_argument("--endpoint-url", metavar="URL", help="a different API endpoint")
    add_output(actual, ("table", "json"))


def run(args: argparse.Namespace) -> int:
    return {"prices": _prices, "report": _report, "actual": _actual}[args.cost_command](args)


# -- prices --------------------------------------------------------------------------------


def _prices(args: argparse.Namespace) -> int:
    from psr_engine.cost.prices import load_table

    if args.update:
        import os

        from psr_engine.cost.update import update_prices

        summary = update_prices(gcp_api_key=args.gcp_api_key or os.environ.get("PSR_GCP_API_KEY"))
        sys.stderr.write(summary.text())
        if not any(summary.updated.values()):
            return 1
    table = load_table()
    prices = sorted(
        table.select(provider=args.provider, region=args.region),
        key=lambda p: (p.provider, p.region, p.vcpu, p.memory_gib, p.instance_type),
    )
    if args.output == "json":
        document = {
            "snapshot": table.snapshot,
            "vcpuPerGibHour": table.vcpu_per_gib,
            "prices": [p.to_dict() for p in prices],
        }
        from psr_engine.cli import json_output

        json_output.write(document)
        return 0
    from psr_engine.cli.cmd_runs import render_table

    if not prices:
        sys.stdout.write("no prices match\n")
        return 0
    rows = [("PROVIDER", "REGION", "INSTANCE", "VCPU", "GIB", "HOURLY", "CUR", "DATE")]
    for p in prices:
        rows.append(
            (
                p.provider,
                p.region,
                p.instance_type,
                f"{p.vcpu:g}",
                f"{p.memory_gib:g}",
                f"{p.hourly:.6f}",
                p.currency,
                p.date,
            )
        )
    sys.stdout.write(render_table(rows))
    sources = sorted({p.source for p in prices})
    note = "a snapshot of public list prices; " if table.snapshot else ""
    sys.stdout.write(f"\n{note}sources: " + "; ".join(sources) + "\n")
    return 0


# -- report --------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    import time

    from psr_engine.cost.history import cost_rows, opened
    from psr_engine.cost.report import chargeback, group_key, parse_age, render
    from psr_engine.store import find_state_dir

    since = time.time() - parse_age(args.since)
    group_key(args.by)  # a bad --by fails before the history is read
    with opened(find_state_dir(args.state_dir)) as store:
        rows = cost_rows(store, since=since, workflow=args.workflow)
    sys.stdout.write(render(chargeback(rows, by=args.by), output=args.output, by=args.by))
    return 0


# -- actual --------------------------------------------------------------------------------


def _labels(args: argparse.Namespace) -> dict[str, str]:
    from psr_engine.cli.options import parse_param_args

    labels: dict[str, str] = {}
    if args.file:
        from psr_engine import api

        labels.update(api.load(args.file).labels)
    labels.update(parse_param_args(args.label))
    if not labels:
        from psr_engine.cost.prices import CostError

        raise CostError(
            "cost actual needs the labels to look for: --label team=data, or -f workflow.yaml "
            "(its metadata.labels)"
        )
    return labels


def _actual(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from psr_engine.cost.actuals import CloudCostTracker
    from psr_engine.cost.prices import CostError
    from psr_engine.cost.report import parse_age

    since = datetime.now(UTC) - timedelta(seconds=parse_age(args.since))
    tracker = CloudCostTracker(labels=_labels(args), since=since)
    if args.provider == "aws":
        tracker.track_aws_resources(endpoint_url=args.endpoint_url)
    elif args.provider == "azure":
        if not args.scope:
            raise CostError("--provider azure needs --scope /subscriptions/<id>")
        tracker.track_azure_resources(scope=args.scope, base_url=args.endpoint_url)
    else:
        if not args.table:
            raise CostError("--provider gcp needs --table project.dataset.table (billing export)")
        tracker.track_gcp_resources(
            table=args.table, project=args.project, api_endpoint=args.endpoint_url
        )
    breakdown = tracker.get_cost_breakdown()
    if args.output == "json":
        from psr_engine.cli import json_output

        json_output.write(breakdown.to_dict())
        return 0
    sys.stdout.write(_actual_table(breakdown))
    return 0


def _actual_table(breakdown: Any) -> str:
    from psr_engine.cli.cmd_runs import render_table

    head = (
        f"{breakdown.start} .. {breakdown.end} (end exclusive), labels "
        + ", ".join(f"{k}={v}" for k, v in sorted(breakdown.labels.items()))
        + "\n"
    )
    if not breakdown.items:
        return head + "no costs found (billing data lags by hours to a day)\n"
    rows = [("SERVICE", "AMOUNT", "CURRENCY")]
    for service, totals in breakdown.by_service.items():
        for currency, amount in totals.items():
            rows.append((service, f"{amount:.4f}", currency))
    for currency, amount in breakdown.total.items():
        rows.append(("total", f"{amount:.4f}", currency))
    return head + render_table(rows)
