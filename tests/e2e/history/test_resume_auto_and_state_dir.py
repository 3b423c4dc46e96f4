"""`apply --resume auto` (what CI re-runs pass) and `state-dir` (where CI scripts find the
history), through the real command."""

from __future__ import annotations

from pathlib import Path

TASKS = """
first:
  run: echo x >> first.count
second:
  needs: [first]
  run: test -e fixed
"""


def test_resume_auto_runs_afresh_on_a_first_attempt_then_resumes_a_failure(project) -> None:
    project.manifest("auto", TASKS)
    first = project.psr("apply", "--resume", "auto")
    assert first.code == 1, first.stderr  # the run failed, it did not refuse (exit 2)
    assert "--resume auto: no unfinished run to resume; running afresh" in first.stderr
    (project.root / "fixed").touch()
    second = project.psr("apply", "--resume", "auto")
    assert second.code == 0, second.stderr
    assert "running afresh" not in second.stderr
    assert (project.root / "first.count").read_text() == "x\n"  # first was reused
    third = project.psr("apply", "--resume", "auto")  # the last run succeeded: a plain run
    assert third.code == 0 and "running afresh" in third.stderr
    assert (project.root / "first.count").read_text() == "x\nx\n"


def test_state_dir_prints_the_folder_apply_records_in(project, tmp_path: Path) -> None:
    (project.root / "etl").mkdir()
    (project.root / "etl/workflow.yaml").write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: s}\n"
        "spec:\n  tasks:\n    a: {run: echo hi}\n"
    )
    shown = project.psr("state-dir", "etl/workflow.yaml")
    assert shown.code == 0 and shown.stdout == f"{project.root / 'etl' / '.psr'}\n"
    assert project.psr("apply", "etl/workflow.yaml").code == 0
    assert (Path(shown.stdout.strip()) / "runs.db").is_file()
    project.env["PSR_STATE_DIR"] = str(tmp_path / "kept")
    assert project.psr("state-dir", "etl/workflow.yaml").stdout == f"{tmp_path / 'kept'}\n"
