"""The pages, server-rendered: the hooks scripts rely on, gate findings, the cost summary, the
workflow page's numbers, paging and filters on the runs page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from psr_engine.store import GateRecord, RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w

from .conftest import make_client


def test_the_run_page_carries_the_stable_hooks(client: TestClient) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["runId"]
    html = client.get(f"/runs/{run_id}").text
    assert f'data-run="{run_id}"' in html and 'data-run-status="succeeded"' in html
    nodes = dict(re.findall(r'data-task="([^"]+)" data-status="([^"]+)"', html))
    assert nodes == {
        "extract": "succeeded",
        "transform[region=eu]": "succeeded",
        "transform[region=us]": "succeeded",
        "load": "succeeded",
        "notify": "succeeded",
    }
    assert 'data-group="transform"' in html  # matrix instances grouped
    assert html.index('data-task="extract"') < html.index('data-task="load"')  # by level


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A run with a gate's findings and task costs, and 60 runs of one workflow with retries."""
    state: Path = tmp_path_factory.mktemp("crafted") / ".psr"
    with RunStore.open(str(state)) as store:

        def body(conn) -> None:
            for i in range(60):
                run = RunRecord(
                    id=f"r{i:03d}",
                    workflow="nightly",
                    status="running",
                    started_at=1000.0 + i,
                    host="elsewhere",
                )
                w.begin_run(
                    conn,
                    run,
                    [
                        TaskDigest("fetch", "fetch", "d"),
                        TaskDigest("build", "build", "d", needs=("fetch",), level=1),
                    ],
                )
                for task, duration, attempts in (
                    ("fetch", 2.0, 3 if i % 10 == 0 else 1),
                    ("build", 30.0, 1),
                ):
                    w.task_finished(
                        conn,
                        run.id,
                        task,
                        task_name=task,
                        status="succeeded",
                        reason=None,
                        attempts=attempts,
                        exit_code=0,
                        ts=1000.0 + i + duration,
                        duration=duration,
                        cpu_user=1,
                        cpu_sys=0,
                        max_rss=1,
                        outputs={},
                        matrix={},
                        log_path=None,
                        message=None,
                        cost={"used": 0.25, "reserved": 0.5, "currency": "USD"},
                    )
                w.finish_run(conn, run.id, status="succeeded", reason=None, ended_at=1040.0 + i)
            w.record_gate(
                conn,
                GateRecord(
                    run_id="r059",
                    gate="code",
                    status="blocked",
                    counts={"high": 1},
                    findings=[
                        {
                            "tool": "bandit",
                            "ruleId": "B602",
                            "severity": "high",
                            "file": "etl/load.py",
                            "line": 12,
                            "message": "shell=True",
                        }
                    ],
                ),
            )

        store.write(body)
    return make_client([str(state)])


def test_gate_findings_and_the_cost_show_on_the_run_page(crafted: TestClient) -> None:
    html = crafted.get("/runs/r059").text
    assert "B602" in html and "etl/load.py:12" in html and "shell=True" in html
    assert "0.5000 USD used" in html  # two tasks at 0.25
    runs = crafted.get("/").text
    assert "0.5000 USD" in runs  # the runs list's cost column


def test_the_workflow_page_names_the_slowest_and_most_retried_tasks(crafted: TestClient) -> None:
    html = crafted.get("/workflows/nightly").text
    slowest = html.split("Slowest tasks")[1].split("</table>")[0]
    assert slowest.index("build") < slowest.index("fetch")
    retried = html.split("Most retried tasks")[1].split("</table>")[0]
    assert "<td>fetch</td><td>12</td>" in retried  # 6 runs with 3 attempts: 2 retries each
    assert html.count("<rect") == 60


