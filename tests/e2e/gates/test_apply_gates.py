"""`psr-engine apply` with security gates: blocked runs start nothing and exit 3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

ALL_GATES = """
gates:
  - {name: code, type: code, paths: [src], tools: [bandit, semgrep], failOn: high,
     sarif: out/code.sarif}
  - {name: secrets, type: secrets, paths: [config], failOn: low, sarif: out/secrets.sarif}
  - {name: deps, type: dependencies, requirements: [requirements.txt], osvDb: osv,
     failOn: medium, sarif: out/deps.sarif}
"""


def test_planted_problems_block_the_run_before_any_task(planted, sarif_valid) -> None:
    planted.manifest("build: {run: touch built}", extra=ALL_GATES)
    result = planted.cli("apply")
    assert result.code == 3, result.stderr
    assert not (planted.root / "built").exists()
    types = [e["type"] for e in result.events]
    assert "task.started" not in types
    finished = {e["task"]: e for e in result.events if e["type"] == "gate.finished"}
    assert {name: e["status"] for name, e in finished.items()} == {
        "code": "blocked",
        "secrets": "blocked",
        "deps": "blocked",
    }
    # The findings table is printed: each planted problem where it was planted.
    out = result.stdout + result.stderr
    for where in ("src/app.py:5", "config/settings.env:1", "requirements.txt:1"):
        assert where in out, out
    assert "B602" in out and "psr.python.subprocess-shell-injection" in out
    assert "github-token" in out and "PYSEC-2018-28" in out
    assert "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi" not in out
    # One SARIF per gate, valid, one run per tool, relative URIs.
    tools = {}
    for name in ("code", "secrets", "deps"):
        log = sarif_valid(planted.root / "out" / f"{name}.sarif")
        tools[name] = [run["tool"]["driver"]["name"] for run in log["runs"]]
        for run in log["runs"]:
            for res in run["results"]:
                uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                assert not uri.startswith(("/", "file:")), uri
    assert tools == {"code": ["bandit", "semgrep"], "secrets": ["psr-secrets"], "deps": ["osv"]}
    deps_rules = {
        r["ruleId"] for r in sarif_valid(planted.root / "out/deps.sarif")["runs"][0]["results"]
    }
    assert deps_rules == {"PYSEC-2018-28", "PYSEC-2023-74"}


def test_fail_on_never_reports_and_the_run_proceeds(planted) -> None:
    planted.manifest(
        "build: {run: touch built}",
        extra="gates:\n  - {name: secrets, type: secrets, paths: [config], failOn: never}",
    )
    result = planted.cli("apply")
    assert result.code == 0, result.stderr
    assert (planted.root / "built").exists()
    (gate,) = [e for e in result.events if e["type"] == "gate.finished"]
    assert gate["status"] == "passed"
    assert "report only" in result.stdout + result.stderr


def test_a_baseline_written_by_scan_lets_the_run_through(planted) -> None:
    written = planted.cli("scan", "secrets", "config", "--write-baseline", "baseline.json")
    assert written.code == 0, written.stderr
    assert len(json.loads((planted.root / "baseline.json").read_text())) == 1
    planted.manifest(
        "build: {run: touch built}",
        extra="gates:\n"
        "  - {name: secrets, type: secrets, paths: [config], failOn: low,"
        " baseline: baseline.json}",
    )
    result = planted.cli("apply")
    assert result.code == 0, result.stdout + result.stderr
    assert (planted.root / "built").exists()
    assert "1 more accepted by the baseline" in result.stdout + result.stderr


def test_a_gate_that_cannot_scan_blocks_and_says_why(planted) -> None:
    planted.manifest(
        "build: {run: touch built}",
        extra="gates:\n  - {name: deps, type: dependencies, requirements: [requirements.txt]}",
    )
    result = planted.cli("apply")
    assert result.code == 3
    assert not (planted.root / "built").exists()
    assert "no OSV database" in result.stdout + result.stderr


def test_a_gate_task_blocks_its_branch_and_the_run_fails(planted) -> None:
    planted.manifest(
        """
        build: {run: mkdir -p dist && cp config/settings.env dist/}
        check:
          needs: [build]
          gate: {type: secrets, paths: [dist], failOn: low}
        publish: {needs: [check], run: touch published}
        """
    )
    result = planted.cli("apply")
    assert result.code == 1, result.stdout + result.stderr
    finished = result.finished()
    assert finished["build"]["status"] == "succeeded"
    assert finished["check"]["status"] == "failed"
    assert finished["check"]["reason"] == "gate blocked"
    assert finished["publish"]["status"] == "skipped"
    assert finished["publish"]["reason"] == "upstream_failed"
    assert not (planted.root / "published").exists()
    assert "dist/settings.env:1" in result.stdout + result.stderr


def test_the_example_runs_clean_with_three_valid_sarif_reports(tmp_path, ws, sarif_valid) -> None:
    shutil.copytree(ROOT / "manifests" / "examples", tmp_path / "examples")
    example = tmp_path / "examples"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    clean = ws.cli("apply", str(example / "security-gates.yaml"), env=env)
    assert clean.code == 0, clean.stdout + clean.stderr
    assert clean.statuses() == {
        "build": "succeeded",
        "check-dist": "succeeded",
        "publish": "succeeded",
    }
    for name in ("code", "secrets", "deps"):
        sarif_valid(example / ".psr" / "sarif" / f"{name}.sarif")
