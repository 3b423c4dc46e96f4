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
          own page (opened as soon as the run is listed, while its 1,000 tasks go), and
          (`--w1-page follow`) the workflow's live page `/workflows/bench/latest`, opened
          before the run starts, that follows it into the run (its DAG swapped in);
          `--w1-page empty` opens the login form instead at that moment: the floor any page
          opened while W1 runs costs the browser.

    python benchmarks/ui_bench.py [--runs 10000] [--pairs 10] [--skip-w1] [--w1-page follow]

Needs the `ui` extra, and for `live` and `W1` Playwright with Debian's chromium
(/usr/bin/chromium; `make test-tools` installs it as root).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
def ui(paths: list[str]) -> Iterator[tuple[str, int]]:
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
        yield match.group(1), process.pid
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
    with ui([str(state)]) as (base, _), httpx.Client(base_url=base, timeout=30) as client:
        deep = client.get("/api/runs", params={"limit": 500}).json()
        cursor = deep["next"]
        for _ in range(runs // 500 - 2):
            cursor = deep["next"]
            deep = client.get("/api/runs", params={"limit": 500, "cursor": cursor}).json()
        for label, url in (
            ("runs page `/` (50 runs)", "/"),
            ("GET /api/runs (first page of 50)", "/api/runs"),
            # (a history of fewer than 1,000 runs has no page that deep)
            *(
                [("GET /api/runs, last pages (cursor)", f"/api/runs?cursor={cursor}")]
                if cursor
                else []
            ),
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
        with ui([str(state)]) as (base, _):
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


def _cpu(pid: int) -> float:
    """utime + stime of `pid` and of its children it has reaped, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> float:
    """CPU of `root` and every living descendant (each counting its reaped children)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(name))
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += _cpu(pid)
        stack += children.get(pid, [])
    return total


def _browser_root() -> int | None:
    """The Playwright driver (a child of this process): chromium runs below it."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"playwright" in command:
            return int(name)
    return None


@dataclass
class W1Sample:
    wall: float
    engine_cpu: float  # the engine and its tasks (getrusage of reaped children)
    ui_cpu: float  # the psr-engine ui server
    browser_cpu: float  # chromium (the driver's tree)


def bench_w1(
    root: Path, browser, pairs: int, pages: str = "both"
) -> dict[str, tuple[list[W1Sample], list[W1Sample]]]:
    """W1 with a page open vs none, in alternating pairs, for two pages: the runs list (open
    before the run starts; it shows the run appear, then end) and the run's own page (opened
    as soon as the run is listed, while its 1,000 tasks go). Wall time, and the CPU each
    party used: on a shared machine the CPU figures are the steadier ones."""
    folder = root / "w1"
    folder.mkdir()
    (folder / "workflow.yaml").write_text(manifest(1000))
    argv = [sys.executable, "-m", "psr_engine", "apply", "-q"]
    subprocess.run(argv, cwd=folder, env=env(), check=True, capture_output=True)  # warm
    driver = _browser_root()
    results = {}
    with ui([str(folder)]) as (base, server), httpx.Client(base_url=base) as client:

        def sample(body) -> W1Sample:
            ui0, br0 = _cpu(server), _tree_cpu(driver) if driver else 0.0
            kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            begin = time.perf_counter()
            body()
            wall = time.perf_counter() - begin
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            return W1Sample(
                wall=wall,
                engine_cpu=(kids.ru_utime + kids.ru_stime) - (kids0.ru_utime + kids0.ru_stime),
                ui_cpu=_cpu(server) - ui0,
                browser_cpu=(_tree_cpu(driver) - br0) if driver else 0.0,
            )

        def runs_page() -> W1Sample:
            page = browser.new_page()
            page.goto(f"{base}/")
            page.wait_for_timeout(300)  # its event stream is open

            def body() -> None:
                subprocess.run(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL, check=True)

            measured = sample(body)
            page.close()
            return measured

        def run_page(path: str = "/runs/{}") -> W1Sample:
            page = browser.new_page()

            def body() -> None:
                engine = subprocess.Popen(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL)
                run_id = None
                while run_id is None and engine.poll() is None:
                    found = client.get("/api/runs", params={"status": "running", "limit": 1})
                    runs = found.json()["runs"]
                    run_id = runs[0]["runId"] if runs else None
                    if run_id is None:
                        time.sleep(0.05)
                if run_id:
                    page.goto(base + path.format(run_id))
                engine.wait()

            measured = sample(body)
            page.close()
            return measured

        def follow_page() -> W1Sample:
            # What a user keeps open: the workflow's newest run, live, opened (and idle)
            # before the run starts; it swaps in the new run's DAG when the run is listed.
            page = browser.new_page()
            page.goto(f"{base}/workflows/bench/latest")
            page.wait_for_selector("#run[data-run-status]")
            page.wait_for_timeout(1000)  # the previous run drawn, its streams open and idle
            before = page.get_attribute("#run", "data-run")

            def body() -> None:
                subprocess.run(argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL, check=True)

            measured = sample(body)
            # The page followed the run into its end (each node's status, no reload).
            page.wait_for_selector(
                f'#run:not([data-run="{before}"])[data-run-status="succeeded"]', timeout=30_000
            )
            page.close()
            return measured

        def without_page() -> W1Sample:
            return sample(
                lambda: subprocess.run(
                    argv, cwd=folder, env=env(), stdout=subprocess.DEVNULL, check=True
                )
            )

        def empty_page() -> W1Sample:
            return run_page("/login")  # what any page opened while W1 runs costs

        chosen = {
            "runs": ("runs",),
            "run": ("run",),
            "empty": ("empty",),
            "follow": ("follow",),
            "both": ("runs", "run"),
            "all": ("runs", "follow", "run", "empty"),
        }[pages]
        for key, label, with_page in (
            ("runs", "the runs page", runs_page),
            ("follow", "the workflow's live page (/workflows/bench/latest)", follow_page),
            ("run", "the run's page", run_page),
            ("empty", "an empty page (the login form)", empty_page),
        ):
            if key not in chosen:
                continue
            ons: list[W1Sample] = []
            offs: list[W1Sample] = []
            for i in range(pairs):
                order = [(with_page, ons), (without_page, offs)]
                for measure, into in order if i % 2 else order[::-1]:
                    into.append(measure())
            results[label] = (ons, offs)
    return results


def report_w1(label: str, ons: list[W1Sample], offs: list[W1Sample]) -> None:
    median = statistics.median
    ratios = sorted(on.wall / off.wall for on, off in zip(ons, offs, strict=True))
    spread = ", ".join(f"{(r - 1) * 100:+.1f}" for r in ratios)
    engine = median(off.engine_cpu for off in offs)
    added = median(on.ui_cpu + on.browser_cpu for on in ons)
    print(
        f"\nW1 with {label} open: wall {median(o.wall for o in ons):.3f}s vs "
        f"{median(o.wall for o in offs):.3f}s without, {(median(ratios) - 1) * 100:+.1f}% "
        f"(median of {len(ratios)} alternating pairs; each pair: {spread})\n"
        f"  CPU: the engine and its tasks {median(o.engine_cpu for o in ons):.2f}s with the "
        f"page, {engine:.2f}s without; the dashboard's server "
        f"{median(o.ui_cpu for o in ons):.2f}s and the browser "
        f"{median(o.browser_cpu for o in ons):.2f}s: {added / engine * 100:.1f}% of W1's own CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--skip-w1", action="store_true")
    parser.add_argument(
        "--w1-page",
        choices=("both", "runs", "follow", "run", "empty", "all"),
        default="both",
        help="which page W1 is measured beside: the runs page, the workflow's live page "
        "(follow: open before the run starts, it swaps in the run's DAG), the run's own, an "
        "empty one (the login form, opened as the run's would be: what opening any page "
        "costs), both (runs and run, the default) or all",
    )
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
                for label, (ons, offs) in bench_w1(root, browser, args.pairs, args.w1_page).items():
                    report_w1(label, ons, offs)
            browser.close()


if __name__ == "__main__":
    main()
