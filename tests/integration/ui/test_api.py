"""The dashboard's REST API over histories written by real runs: the field names of `status
--output json`, filters and keyset paging, logs by range and tail, events, discovery."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from ui_history import apply, env_for_cli, start_apply, ui_server, wait_for, write_project

from psr_engine.store import RunRecord, RunStore, TaskDigest
from psr_engine.store import writes as w

from .conftest import make_client


def _status_json(project: Path, run_id: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "psr_engine", "status", run_id, "--output", "json"],
        cwd=project,
        env=env_for_cli(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_run_reads_as_status_output_json_does(client: TestClient, project: Path) -> None:
    runs = client.get("/api/runs").json()["runs"]
    assert len(runs) == 2 and runs[0]["startedAt"] >= runs[1]["startedAt"]
    run_id = runs[0]["runId"]
    detail = client.get(f"/api/runs/{run_id}").json()
    expected = _status_json(project, run_id)

    # The same fields, the same values: times as RFC 3339 text (docs/cli.md, "JSON output").
    assert runs[0] == expected["run"]
    assert detail["run"] == expected["run"]
    assert detail["tasks"] == expected["tasks"]
    assert detail["run"]["startedAt"].endswith("Z")
    assert detail["tasks"]["load"]["needs"] == ["transform[region=eu]", "transform[region=us]"]
    assert detail["tasks"]["load"]["level"] == 2
    assert detail["tasks"]["notify"]["onExit"] is True
    assert detail["criticalPath"][0] == "extract" and detail["criticalPath"][-1] == "load"
    assert {a["task"] for a in detail["attempts"]} == set(expected["tasks"])
    assert all(a["startedAt"].endswith("Z") for a in detail["attempts"])


def test_the_event_streams_write_times_as_the_api_does(client: TestClient) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["runId"]
    detail = client.get(f"/api/runs/{run_id}").json()
    events = dict(_sse(client.get(f"/api/runs/{run_id}/events").text))
    assert events["run"] == detail["run"]
    by_task = {t["task"]: t for t in events["tasks"]}  # type: ignore[attr-defined]
    for name, task in detail["tasks"].items():
        attempts = [a for a in detail["attempts"] if a["task"] == name]
        assert by_task[name] == {**task, "attempts": attempts}


def test_an_unknown_run_is_404_with_a_message(client: TestClient) -> None:
    response = client.get("/api/runs/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["error"]


def test_workflows_list_each_workflow_with_its_last_status(client: TestClient) -> None:
    [demo] = client.get("/api/workflows").json()["workflows"]
    assert (demo["workflow"], demo["runs"], demo["lastStatus"]) == ("demo", 2, "succeeded")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """120 runs of three workflows written through the store, with labels and statuses."""
    state = tmp_path_factory.mktemp("many") / ".psr"
    with RunStore.open(str(state)) as store:

        def body(conn) -> None:
            for i in range(120):
                run = RunRecord(
                    id=f"run-{i:04d}",
                    workflow=("alpha", "beta", "gamma")[i % 3],
                    status="running",
                    started_at=1_000_000.0 + (i // 2),  # pairs share a start: ties by id
                    labels={"team": "red" if i % 4 == 0 else "blue"},
                    host="elsewhere",
                )
                w.begin_run(conn, run, [TaskDigest("t", "t", "d")])
                w.finish_run(
                    conn,
                    run.id,
                    status="failed" if i % 5 == 0 else "succeeded",
                    reason="boom" if i % 5 == 0 else None,
                    ended_at=run.started_at + i,
                )

        store.write(body)
    return make_client([str(state)])


def test_keyset_pages_cover_every_run_once_newest_first(many: TestClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 17, **({"cursor": cursor} if cursor else {})}
        page = many.get("/api/runs", params=params).json()
        seen += [r["runId"] for r in page["runs"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"run-{i:04d}" for i in reversed(range(120))]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"workflow": "beta"}, {f"run-{i:04d}" for i in range(120) if i % 3 == 1}),
        ({"status": "failed"}, {f"run-{i:04d}" for i in range(120) if i % 5 == 0}),
        ({"label": "team=red"}, {f"run-{i:04d}" for i in range(120) if i % 4 == 0}),
        ({"q": "run-011"}, {f"run-{i:04d}" for i in range(110, 120)}),
        ({"q": "boom", "workflow": "alpha"}, {f"run-{i:04d}" for i in range(120) if i % 15 == 0}),
    ],
)
def test_filters_select_runs(many: TestClient, params: dict, expected: set[str]) -> None:
    found = many.get("/api/runs", params={**params, "limit": 500}).json()["runs"]
    assert {r["runId"] for r in found} == expected


@pytest.mark.parametrize(
    "params",
    [{"cursor": "garbage!"}, {"limit": "0"}, {"limit": "x"}, {"status": "weird"}, {"label": "x"}],
)
def test_malformed_filters_are_400_saying_what_is_wrong(many: TestClient, params: dict) -> None:
    response = many.get("/api/runs", params=params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_log_by_tail_and_by_byte_range(client: TestClient) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["runId"]
    url = f"/api/runs/{run_id}/tasks/extract/logs"

    whole = client.get(url)
    assert whole.status_code == 200 and whole.text == "extracting\n"
    assert whole.headers["x-log-size"] == "11"
    assert client.get(url, params={"tail": 1}).text == "extracting\n"

    part = client.get(url, headers={"Range": "bytes=2-5"})
    assert (part.status_code, part.text, part.headers["content-range"]) == (
        206,
        "trac",
        "bytes 2-5/11",
    )
    assert client.get(url, headers={"Range": "bytes=-3"}).text == "ng\n"
    assert client.get(url, headers={"Range": "bytes=11-"}).text == ""
    assert client.get(url, headers={"Range": "bytes=99-"}).status_code == 416
    assert client.get(f"/api/runs/{run_id}/tasks/transform%5Bregion%3Deu%5D/logs").text == (
        "transform eu\n"
    )


def _sse(text: str) -> list[tuple[str, object]]:
    """(event, data) of each message of an event stream."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_events_of_an_ended_run_give_its_state_then_end(client: TestClient) -> None:
    run_id = client.get("/api/runs").json()["runs"][0]["runId"]
    text = client.get(f"/api/runs/{run_id}/events").text
    events = _sse(text)
    assert [kind for kind, _ in events] == ["tasks", "critical", "run"]  # the tasks together
    batch = events[0][1]
    assert isinstance(batch, list) and len(batch) == 5
    assert all("status" in t and "attempts" in t for t in batch)  # whole, the first time

    ids = [float(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    newest_task = max(ids[:-1])
    again = client.get(
        f"/api/runs/{run_id}/events", headers={"Last-Event-ID": repr(newest_task)}
    ).text
    resumed = [data for kind, data in _sse(again) if kind == "tasks"]
    # only what changed at or after the last id the browser had
    assert len(resumed) == 1 and 0 < len(resumed[0]) < 5  # type: ignore[arg-type]


def test_a_monorepo_root_serves_every_history_below_it(tmp_path: Path) -> None:
    for name in ("svc-a", "svc-b"):
        apply(
            write_project(
                tmp_path / name,
                f"""
            apiVersion: psr-engine/v1
            kind: Workflow
            metadata: {{name: {name}}}
            spec:
              tasks:
                only: {{run: echo {name}}}
            """,
            )
        )
    client = make_client([str(tmp_path)])
    names = {w["workflow"] for w in client.get("/api/workflows").json()["workflows"]}
    assert names == {"svc-a", "svc-b"}
    assert len(client.get("/api/runs").json()["runs"]) == 2


def test_a_real_server_streams_a_running_task_to_succeeded(tmp_path: Path) -> None:
    manifest = write_project(
        tmp_path / "live",
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: live}
        spec:
          tasks:
            first: {run: echo hi}
            slow: {needs: [first], run: "echo begin; sleep 1.5; echo end"}
        """,
    )
    apply(manifest)  # a history exists before the server starts
    with ui_server([str(tmp_path / "live")]) as server:
        engine = start_apply(manifest)
        try:

            def running_run() -> str | None:
                runs = httpx.get(f"{server.url}/api/runs", params={"status": "running"}).json()[
                    "runs"
                ]
                return runs[0]["runId"] if runs else None

            run_id = wait_for(running_run)
            seen: list[tuple[str, str]] = []
            with httpx.stream(
                "GET", f"{server.url}/api/runs/{run_id}/events", timeout=30
            ) as stream:
                kind = None
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "run":
                        seen.append(("run", json.loads(line[6:])["status"]))
                    elif line.startswith("data: ") and kind == "tasks":
                        for change in json.loads(line[6:]):
                            if "status" in change:  # only what changed since last sent
                                seen.append((change["task"], change["status"]))
            assert ("slow", "running") in seen
            assert seen.index(("slow", "running")) < seen.index(("slow", "succeeded"))
            assert seen[-1] == ("run", "succeeded") or ("run", "succeeded") in seen
        finally:
            engine.wait(timeout=60)
        assert engine.returncode == 0
    assert server.process.returncode == 0  # Ctrl-C stops it cleanly


def test_an_older_history_is_upgraded_once_then_read(tmp_path: Path) -> None:
    import sqlite3

    state = tmp_path / ".psr"
    state.mkdir()
    fixture = Path(__file__).parents[2] / "unit" / "store" / "data" / "schema-v1.sql"
    conn = sqlite3.connect(state / "runs.db")
    conn.executescript(fixture.read_text())
    conn.close()
    client = make_client([str(state)])
    assert client.get("/api/runs").status_code == 200
    time.sleep(0)
