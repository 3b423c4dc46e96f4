"""Each template: `init --template NAME DIR` then `apply` succeeds offline, and input broken on
purpose fails the way the template's README promises."""

from __future__ import annotations

import itertools
import json
import sqlite3

import pytest


def scaffold(ws, name: str, *params: str):
    result = ws.cli("init", "--template", name, ".", *params)
    assert result.code == 0, result.stderr
    return result


# --- etl-pipeline -----------------------------------------------------------------------------


def test_etl_pipeline_loads_the_sample_data_and_passes_row_counts_between_tasks(ws, task_log):
    scaffold(ws, "etl-pipeline")
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    assert set(result.statuses().values()) == {"succeeded"}
    finished = result.finished()
    assert finished["extract_orders"]["outputs"] == {"rows": "10"}
    assert finished["transform"]["outputs"] == {"rows": "10", "rejected": "0"}
    assert finished["load"]["outputs"] == {"loaded": "10"}
    db = sqlite3.connect(ws.root / "output/warehouse.db")
    assert db.execute("select count(*), round(sum(amount), 2) from orders").fetchone() == (
        10,
        1195.83,
    )
    assert "loaded 10 of 10 orders" in task_log(ws.root, "report")


def test_etl_pipeline_bad_row_fails_the_check_and_nothing_is_loaded(ws, task_log):
    scaffold(ws, "etl-pipeline", "-p", "database=out/dw.db")
    with (ws.root / "data/orders.csv").open("a") as handle:
        handle.write("o-1011,c-9,2026-11-26,-3.5\n")
    result = ws.cli("apply")
    assert result.code == 1
    statuses = result.statuses()
    assert statuses["check"] == "failed"
    assert statuses["load"] == statuses["report"] == "skipped"
    assert result.finished()["load"]["reason"] == "upstream_failed"
    log = task_log(ws.root, "check")
    assert "data/orders.csv:12: amount -3.5 is negative; customer 'c-9' is unknown" in log
    assert "1 bad row(s), at most 0 allowed" in log
    assert not (ws.root / "out/dw.db").exists()
    # The README's escape hatch: tolerate it.
    assert ws.cli("apply", "-p", "maxBadRows=1").code == 0


# --- api-integration --------------------------------------------------------------------------


def test_api_integration_runs_offline_against_its_builtin_mock(ws, task_log):
    scaffold(ws, "api-integration")
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    outputs = result.finished()["fetch"]["outputs"]
    assert outputs["items"] == "25"
    assert int(outputs["retries"]) >= 1 and int(outputs["throttled"]) >= 1
    assert (ws.root / "output/items.csv").read_text().count("\n") == 26
    # The demo token came from the secret file, and no log shows it.
    assert "demo-token" not in task_log(ws.root, "fetch")


def test_api_integration_recovers_from_failures_and_throttling(ws, task_log, flaky_api):
    pages = {1: {"items": [{"id": 1}, {"id": 2}], "next": 2}, 2: {"items": [{"id": 3}]}}

    def script(n):
        if n == 1:
            return 503, {}, {"error": "down"}
        if n == 2:
            return 429, {"Retry-After": "0.2"}, {"error": "slow down"}
        if n == 4:
            return 502, {}, {"error": "bad gateway"}
        page = 1 if n == 3 else 2
        return 200, {}, pages[page]

    flaky_api.script = script
    scaffold(ws, "api-integration", "-p", f"base_url={flaky_api.url}")
    result = ws.cli("apply", "-p", "backoff=0.05")
    assert result.code == 0, task_log(ws.root, "fetch")
    outputs = result.finished()["fetch"]["outputs"]
    assert outputs == {"items": "3", "requests": "5", "retries": "3", "throttled": "1"}
    assert {seen["authorization"] for seen in flaky_api.seen} == {"Bearer demo-token"}
    assert [seen["path"] for seen in flaky_api.seen] == ["/items?page=1"] * 3 + [
        "/items?page=2"
    ] * 2
    metrics = json.loads((ws.root / "output/metrics.json").read_text())
    assert metrics["complete"] is True and metrics["errors"] == 3


def test_api_integration_rate_limit_spaces_requests(ws, task_log, flaky_api):
    import time

    stamps = []

    def script(n):
        stamps.append(time.monotonic())
        return 200, {}, {"items": [{"id": n}], "next": n + 1 if n < 4 else None}

    flaky_api.script = script
    scaffold(ws, "api-integration")
    result = ws.cli(
        "apply", "-p", f"baseUrl={flaky_api.url}", "-p", "rate=10", "-p", "auth=api-key"
    )
    assert result.code == 0, task_log(ws.root, "fetch")
    assert {seen.get("x-api-key") for seen in flaky_api.seen} == {"demo-key"}
    # 4 requests at 10/s: the bucket (burst 1) holds the last three at least ~0.1 s apart.
    # Behaviour, not speed: the gaps are a lower bound the limiter guarantees.
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.08