def test_the_runs_page_pages_by_cursor_and_keeps_its_filters(crafted: TestClient) -> None:
    first = crafted.get("/", params={"workflow": "nightly"}).text
    assert first.count("data-run-id=") == 50
    older = re.search(r'href="(/\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "workflow=nightly" in older
    second = crafted.get(older).text
    assert second.count("data-run-id=") == 10
    assert 'data-run-id="r000"' in second and 'data-run-id="r000"' not in first


def test_the_follow_page_shows_the_workflows_newest_run_or_waits_for_its_first(
    crafted: TestClient,
) -> None:
    html = crafted.get("/workflows/nightly/latest").text
    assert 'data-follow="nightly"' in html
    assert 'data-run="r059"' in html  # the newest of its 60 runs, drawn as its run page does
    assert html.count('id="run"') == 1 and "follow.js" in html
    waiting = crafted.get("/workflows/not-run-yet/latest")
    assert waiting.status_code == 200  # open before the first run: it shows up there
    assert 'id="run-waiting"' in waiting.text and 'data-run="' not in waiting.text


def test_a_run_page_asked_with_its_own_plan_leaves_the_dag_to_the_asking_page(
    client: TestClient,
) -> None:
    older, newer = (r["runId"] for r in reversed(client.get("/api/runs").json()["runs"][:2]))
    plan = re.search(r'data-plan="([0-9a-f]+)"', client.get(f"/runs/{older}").text).group(1)
    kept = client.get(f"/runs/{newer}", params={"plan": plan}).text  # the same workflow
    assert 'data-dag-kept="true"' in kept and "data-task=" not in kept
    assert f'data-plan="{plan}"' in kept and f'data-run="{newer}"' in kept
    drawn = client.get(f"/runs/{newer}", params={"plan": "another"}).text
    assert "data-dag-kept" not in drawn and 'data-task="load"' in drawn


def test_an_unknown_run_or_workflow_page_is_404(crafted: TestClient) -> None:
    assert crafted.get("/runs/nope").status_code == 404
    assert crafted.get("/workflows/nope").status_code == 404


def test_a_run_whose_engine_died_shows_crashed_without_being_written(tmp_path: Path) -> None:
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    state = tmp_path / ".psr"
    with RunStore.open(str(state)) as store:
        run = RunRecord(
            id="gone",
            workflow="w",
            status="running",
            started_at=1.0,
            host=socket.gethostname(),
            pid=dead.pid,
            pid_started=1,
        )
        store.write(lambda conn: w.begin_run(conn, run, [TaskDigest("t", "t", "d")]))
        store.write(
            lambda conn: w.task_started(
                conn, "gone", "t", task_name="t", attempt=1, ts=2.0, log_path=None, matrix=None
            )
        )
    client = make_client([str(state)])
    detail = client.get("/api/runs/gone").json()
    assert (
        detail["run"]["status"] == "crashed"
        and "ended without finishing" in detail["run"]["reason"]
    )
    assert detail["tasks"]["t"]["status"] == "crashed"
    assert client.get("/api/runs").json()["runs"][0]["status"] == "crashed"
    assert 'data-run-status="crashed"' in client.get("/runs/gone").text
    with RunStore.open(str(state), reap=False) as store:
        assert store.get("gone").status == "running"  # the dashboard wrote nothing


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_traced_run_links_to_its_trace_by_its_trace_id(tmp_path: Path) -> None:
    state = tmp_path / ".psr"
    with RunStore.open(str(state)) as store:
        for run_id, trace_id in (("traced", TRACE), ("untraced", None)):
            run = RunRecord(
                id=run_id,
                workflow="demo",
                status="running",
                started_at=1000.0,
                host="elsewhere",
                trace_id=trace_id,
            )
            store.write(lambda conn, run=run: w.begin_run(conn, run, []))
    template = "http://tempo.example/trace/{traceId}?run={runId}&w={workflow}"
    client = make_client([str(state)], trace_url=template)
    html = client.get("/runs/traced").text
    assert f'href="http://tempo.example/trace/{TRACE}?run=traced&amp;w=demo"' in html
    assert client.get("/api/runs/traced").json()["run"]["traceId"] == TRACE
    # A run that was not traced has no trace to link to, template or not.
    assert "open the trace" not in client.get("/runs/untraced").text
    assert client.get("/api/runs/untraced").json()["run"]["traceId"] is None
    assert "open the trace" not in make_client([str(state)]).get("/runs/traced").text


def test_an_untraced_run_shows_no_trace_link(client: TestClient, project: Path) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["runId"]  # applied without tracing
    linked = make_client([str(project)], trace_url="http://jaeger.example/trace/{traceId}")
    assert "open the trace" not in linked.get(f"/runs/{run_id}").text


def test_a_trace_url_without_trace_or_run_id_is_refused_at_start(project: Path) -> None:
    import subprocess
    import sys

    from ui_history import env_for_cli

    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "ui", str(project), "--trace-url", "http://x/"],
        env=env_for_cli(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "{traceId}" in done.stderr
