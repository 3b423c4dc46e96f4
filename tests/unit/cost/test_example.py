"""manifests/examples/costs.yaml: its plan is priced, and a real run (local processes) puts each
task's cost in the console summary and the JSON lines events."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from psr_engine.cost import check_budget_before_run, projection, projection_text

EXAMPLE = Path(__file__).resolve().parents[3] / "manifests" / "examples" / "costs.yaml"


@pytest.fixture
def example(tmp_path: Path):
    from psr_engine import api

    shutil.copy(EXAMPLE, tmp_path / "costs.yaml")
    return api.make_plan(str(tmp_path / "costs.yaml"))


def test_example_plan_projects_from_timeouts(example, tmp_path: Path) -> None:
    projected = projection(example, str(tmp_path / ".psr"))
    # m5.large: 0.0312471/vCPU-h, 0.0041882/GiB-h.
    # extract: 5 min x (1 x 0.0312471 + 0.5 x 0.0041882) = 1/12 x 0.0333412 = 0.00277843
    by_task = {t.id: t for t in projected.tasks}
    assert by_task["extract"].reserved == pytest.approx(0.00277843, abs=1e-8)
    # load: 1 min at the same request: 1/60 x 0.0333412 = 0.00055569
    assert by_task["load"].reserved == pytest.approx(0.00055569, abs=1e-8)
    text = projection_text(projected)
    assert "aws/us-east-1/m5.large" in text and "(upper bound)" in text
    assert "budget 5.0000 USD for this month (warn): within" in text
    check_budget_before_run(example, projected)  # within: no warning, no error


def test_example_run_shows_costs_in_summary_and_events(example, tmp_path: Path) -> None:
    from psr_engine.cost import annotator
    from psr_engine.events.sinks.console import ConsoleSink
    from psr_engine.events.sinks.jsonl import JsonlSink
    from psr_engine.run.engine import WorkflowEngine

    out = io.StringIO()
    events = tmp_path / "events.jsonl"
    engine = WorkflowEngine(
        sinks=[ConsoleSink(stream=out, live=False, color=False), JsonlSink(str(events))],
        state_dir=str(tmp_path / ".psr"),
        task_hooks=[annotator(example, state_dir=str(tmp_path / ".psr"))],
    )
    result = engine.run_sync(example)
    assert result.status == "succeeded", out.getvalue()
    finished = [
        json.loads(line) for line in events.read_text().splitlines() if '"task.finished"' in line
    ]
    costs = {e["task"]: e["data"]["cost"] for e in finished}
    assert set(costs) == {"extract", "transform", "load"}
    for cost in costs.values():
        assert cost["reserved"] > 0 and cost["currency"] == "USD"
        assert cost["rates"] == "aws/us-east-1/m5.large"
    assert costs["extract"]["used"] > 0  # it burned CPU
    assert costs["load"]["runReserved"] == pytest.approx(
        sum(c["reserved"] for c in costs.values()), abs=1e-7
    )
    summary = out.getvalue()
    assert "cost" in summary and f"{costs['transform']['reserved']:.6f}" in summary


def run_cli(*argv: str, capsys) -> tuple[int, str, str]:
    from psr_engine.cli.app import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prices_filters_and_formats(capsys) -> None:
    code, out, _ = run_cli(
        "cost", "prices", "--provider", "azure", "--region", "eastus", capsys=capsys
    )
    assert code == 0
    assert "Standard_D2s_v5" in out and "aws" not in out.split("sources")[0]
    assert "a snapshot of public list prices" in out
    code, out, _ = run_cli("cost", "prices", "--provider", "gcp", "-o", "json", capsys=capsys)
    document = json.loads(out)
    assert {p["provider"] for p in document["prices"]} == {"gcp"}
    assert document["snapshot"] is True


def test_cli_report_on_a_history_and_bad_arguments(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli("cost", "report", "--state-dir", str(tmp_path), capsys=capsys)
    assert (code, out) == (0, "no runs in that period\n")
    code, _, err = run_cli(
        "cost", "report", "--by", "colour", "--state-dir", str(tmp_path), capsys=capsys
    )
    assert code == 2 and "label:KEY" in err
    code, _, err = run_cli(
        "cost", "report", "--since", "soon", "--state-dir", str(tmp_path), capsys=capsys
    )
    assert code == 2 and "30d" in err
    code, out, _ = run_cli(
        "cost", "report", "-o", "csv", "--state-dir", str(tmp_path), capsys=capsys
    )
    assert out == "group,runs,hours,reserved,used,currency\n"


def test_cli_actual_needs_labels_and_provider_settings(capsys) -> None:
    code, _, err = run_cli("cost", "actual", "--provider", "aws", capsys=capsys)
    assert code == 2 and "--label team=data" in err
    code, _, err = run_cli("cost", "actual", "--provider", "azure", "--label", "a=b", capsys=capsys)
    assert code == 2 and "--scope" in err
    code, _, err = run_cli("cost", "actual", "--provider", "gcp", "--label", "a=b", capsys=capsys)
    assert code == 2 and "--table" in err


def test_docs_show_the_example_projection_as_printed(example, tmp_path: Path) -> None:
    docs = (EXAMPLE.parents[2] / "docs" / "features" / "cloud-costs.md").read_text()
    assert projection_text(projection(example, str(tmp_path / ".psr"))) in docs
