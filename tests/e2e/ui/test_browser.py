"""The dashboard in a real browser (Playwright driving Debian's chromium) over real engines:
a run's nodes go running -> succeeded with no reload, a log shows while it is written, a
cancel from the page ends the run `cancelled` (onExit ran, the engine exited 130), a rerun
from a task runs only it and what is downstream of it. Screenshots of the pages are saved
(tests/output/ui/; PSR_UPDATE_SCREENSHOTS=1 also copies them to docs/features/img/)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_history import REPO, Server, start_apply, ui_server, wait_for, write_project

from psr_engine.store import RunStore

CHROMIUM = "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(
        "chromium is not installed (make test-tools installs it as root with apt)",
        allow_module_level=True,
    )

OUT = REPO / "tests" / "output" / "ui"
DOCS_IMG = REPO / "docs" / "features" / "img"

PIPELINE = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: pipeline, labels: {team: data}}
spec:
  tasks:
    prepare: {run: echo ready}
    crunch:
      needs: [prepare]
      run: for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; sleep 0.3; done
    report:
      needs: [crunch]
      run: echo "rows=10" >> $PSR_OUTPUT
    publish:
      needs: [report]
      matrix: {target: [eu, us]}
      run: echo publish ${{ matrix.target }}
"""

LONG = """
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: long}
spec:
  tasks:
    wait: {run: sleep 60}
  onExit:
    cleanup: {run: touch cleaned-up}
"""


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    for name, text in (("pipeline", PIPELINE), ("long", LONG)):
        write_project(root / name, text)
        RunStore.open(str(root / name / ".psr")).close()  # an empty history to serve
    return root


@pytest.fixture(scope="module")
def server(projects: Path) -> Iterator[Server]:
    with ui_server([str(projects)], "--allow-actions") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors  # no script error, no CSP violation that throws


def shot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / name), full_page=True)
    if os.environ.get("PSR_UPDATE_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(OUT / name, DOCS_IMG / name)


def api(server: Server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return json.loads(response.read())


def test_a_run_goes_live_on_the_page_and_its_log_shows_while_written(
    server: Server, projects: Path, page
) -> None:
    page.goto(server.url + "/")
    engine = start_apply(projects / "pipeline" / "workflow.yaml")
    try:
        row = page.locator("tr[data-run-id]").first
        row.wait_for()  # the run started after the page opened, and appeared on it
        run_id = row.get_attribute("data-run-id")
        page.click(f'a[href="/runs/{run_id}"]')
        page.wait_for_selector(f'[data-run="{run_id}"]')
        page.evaluate("window.__sameDocument = true")

        crunch = page.locator('[data-task="crunch"]')
        page.locator('[data-task="crunch"][data-status="running"]').wait_for()
        crunch.click()
        page.locator("#log").filter(has_text="line 2").wait_for()
        assert crunch.get_attribute("data-status") == "running"  # still being written
        shot(page, "dashboard-run-live.png")

        page.locator('[data-task="crunch"][data-status="succeeded"]').wait_for()
        page.locator('[data-run-status="succeeded"]').wait_for()
        page.locator("#log").filter(has_text="line 10").wait_for()
        assert page.evaluate("window.__sameDocument") is True  # no reload happened
        statuses = page.eval_on_selector_all(
            "[data-task]", "nodes => nodes.map(n => n.dataset.status)"
        )
        assert set(statuses) == {"succeeded"} and len(statuses) == 5
        page.locator("#gantt rect").first.wait_for()
        shot(page, "dashboard-run.png")
    finally:
        assert engine.wait(timeout=60) == 0
    page.goto(server.url + "/")
    shot(page, "dashboard-runs.png")
    page.goto(server.url + "/workflows/pipeline")
    page.locator("svg.chart rect").first.wait_for()
    shot(page, "dashboard-workflow.png")


def test_cancel_from_the_page_ends_the_run_cancelled_after_onexit(
    server: Server, projects: Path, page
) -> None:
    engine = start_apply(projects / "long" / "workflow.yaml")
    try:
        run_id = wait_for(
            lambda: next(iter(api(server, "/api/runs?workflow=long&status=running")["runs"]), None)
        )["runId"]
        page.goto(f"{server.url}/runs/{run_id}")
        page.locator('[data-task="wait"][data-status="running"]').wait_for()
        # A task still pending when the page opened has its panel too (the stream sends a
        # task once it moves; the page reads the run's document for it).
        page.click('[data-task="cleanup"]')
        page.locator("#panel-title", has_text="cleanup").wait_for()
        page.locator("#panel-body", has_text="pending").wait_for()
        page.click("#panel-close")
        page.click("#cancel-run")
        page.locator(f'[data-run="{run_id}"][data-run-status="cancelled"]').wait_for()
        page.locator('[data-task="cleanup"][data-status="succeeded"]').wait_for()
    finally:
        code = engine.wait(timeout=60)
    assert code == 130  # as Ctrl-C
    assert (projects / "long" / "cleaned-up").exists()  # onExit ran


def test_rerun_from_a_task_runs_only_it_and_downstream(server: Server, page) -> None:
    earlier = api(server, "/api/runs?workflow=pipeline&status=succeeded&limit=1")["runs"][0]
    page.goto(f"{server.url}/runs/{earlier['runId']}")
    page.click('[data-task="report"]')
    page.click("#rerun-from")
    page.wait_for_url(lambda url: earlier["runId"] not in url, timeout=30_000)
    page.locator('[data-run-status="succeeded"]').wait_for(timeout=30_000)
    new_id = page.locator("[data-run]").get_attribute("data-run")
    tasks = api(server, f"/api/runs/{new_id}")["tasks"]
    ran = {name for name, t in tasks.items() if t["attempt"] > 0}
    reused = {name for name, t in tasks.items() if t["reason"] == "reused"}
    assert ran == {"report", "publish[target=eu]", "publish[target=us]"}
    assert reused == {"prepare", "crunch"}
    assert page.locator('[data-task="crunch"]').get_attribute("data-reused") == "true"
    shot(page, "dashboard-rerun.png")


def test_the_follow_page_open_before_a_run_swaps_in_its_live_dag(
    server: Server, projects: Path, page
) -> None:
    page.goto(server.url + "/workflows/pipeline/latest")
    page.wait_for_selector("#follow")
    shown = page.locator("#run")
    before = shown.get_attribute("data-run") if shown.count() else None
    page.evaluate("window.__sameDocument = true")
    page.evaluate("window.__node = document.querySelector('[data-task=\"crunch\"]')")
    engine = start_apply(projects / "pipeline" / "workflow.yaml")
    try:
        fresh = f'#run:not([data-run="{before}"])' if before else "#run"
        page.locator(f'{fresh} [data-task="crunch"][data-status="running"]').wait_for()
        page.locator(f'{fresh} [data-task="crunch"][data-status="succeeded"]').wait_for()
        page.locator(f'{fresh}[data-run-status="succeeded"]').wait_for()
        assert page.evaluate("window.__sameDocument") is True  # swapped in, not reloaded
        assert page.locator("#run").count() == 1  # the earlier run's body is gone
        if before:  # the same plan: its DAG was kept (cleared), not drawn again
            kept = "document.querySelector('[data-task=\"crunch\"]') === window.__node"
            assert page.evaluate(kept) is True
        new_id = page.locator("#run").get_attribute("data-run")
        assert api(server, f"/api/runs/{new_id}")["run"]["workflow"] == "pipeline"
    finally:
        assert engine.wait(timeout=60) == 0
