"""validate, plan, graph and schema as a user runs them: exit codes, streams, formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "manifests" / "examples").glob("*.yaml"))


def cli(*args: str, cwd: Path | None = None, env: dict | None = None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "psr_engine", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def test_there_are_at_least_five_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates_and_plans(example):
    result = cli("validate", str(example))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and not result.stderr
    plan = cli("plan", str(example), "--output", "json")
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["workflow"] and data["tasks"]


def test_validate_reports_every_problem_with_file_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: Bad_Name}\nspec:\n"
        "  tasks:\n    a: {run: 'true', retires: {limit: 1}}\n    b: {needs: [a], rn: x}\n"
    )
    result = cli("validate", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{bad}:3:" in result.stderr and f"{bad}:6:" in result.stderr
    assert "retries" in result.stderr  # did-you-mean for the typo
    assert "Traceback" not in result.stderr


def test_validate_many_files_json_output(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("just a string\n")
    result = cli("validate", str(EXAMPLES[0]), str(bad), "--output", "json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert [f["valid"] for f in data["files"]] == [True, False]
    assert data["files"][1]["diagnostics"][0]["line"] >= 1


def test_validate_without_a_file_reads_workflow_yaml_and_says_when_missing(tmp_path):
    result = cli("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "workflow.yaml" in result.stderr and "Traceback" not in result.stderr


def test_plan_table_lists_levels_tasks_and_the_critical_path():
    result = cli("plan", str(ROOT / "manifests/examples/daily-etl.yaml"))
    assert result.returncode == 0, result.stderr
    assert "transform[region=eu]" in result.stdout
    assert "critical path" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal


def test_plan_json_round_trips_through_the_plan_model():
    from psr_engine.plan.model import Plan

    result = cli("plan", str(ROOT / "manifests/examples/matrix-fanout.yaml"), "-o", "json")
    plan = Plan.from_json(result.stdout)
    assert Plan.from_json(plan.to_json()) == plan
    assert "train[region=eu,size=large,gpu=true]" in plan.groups["train"]


def test_plan_rejects_a_param_of_the_wrong_type():
    result = cli("plan", str(ROOT / "manifests/examples/daily-etl.yaml"), "-p", "rows=many")
    assert result.returncode == 2 and "rows" in result.stderr


@pytest.mark.parametrize("fmt, marker", [("mermaid", "flowchart TD"), ("dot", "digraph")])
def test_graph_draws_the_dag(fmt, marker):
    result = cli("graph", str(ROOT / "manifests/examples/daily-etl.yaml"), "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(marker)
    assert "extract" in result.stdout and "load" in result.stdout


def test_schema_prints_the_shipped_json_schema():
    result = cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema == json.loads((ROOT / "schemas" / "workflow.v1.json").read_text())


def test_version_and_usage_errors():
    assert cli("--version").stdout.startswith("psr-engine ")
    wrong = cli("frobnicate")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    assert cli().returncode == 2


def test_the_flagship_example_runs_for_real(tmp_path):
    import shutil

    shutil.copytree(ROOT / "manifests" / "examples", tmp_path / "examples")
    result = cli("apply", str(tmp_path / "examples" / "daily-etl.yaml"), "-p", "rows=20")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded" in result.stdout
    import sqlite3

    db = sqlite3.connect(tmp_path / "examples" / ".psr" / "demo" / "warehouse.db")
    assert db.execute("select count(*) from orders").fetchone()[0] == 60
