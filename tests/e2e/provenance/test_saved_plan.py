"""Saved plans: `plan -o plan.json` is deterministic and reviewable, `apply plan.json` runs
exactly it, and refuses (exit 2, every difference named) once what it was made from changed."""

from __future__ import annotations

import hashlib
import json

SECRET_VALUE = "s3cr3t-value-never-in-a-plan"

TASKS = """
extract:
  run: "bash scripts/extract.sh ${{ params.region }} > rows.txt"
  secrets: [API_TOKEN]
  cache: {inputs: [data/*.csv], outputs: [rows.txt]}
load:
  needs: extract
  run: "echo loading ${{ run.id }} for ${{ params.region }}"
  timeout: 30s
  retries: 2
"""

EXTRA = """\
params:
  region: {type: string, default: eu}
secrets:
  API_TOKEN: {provider: env, name: PSR_TEST_TOKEN}
"""


def _project(ws) -> None:
    ws.write("scripts/extract.sh", "echo extracted $1\n")
    ws.write("data/orders.csv", "id\n1\n")
    ws.manifest(TASKS, extra=EXTRA)


ENV = {"PSR_TEST_TOKEN": SECRET_VALUE}


def test_a_saved_plan_is_deterministic_and_names_secrets_never_their_values(ws) -> None:
    _project(ws)
    assert ws.cli("plan", "-o", "plan.json", env=ENV).code == 0
    first = (ws.root / "plan.json").read_text()
    assert ws.cli("plan", "-o", "plan.json", env=ENV).code == 0
    assert (ws.root / "plan.json").read_text() == first
    assert SECRET_VALUE not in first
    doc = json.loads(first)
    assert first == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert doc["secrets"] == [{"name": "API_TOKEN", "provider": "env"}]
    extract = doc["tasks"]["extract"]
    assert extract["command"] == "bash scripts/extract.sh eu > rows.txt"
    assert extract["secrets"] == ["API_TOKEN"]
    assert extract["files"] == ["data/orders.csv", "scripts/extract.sh"]
    load = doc["tasks"]["load"]
    # Known before the run: filled in; a task's output: left as written.
    assert load["command"] == "echo loading ${{ run.id }} for eu"
    assert (load["timeout"], load["retries"]["limit"], load["needs"]) == (30.0, 2, ["extract"])
    assert set(doc["files"]) == {"workflow.yaml", "scripts/extract.sh", "data/orders.csv"}
    assert doc["manifest"]["path"] == "workflow.yaml"


def test_apply_runs_the_saved_plan(ws) -> None:
    _project(ws)
    assert ws.cli("plan", "-o", "plan.json", env=ENV).code == 0
    result = ws.cli("apply", "plan.json", env=ENV)
    assert result.code == 0, result.stderr
    assert result.statuses() == {"extract": "succeeded", "load": "succeeded"}
    assert (ws.root / "rows.txt").read_text() == "extracted eu\n"
    # The run names the reviewed plan it applied: in the audit trail and the statement.
    reviewed = {
        "path": str(ws.root / "plan.json"),
        "sha256": hashlib.sha256((ws.root / "plan.json").read_bytes()).hexdigest(),
    }
    entry = json.loads((ws.root / ".psr" / "audit.jsonl").read_text().splitlines()[0])
    assert entry["details"]["savedPlan"] == reviewed
    (statement,) = (ws.root / ".psr" / "runs").glob("*/provenance.intoto.json")
    external = json.loads(statement.read_text())["predicate"]["buildDefinition"]
    assert external["externalParameters"]["savedPlan"] == reviewed


def test_a_plan_whose_script_changed_by_one_byte_is_refused_naming_it(ws) -> None:
    _project(ws)
    assert ws.cli("plan", "-o", "plan.json", env=ENV).code == 0
    script = ws.root / "scripts" / "extract.sh"
    script.write_bytes(script.read_bytes().replace(b"extracted", b"extractee"))
    result = ws.cli("apply", "plan.json", env=ENV)
    assert result.code == 2
    assert "script scripts/extract.sh: changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (ws.root / "rows.txt").exists()  # nothing ran


def test_every_difference_is_listed(ws) -> None:
    _project(ws)
    assert ws.cli("plan", "-o", "plan.json", env=ENV).code == 0
    (ws.root / "workflow.yaml").write_text((ws.root / "workflow.yaml").read_text() + "\n")
    (ws.root / "data" / "orders.csv").unlink()
    doc = json.loads((ws.root / "plan.json").read_text())
    doc["engineVersion"] = "0.0.1"
    (ws.root / "plan.json").write_text(json.dumps(doc))
    result = ws.cli("apply", "plan.json", "-p", "region=us", env=ENV)
    assert result.code == 2
    for expected in (
        "manifest workflow.yaml: changed",
        "input data/orders.csv: missing",
        "engine version: planned with 0.0.1",
        "param region: planned 'eu', given 'us'",
    ):
        assert expected in result.stderr, result.stderr


def test_plan_diff_shows_what_changed_task_by_task(ws) -> None:
    _project(ws)
    assert ws.cli("plan", "-o", "old.json", env=ENV).code == 0
    ws.manifest(TASKS.replace("timeout: 30s", "timeout: 60s"), extra=EXTRA)
    assert ws.cli("plan", "-o", "new.json", env=ENV).code == 0
    result = ws.cli("plan", "--diff", "old.json", "new.json")
    assert result.code == 0
    assert "~ task load\n    timeout: 30.0 -> 60.0" in result.stdout
    assert "task extract" not in result.stdout
    against_now = ws.cli("plan", "--diff", "new.json", env=ENV)
    assert "no changes" in against_now.stdout


def test_a_damaged_saved_plan_is_bad_input(ws) -> None:
    _project(ws)
    (ws.root / "plan.json").write_text('{"format": "psr-engine/saved-plan/v1", "plan": {}}')
    result = ws.cli("apply", "plan.json", env=ENV)
    assert result.code == 2
    assert "damaged saved plan (manifest.path, files, tasks" in result.stderr


def test_plan_diff_against_the_last_run(ws) -> None:
    _project(ws)
    assert ws.cli("apply", "-q", env=ENV).code == 0
    same = ws.cli("plan", "--diff", "last", env=ENV)
    assert same.code == 0 and "no changes since run last" in same.stdout
    script = ws.root / "scripts" / "extract.sh"
    script.write_text(script.read_text() + "# changed\n")
    changed = ws.cli("plan", "--diff", "last", "-p", "region=us", env=ENV)
    assert changed.code == 0
    assert "~ file scripts/extract.sh: sha256" in changed.stdout
    assert 'params: {"region": "eu"} -> {"region": "us"}' in changed.stdout
