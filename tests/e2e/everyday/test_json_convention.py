"""One JSON convention (issue 16, item 6; docs/cli.md "JSON output"): camelCase keys and RFC
3339 times in `plan`, `status`, `runs` and events alike; `plan -o json` carries the cost
projection its table prints. (Before: `manifest_path`, `kill_grace`, `with_` in the plan, Unix
times in `status`, no projection.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

from psr_engine.plan.model import Plan

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ROOT = Path(__file__).resolve().parents[3]
# Mappings whose keys are the user's names, kept as written: data, or records by name.
DATA = {"params", "labels", "env", "outputs", "with", "matrix", "groups", "options"}
BY_NAME = {"tasks", "gates", "counts"}


def record_keys(value, parent: str = ""):
    """Every key of a document's records (not of the user's own mappings)."""
    if isinstance(value, dict):
        if parent in DATA:
            return
        for key, item in value.items():
            if parent in BY_NAME:
                yield from record_keys(item)
            else:
                yield key
                yield from record_keys(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from record_keys(item)


def test_plan_json_is_camel_case_with_the_cost_projection_and_reads_back(ws):
    ws.manifest(
        """
        load_v2:
          run: echo ${{ params.day_of_run }}
          killGrace: 5s
          timeout: 1h
          resources: {cpu: 1, memory: 1Gi}
          env: {MY_VAR: x}
        """,
        extra="""
        params:
          day_of_run: {type: string, default: "2026-11-25"}
        cost:
          rates: {vcpuHour: 0.04, gibHour: 0.005}
        """,
    )
    result = ws.cli("plan", "-o", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    keys = set(record_keys(data))
    assert not {k for k in keys if "_" in k}, keys
    assert {"manifestPath", "criticalPath", "killGrace", "onExit", "costProjection"} <= keys
    assert data["params"] == {"day_of_run": "2026-11-25"}  # names kept as written
    assert data["tasks"][0]["id"] == "load_v2" and data["tasks"][0]["env"] == {"MY_VAR": "x"}
    assert data["costProjection"]["currency"] == "USD" and data["costProjection"]["total"] > 0
    # The JSON reads back into the Plan (a program can load what `plan -o json` prints).
    plan = Plan.from_json(result.stdout)
    assert plan.tasks[0].kill_grace == 5.0 and plan.manifest_path.endswith("workflow.yaml")


def test_status_runs_and_events_give_times_as_rfc3339(ws):
    ws.manifest(
        """
        hello:
          run: echo hello
        """
    )
    result = ws.cli("apply")
    assert result.code == 0, result.stderr
    status = json.loads(ws.cli("status", "last", "-o", "json").stdout)
    assert RFC3339.match(status["run"]["startedAt"]) and RFC3339.match(status["run"]["endedAt"])
    assert RFC3339.match(status["tasks"]["hello"]["startedAt"])
    [row] = json.loads(ws.cli("runs", "-o", "json").stdout)
    assert RFC3339.match(row["startedAt"])
    assert all(RFC3339.match(e["time"]) for e in result.events)
    for document in (status, row, *result.events):
        assert not {k for k in record_keys(document) if "_" in k}
