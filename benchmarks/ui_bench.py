"""The dashboard's speed: over a history of 10,000 runs, and beside a running engine.

  list    the runs page (`/`) and `GET /api/runs` (first page of 50): median of 20 requests
          each, to a real `psr-engine ui` (uvicorn) on 127.0.0.1, over a history of 10,000
          runs (3 workflows, 5 tasks each) written with the store's own statements; also a
          page 9,500 runs deep (by cursor) and filtered pages, to show keyset paging
          stays flat.
  live    a page open on a running run (chromium driven by Playwright): a task row is
          committed to runs.db with the statements the history sink uses, and the time until
          the page's node shows it (`data-status`) is measured; p95 over 50 events.
  W1      1,000 `true` tasks (exec_bench's W1) with a page open in the browser vs no page, in
          alternating pairs (which goes first alternates too), the median of the pairs'
          ratios; once with the runs page open (before the run starts), once with the run's
          own page (opened as soon as the run is listed, while its 1,000 tasks go).

    python benchmarks/ui_bench.py [--runs 10000] [--pairs 10] [--skip-w1]

Needs the `ui` extra, and for `live` and `W1` Playwright with Debian's chromium
(/usr/bin/chromium; `make test-tools` installs it as root).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from psr_engine.store import RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w
from workloads import manifest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENGINE = str(Path(__file__).resolve().parents[1] / "engine")


def env() -> dict[str, str]:
    out = dict(os.environ, PYTHONPATH=ENGINE, NO_COLOR="1")
    out.pop("PSR_STATE_DIR", None)
    return out


def fill_history(state: Path, runs: int) -> None:
    """`runs` ended runs of 3 workflows, 5 tasks each (a chain), over the last 30 days."""
    now = time.time()
    tasks = [
        TaskDigest(f"t{i}", f"t{i}", "d", needs=(f"t{i - 1}",) if i else (), level=i)
        for i in range(5)
    ]
    with RunStore.open(str(state)) as store:
        for start in range(0, runs, 1000):

            def body(conn, start=start) -> None:
                for i in range(start, min(runs, start + 1000)):
                    began = now - 30 * 86400 + i * (30 * 86400 / runs)
                    run = RunRecord(
                        id=f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(began))}-{i:06x}",
                        workflow=("etl", "report", "deploy")[i % 3],
                        status="running",
                        started_at=began,
                        labels={"team": ("data", "web")[i % 2]},
                        host="bench",
                    )
                    w.begin_run(conn, run, tasks)
                    for k, t in enumerate(tasks):
                        w.task_finished(
                            conn,
                            run.id,
                            t.id,
                            task_name=t.task,
                            status="failed" if i % 17 == 0 and k == 4 else "succeeded",
                            reason=None,
                            attempts=1,
                            exit_code=0,
                            ts=began + k + 1,
                            duration=1.0,
                            cpu_user=0.5,
                            cpu_sys=0.1,
                            max_rss=1 << 20,
                            outputs={},
                            matrix={},
                            log_path=None,
                            message=None,
                        )
                    w.finish_run(
                        conn,
                        run.id,
                        status="failed" if i % 17 == 0 else "succeeded",
                        reason=None,
                        ended_at=began + 5.5,
                        counts={"succeeded": 5},
                    )

            store.write(body)


@contextmanager
def ui(paths: list[str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "ui", *paths, "--port", "0"],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://\S+)/", line)
        if not match:
            raise SystemExit(f"ui did not start: {line!r} {process.stderr.read()}")
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def median_ms(client: httpx.Client, url: str, n: int = 20) -> float:
    client.get(url).raise_for_status()  # warm
    times = []
    for _ in range(n):
        begin = time.perf_counter()
        client.get(url).raise_for_status()
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def bench_list(root: Path, runs: int) -> list[tuple[str, float]]:
    state = root / "history" / ".psr"
    begin = time.perf_counter()
    fill_history(state, runs)
    print(f"history of {runs} runs written in {time.perf_counter() - begin:.1f}s", flush=True)
    rows = []
    with ui([str(state)]) as base, httpx.Client(base_url=base, timeout=30) as client:
        deep = client.get("/api/runs", params={"limit": 500}).json()
        cursor = None
        for _ in range(runs // 500 - 1):
            cursor = deep["next"]
            deep = client.get("/api/runs", params={"limit": 500, "cursor": cursor}).json()
        for label, url in (
            ("runs page `/` (50 runs)", "/"),
            ("GET /api/runs (first page of 50)", "/api/runs"),
            ("GET /api/runs, last pages (cursor)", f"/api/runs?cursor={cursor}"),
            ("GET /api/runs?workflow=etl&status=failed", "/api/runs?workflow=etl&status=failed"),
            ("GET /api/runs?q=deploy&label=team=web", "/api/runs?q=deploy&label=team%3Dweb"),
            ("GET /api/workflows", "/api/workflows"),
        ):
            rows.append((label, median_ms(client, url)))
    return rows


def bench_live(root: Path, browser, events: int = 50) -> list[float]:
    state = root / "live" / ".psr"
    tasks = [TaskDigest(f"t{i}", f"t{i}", "d") for i in range(events)]
    run = RunRecord(
        id="live-run", workflow="live", status="running", started_at=time.time(), host="elsewhere"
    )
    with RunStore.open(str(state)) as store:
        store.write(lambda conn: w.begin_run(conn, run, tasks))
        with ui([str(state)]) as base:
            page = browser.new_page()
            page.goto(f"{base}/runs/live-run")
            page.wait_for_selector('[data-task="t0"][data-status="pending"]')
            page.wait_for_timeout(500)  # the event stream is open
            latencies = []
            for i in range(events):
                committed = time.perf_counter()
                store.write(
                    lambda conn, i=i: w.task_started(
                        conn,
                        run.id,
                        f"t{i}",
                        task_name=f"t{i}",
                        attempt=1,
                        ts=time.time(),
                        log_path=None,
                        matrix=None,
                    )
                )
                page.wait_for_selector(f'[data-task="t{i}"][data-status="running"]', timeout=10_000)
                latencies.append((time.perf_counter() - committed) * 1000)
                time.sleep(0.05)
            page.close()
    return latencies


def bench_w1(root: Path, browser, pairs: int) -> dict[str, tuple[float, float, list[float]]]:
    """W1 with a page open vs none, in alternating pairs, for two pages: the runs list (open
    before the run starts; it shows the run appear, then end) and the run's own page (opened
    as soon as the run is listed, while its 1,000 tasks go)."""
    folder = root / "w1"
    folder.mkdir()
    (folder / "workflow.yaml").write_text(manifest(1000))
    argv = [sys.executable, "-m", "psr_engine", "apply", "-q"]
    subprocess.run(argv, cwd=folder, env=env(), check=True, capture_output=True)  # warm
    results = {}
    with ui([str(folder)]) as base, httpx.Client(base_url=base) as client:

        def runs_page() -> float:
            page = browser.new_page()
            page.goto(f"{base}/")
            page.wait_for_timeout(300)  # its event stream is open
            begin = time.perf_counter()
            subprocess.run(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL, check=True)
            elapsed = time.perf_counter() - begin
            page.close()
            return elapsed

        def run_page() -> float:
            page = browser.new_page()
            begin = time.perf_counter()
            engine = subprocess.Popen(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL)
            run_id = None
            while run_id is None and engine.poll() is None:
                found = client.get("/api/runs", params={"status": "running", "limit": 1}).json()
                run_id = found["runs"][0]["runId"] if found["runs"] else None
                if run_id is None:
                    time.sleep(0.05)
            if run_id:
                page.goto(f"{base}/runs/{run_id}")
            engine.wait()
            elapsed = time.perf_counter() - begin
            page.close()
            return elapsed

        def without_page() -> float:
            begin = time.perf_counter()
            subprocess.run(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL, check=True)
            return time.perf_counter() - begin

        for label, with_page in (("the runs page", runs_page), ("the run's page", run_page)):
            ons: list[float] = []
            offs: list[float] = []
            ratios = []
            for i in range(pairs):
                order = [(with_page, ons), (without_page, offs)]
                for measure, into in order if i % 2 else order[::-1]:
                    into.append(measure())
                ratios.append(ons[-1] / offs[-1])
            results[label] = (statistics.median(ons), statistics.median(offs), ratios)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--skip-w1", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        root = Path(tmp)
        rows = bench_list(root, args.runs)
        print(f"\n| measure ({args.runs} runs in the history) | median of 20 |")
        print("|---|---:|")
        for label, ms in rows:
            print(f"| {label} | {ms:.1f} ms |")
        if not os.path.exists(CHROMIUM):
            print("\nchromium is missing: live and W1 not measured")
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            latencies = sorted(bench_live(root, browser))
            p95 = latencies[int(0.95 * len(latencies)) - 1]
            print(
                "\nevent committed -> open page shows it: "
                f"median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, "
                f"max {latencies[-1]:.0f} ms ({len(latencies)} events)"
            )
            if not args.skip_w1:
                for label, (on, off, ratios) in bench_w1(root, browser, args.pairs).items():
                    spread = ", ".join(f"{(r - 1) * 100:+.1f}" for r in sorted(ratios))
                    print(
                        f"\nW1 with {label} open {on:.3f}s, without {off:.3f}s (medians of "
                        f"{args.pairs} alternating pairs): "
                        f"{(statistics.median(ratios) - 1) * 100:+.1f}% wall time "
                        f"(each pair, sorted: {spread})"
                    )
            browser.close()


if __name__ == "__main__":
    main()
