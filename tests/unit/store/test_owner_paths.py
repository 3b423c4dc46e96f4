"""Where the history lives, and who owns a run."""

from __future__ import annotations

from pathlib import Path

from psr_engine.store import find_state_dir, state_dir_for_manifest
from psr_engine.store.owner import ci_job_url, current_owner, owner_alive


def test_state_dir_explicit_then_env_then_nearest_project(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    sub = project / "scripts" / "deep"
    sub.mkdir(parents=True)
    (project / "workflow.yaml").write_text("x")
    assert find_state_dir("/x/y", cwd=str(sub), environ={"PSR_STATE_DIR": "/e"}) == "/x/y"
    assert find_state_dir(None, cwd=str(sub), environ={"PSR_STATE_DIR": "/e"}) == "/e"
    assert find_state_dir(None, cwd=str(sub), environ={}) == str(project / ".psr")
    (sub / ".psr").mkdir()
    (sub / ".psr" / "runs.db").write_text("")
    assert find_state_dir(None, cwd=str(sub), environ={}) == str(sub / ".psr")
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    assert find_state_dir(None, cwd=str(lonely), environ={}) == str(lonely / ".psr")


def test_state_dir_of_a_run_is_beside_its_manifest_unless_overridden(tmp_path: Path) -> None:
    manifest = str(tmp_path / "workflow.yaml")
    assert state_dir_for_manifest(manifest, environ={}) == str(tmp_path / ".psr")
    assert state_dir_for_manifest(manifest, environ={"PSR_STATE_DIR": "/s"}) == "/s"


def test_ci_job_url_from_github_actions_or_gitlab() -> None:
    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/etl",
        "GITHUB_RUN_ID": "42",
        "CI_JOB_URL": "https://gitlab.example/jobs/1",
    }
    assert ci_job_url(github) == "https://github.com/acme/etl/actions/runs/42"
    assert ci_job_url({"CI_JOB_URL": "https://gitlab.example/jobs/1"}) == (
        "https://gitlab.example/jobs/1"
    )
    assert ci_job_url({}) is None


def test_this_process_is_its_own_living_owner() -> None:
    me = current_owner()
    assert me.started is not None
    assert owner_alive(me.pid, me.started)
    assert not owner_alive(me.pid, me.started + 1)
    assert not owner_alive(None, None)
