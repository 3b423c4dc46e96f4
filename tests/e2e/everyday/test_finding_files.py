"""Where state lives (issue 16, item 4): `apply`, `plan` and `validate` find the manifest as the
look-back commands find `.psr/` (here or the nearest parent) and say which they use; and the
look-back commands at a repository's root find a history kept in a sub-folder, as after
`make demo`."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_commands_find_the_manifest_in_a_parent_folder_and_say_which(ws):
    ws.manifest(
        """
        hello:
          run: echo hello
        """
    )
    sub = ws.root / "src" / "deep"
    sub.mkdir(parents=True)
    ws.root = sub  # run the CLI from the sub-folder
    validate = ws.cli("validate")
    assert validate.code == 0, validate.stderr
    assert "../../workflow.yaml: valid (1 task)" in validate.stdout
    plan = ws.cli("plan")
    assert plan.code == 0, plan.stderr
    assert "using ../../workflow.yaml" in plan.stderr
    apply = ws.cli("apply", events=False)
    assert apply.code == 0, apply.stderr
    assert "using ../../workflow.yaml" in apply.stderr
    # The run's history is beside the manifest found, where `runs` looks from here too.
    assert (sub.parent.parent / ".psr" / "runs.db").is_file()
    assert "test-flow" in ws.cli("runs").stdout


def test_a_single_psr_yaml_is_taken_and_several_must_be_named(ws):
    ws.write("etl.psr.yaml", (ROOT / "manifests/examples/secrets.yaml").read_text())
    result = ws.cli("plan")
    assert result.code == 0, result.stderr
    assert "using etl.psr.yaml" in result.stderr
    ws.write("other.psr.yml", (ROOT / "manifests/examples/secrets.yaml").read_text())
    several = ws.cli("plan")
    assert several.code == 2
    assert "several manifests and none named: etl.psr.yaml, other.psr.yml" in several.stderr
    both = ws.cli("validate")
    assert both.code == 0, both.stderr
    assert "etl.psr.yaml: valid" in both.stdout and "other.psr.yml: valid" in both.stdout


def test_no_manifest_anywhere_says_how_to_make_one(ws):
    result = ws.cli("apply")
    assert result.code == 2
    assert "workflow.yaml: no such file here or in any parent folder" in result.stderr
    assert "psr-engine init" in result.stderr


def test_runs_at_the_repository_root_shows_the_demo_run(ws):
    """`make demo` runs manifests/examples/daily-etl.yaml: its history is
    manifests/examples/.psr, below the root where a newcomer types `psr-engine runs`."""
    repo = ws
    examples = repo.root / "manifests" / "examples"
    examples.mkdir(parents=True)
    shutil.copy(ROOT / "manifests/examples/retries-timeouts.yaml", examples / "demo.yaml")
    (repo.root / ".venv" / "x" / ".psr").mkdir(parents=True)  # hidden folders are not searched
    ran = repo.cli("apply", "manifests/examples/demo.yaml", events=False)
    assert ran.code in (0, 1), ran.stderr
    runs = repo.cli("runs")
    assert runs.code == 0
    assert "retries-timeouts" in runs.stdout, runs.stdout + runs.stderr
    assert "history: manifests/examples/.psr (found below this folder" in runs.stderr
    status = repo.cli("status", "last")
    assert status.code == 0 and "retries-timeouts" in status.stdout