def test_api_integration_gives_up_on_a_failing_api_and_reports_it(ws, task_log, flaky_api):
    flaky_api.script = lambda n: (500, {}, {"error": "boom"})
    scaffold(ws, "api-integration")
    result = ws.cli(
        "apply", "-p", f"baseUrl={flaky_api.url}", "-p", "maxAttempts=2", "-p", "backoff=0.01"
    )
    assert result.code == 1
    fetch = result.finished()["fetch"]
    assert fetch["status"] == "failed" and fetch["exitCode"] == 75
    assert fetch["attempt"] == 2  # the workflow's own retry of exit code 75
    assert len(flaky_api.seen) == 4
    assert "giving up after 2 attempts: HTTP 500 from /items" in task_log(ws.root, "fetch", 2)
    assert result.statuses()["store"] == "skipped"


def test_api_integration_does_not_retry_bad_credentials(ws, task_log, flaky_api):
    flaky_api.script = lambda n: (401, {}, {"error": "who are you"})
    scaffold(ws, "api-integration")
    result = ws.cli("apply", "-p", f"baseUrl={flaky_api.url}", "-p", "auth=basic")
    assert result.code == 1
    fetch = result.finished()["fetch"]
    assert fetch["exitCode"] == 1 and fetch["attempt"] == 1
    assert len(flaky_api.seen) == 1
    assert flaky_api.seen[0]["authorization"].startswith("Basic ")
    assert "HTTP 401 from /items" in task_log(ws.root, "fetch")


# --- file-processing --------------------------------------------------------------------------


def test_file_processing_fans_out_over_chunks_and_skips_by_pattern(ws):
    scaffold(ws, "file-processing", "-p", "chunks=2")
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    assert sorted(t for t in result.statuses() if t.startswith("process")) == [
        "process[chunk=0]",
        "process[chunk=1]",
    ]
    report = json.loads((ws.root / "output/report.json").read_text())
    assert (report["files"], report["processed"], report["failed"]) == (5, 5, [])
    assert sorted(report["skipped"]) == [
        "inbox/2026-11-25/store-rome.partial.csv",
        "inbox/archive/store-old.csv",
    ]
    assert report["units"] == 37


def test_file_processing_one_bad_file_does_not_stop_the_batch_and_is_reported(ws, task_log):
    scaffold(ws, "file-processing")
    (ws.root / "inbox/2026-11-25/store-bad.csv").write_text("sku,qty,price\nA-1,two,9.99\n")
    result = ws.cli("apply")
    assert result.code == 1
    statuses = result.statuses()
    assert statuses["report"] == "failed"
    assert all(s == "succeeded" for t, s in statuses.items() if t.startswith("process"))
    report = json.loads((ws.root / "output/report.json").read_text())
    assert report["processed"] == 5
    assert report["failed"] == [
        {
            "file": "inbox/2026-11-25/store-bad.csv",
            "error": "line 2: qty 'two' / price '9.99' are not numbers",
        }
    ]
    assert "FAILED inbox/2026-11-25/store-bad.csv: line 2" in task_log(ws.root, "report")
    assert ws.cli("apply", "-p", "maxFailedFiles=1").code == 0


# --- data-transformation ----------------------------------------------------------------------


def test_data_transformation_reads_csv_json_and_excel_and_writes_results(ws):
    pytest.importorskip("pandas", reason="the data extra: pip install 'psr-engine[data]'")
    openpyxl = pytest.importorskip("openpyxl", reason="the data extra")
    scaffold(ws, "data-transformation", "-p", "out=results")
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    assert result.finished()["clean"]["outputs"] == {"rows": "10", "dropped": "2"}
    assert result.finished()["aggregate"]["outputs"]["revenue"] == "443.42"
    rows = json.loads((ws.root / "results/revenue_by_region.json").read_text())
    assert {
        "region": "emea",
        "category": "electronics",
        "revenue": 297.0,
        "units": 3,
        "orders": 2,
    } in rows
    assert any(r["region"] == "unknown" for r in rows)  # store S9 is not in stores.xlsx
    workbook = openpyxl.load_workbook(ws.root / "results/report.xlsx")
    assert workbook.sheetnames == ["by region", "by day"]


def test_data_transformation_missing_column_fails_load_naming_it(ws, task_log):
    pytest.importorskip("pandas", reason="the data extra: pip install 'psr-engine[data]'")
    scaffold(ws, "data-transformation")
    sales = ws.root / "data/sales.csv"
    sales.write_text(sales.read_text().replace("qty", "quantity", 1))
    result = ws.cli("apply")
    assert result.code == 1
    assert result.statuses()["load"] == "failed"
    assert result.statuses()["publish"] == "skipped"
    assert (
        "data/sales.csv: missing column(s) qty; found: date, store_id, sku, quantity"
        in task_log(ws.root, "load")
    )
    assert not (ws.root / "output/revenue_by_region.csv").exists()


def test_data_transformation_broken_export_fails_clean_with_the_counts(ws, task_log):
    pytest.importorskip("pandas", reason="the data extra: pip install 'psr-engine[data]'")
    scaffold(ws, "data-transformation")
    (ws.root / "data/sales.csv").write_text(
        "date,store_id,sku,qty,unit_price\n2026-11-24,S1,A-1,2,9.99\n"
        "not-a-date,S1,A-1,2,9.99\n2026-11-24,S1,A-1,,9.99\n"
    )
    result = ws.cli("apply")
    assert result.code == 1
    assert result.statuses()["clean"] == "failed"
    assert "dropped 2 of 3 sales rows (67%), more than the 20% allowed" in task_log(
        ws.root, "clean"
    )
