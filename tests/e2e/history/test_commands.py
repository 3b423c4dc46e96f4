"""runs, status, logs and prune, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess

TASKS = """
ok:
  run: echo ok-output; echo n=1 >> $PSR_OUTPUT
flaky:
  retries: {limit: 1, delay: 0}
  run: |
    echo "try $PSR_ATTEMPT"
    [ "$PSR_ATTEMPT" = 2 ]
bad:
  needs: [ok]
  run: echo bad-output; exit 5
fan:
  matrix: {n: [1, 2]}
  run: echo fan-${{ matrix.n }}
"""


def test_status_json_has_the_spec_shape_and_event_field_names(project) -> None:
    project.manifest("cmds", TASKS)
    assert project.psr("apply").code == 1
    document = project.psr("status", "last", "--output", "json").json()
    assert set(document) >= {"run", "tasks"}
    run = document["run"]
    assert run["workflow"] == "cmds"
    assert run["status"] == "failed"
    assert run["durationS"] >= 0
    tasks = document["tasks"]
    assert list(tasks) == ["ok", "flaky", "bad", "fan[n=1]", "fan[n=2]"]
    bad = tasks["bad"]
    for key in (
        "status",
        "reason",
        "attempt",
        "exitCode",
        "durationS",
        "cpuUserS",
        "cpuSysS",
        "maxRssBytes",
        "outputs",
    ):
        assert key in bad
    assert (bad["status"], bad["exitCode"], bad["reason"]) == ("failed", 5, "exit code 5")
    assert tasks["ok"]["outputs"] == {"n": "1"}
    assert tasks["flaky"]["attempt"] == 2


def test_runs_lists_filters_and_limits(project) -> None:
    project.manifest("cmds", TASKS)
    project.psr("apply")
    project.psr("apply")
    listing = project.psr("runs")
    assert listing.code == 0
    assert listing.stdout.splitlines()[0].split() == [
        "RUN",
        "WORKFLOW",
        "STATUS",
        "STARTED",
        "DURATION",
        "TASKS",
    ]
    assert len(listing.stdout.splitlines()) == 3
    runs = project.psr("runs", "--output", "json", "--status", "failed", "--limit", "1").json()
    assert len(runs) == 1
    assert runs[0]["tasks"] == {"succeeded": 4, "failed": 1}
    assert project.psr("runs", "-o", "json", "--workflow", "other").json() == []


def test_logs_of_a_task_attempt_and_of_the_whole_run(project) -> None:
    project.manifest("cmds", TASKS)
    project.psr("apply")
    assert project.psr("logs", "last", "flaky").stdout == "try 2\n"
    assert project.psr("logs", "last", "flaky", "--attempt", "1").stdout == "try 1\n"
    whole = project.psr("logs", "last").stdout
    assert "==> bad (attempt 1) <==\nbad-output\n" in whole
    assert "==> fan[n=2] (attempt 1) <==\nfan-2\n" in whole
    group = project.psr("logs", "last", "fan").stdout
    assert "fan-1" in group and "fan-2" in group and "ok-output" not in group
    unknown = project.psr("logs", "last", "bda")
    assert unknown.code == 2
    assert "did you mean 'bad'" in unknown.stderr


def test_prune_keeps_the_newest_and_deletes_log_folders(project) -> None:
    project.manifest("cmds", TASKS)
    for _ in range(3):
        project.psr("apply")
    ids = [r["runId"] for r in project.psr("runs", "-o", "json").json()]
    pruned = project.psr("prune", "--keep", "1")
    assert pruned.code == 0
    assert "removed 2 runs" in pruned.stdout
    assert [r["runId"] for r in project.psr("runs", "-o", "json").json()] == ids[:1]
    assert sorted(os.listdir(project.state / "runs")) == ids[:1]


def test_errors_are_messages_with_exit_code_2(project) -> None:
    empty = project.psr("runs")
    assert (empty.code, "no runs recorded" in empty.stdout) == (0, True)
    missing = project.psr("status", "last")
    assert missing.code == 2
    assert "no run history" in missing.stderr
    assert "Traceback" not in missing.stderr
    project.manifest("cmds", TASKS)
    project.psr("apply")
    unknown = project.psr("status", "nope")
    assert (unknown.code, "no run 'nope'" in unknown.stderr) == (2, True)
    bad_age = project.psr("prune", "--older-than", "soon")
    assert (bad_age.code, "--older-than" in bad_age.stderr) == (2, True)
    no_rule = project.psr("prune")
    assert no_rule.code == 2


def test_commands_find_the_history_from_a_sub_folder_or_state_dir(project) -> None:
    project.manifest("cmds", TASKS)
    project.psr("apply")
    sub = project.root / "scripts"
    sub.mkdir()
    here = subprocess.run(
        project.argv("runs", "-o", "json"),
        cwd=sub,
        env=project.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(here.stdout)) == 1
    elsewhere = project.psr("runs", "-o", "json", "--state-dir", str(project.root / "nowhere"))
    assert elsewhere.json() == []
