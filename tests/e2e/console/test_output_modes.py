"""Task output on the console off a terminal (pipes, CI logs): each --output-mode, the CI
groups, the tail of a failed attempt, masking in every mode, the heartbeat, the summary's
width. The terminal's side is in test_terminal.py."""

from __future__ import annotations

import re

import pytest

SECRET = "s3cr3t-Value/with+chars=="

_TASKS = """
ok:
  run: |
    echo "ok says hello"
    echo "ok to stderr" >&2
bad:
  run: |
    for i in $(seq 1 30); do echo "bad line $i"; done
    exit 4
"""


def _tail_under_failure(stdout: str, task: str) -> list[str]:
    """The `│ ` lines under the task's failure line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"✗ {task} failed"))
    tail = []
    for line in lines[start + 1 :]:
        if line.startswith("    │ "):
            tail.append(line.removeprefix("    │ "))
        elif not line.startswith("    "):
            break
    return tail


def test_off_a_terminal_each_attempt_prints_as_a_prefixed_block_and_failures_show_their_tail(ws):
    ws.manifest(_TASKS)
    result = ws.cli("apply")
    assert result.code == 1, result.stdout + result.stderr
    out = result.stdout
    # grouped by default: the attempt's lines together, before the task's line.
    assert "[ok] ok says hello\n[ok] ok to stderr\n✓ ok succeeded" in out
    block = [line for line in out.splitlines() if line.startswith("[bad] ")]
    assert block == [f"[bad] bad line {i}" for i in range(1, 31)]
    assert _tail_under_failure(out, "bad") == [f"bad line {i}" for i in range(11, 31)]


def test_failed_mode_prints_only_failed_attempts(ws):
    ws.manifest(_TASKS)
    out = ws.cli("apply", "--output-mode", "failed").stdout
    assert "ok says hello" not in out
    assert "[bad] bad line 1\n" in out
    assert _tail_under_failure(out, "bad")[-1] == "bad line 30"


@pytest.mark.parametrize("flags", [["--output-mode", "none"], ["--quiet"]])
def test_none_and_quiet_print_no_task_output(ws, flags):
    ws.manifest(_TASKS)
    result = ws.cli("apply", *flags)
    assert result.code == 1
    assert "ok says hello" not in result.stdout and "bad line" not in result.stdout
    assert "bad failed" in result.stdout


def test_live_mode_off_a_terminal_prints_lines_as_they_come(ws):
    ws.manifest(_TASKS)
    out = ws.cli("apply", "--output-mode", "live").stdout
    assert "[ok] ok says hello\n" in out
    assert "[bad] bad line 30\n" in out
    assert _tail_under_failure(out, "bad")[0] == "bad line 11"


def test_github_actions_folds_each_attempt_in_a_group(ws):
    ws.manifest(_TASKS)
    out = ws.cli("apply", env={"GITHUB_ACTIONS": "true"}).stdout
    assert "::group::ok\nok says hello\nok to stderr\n::endgroup::\n✓ ok succeeded" in out
    assert "::group::bad\nbad line 1\n" in out
    # The tail stays outside the fold, under the failure line, visible without a click.
    assert _tail_under_failure(out, "bad")[-1] == "bad line 30"


def test_gitlab_ci_folds_each_attempt_in_a_collapsed_section(ws):
    ws.manifest(_TASKS)
    out = ws.cli("apply", env={"GITLAB_CI": "true"}).stdout
    # (captured as text, the \r of each marker reads as a line end)
    found = re.search(
        r"section_start:(\d+):(psr_\d+_ok)\[collapsed=true\]\n\x1b\[0Kok\n"
        r"ok says hello\nok to stderr\n"
        r"section_end:(\d+):(psr_\d+_ok)\n\x1b\[0K\n",
        out,
    )
    assert found is not None, out
    assert found[2] == found[4] and int(found[3]) >= int(found[1])


def test_a_retried_attempt_prints_its_block_and_tail_under_its_retry_line(ws):
    ws.manifest(
        """
        flaky:
          retries: {limit: 1, delay: 0s}
          run: |
            echo "attempt $PSR_ATTEMPT"
            test "$PSR_ATTEMPT" = 2
        """
    )
    out = ws.cli("apply").stdout
    assert "[flaky] attempt 1\n↻ flaky attempt 1 exit code 1; retrying in 0ms\n" in out
    assert "    │ attempt 1\n" in out
    assert "[flaky] attempt 2\n✓ flaky succeeded" in out


@pytest.mark.parametrize("mode", ["live", "grouped", "failed", "none"])
def test_a_secret_a_task_prints_is_masked_on_the_console_in_every_mode(ws, mode):
    ws.manifest(
        """
        leak:
          env: {TOKEN: "${{ secrets.API_TOKEN }}"}
          run: |
            echo "the token is $TOKEN"
            exit 1
        """,
        extra="""
        secrets:
          API_TOKEN: {provider: env, name: DEMO_TOKEN}
        """,
    )
    result = ws.cli("apply", "--output-mode", mode, env={"DEMO_TOKEN": SECRET})
    assert result.code == 1
    assert SECRET not in result.stdout + result.stderr
    if mode != "none":
        assert "the token is ***" in result.stdout  # shown, masked (in the tail at least)


def test_a_heartbeat_line_names_what_runs_during_a_long_silence(ws):
    ws.manifest(
        """
        quiet-one: {run: "sleep 1.6"}
        quiet-two: {run: "sleep 1.6"}
        """
    )
    out = ws.cli("apply", env={"PSR_HEARTBEAT_S": "0.5"}).stdout
    beats = [line for line in out.splitlines() if line.startswith("… ")]
    assert beats, out
    assert re.fullmatch(
        r"… 2 running: quiet-(one|two) [\d.]+m?s, quiet-(one|two) [\d.]+m?s", beats[0]
    )
    assert len(beats) >= 2  # each silence of 0.5 s, not once


def test_no_heartbeat_while_the_log_is_busy_or_nothing_runs(ws):
    ws.manifest("""fast: {run: "echo hi"}""")
    out = ws.cli("apply", env={"PSR_HEARTBEAT_S": "0.5"}).stdout
    assert "… " not in out


def test_off_a_terminal_the_summary_table_is_not_cut_at_80_columns(ws):
    ws.manifest(
        """
        train:
          matrix:
            region: [europe-west-and-north]
            size: [extra-large-instance]
            gpu: [nvidia-a100-80gb-sxm]
          run: "true"
        """
    )
    out = ws.cli("apply", env={"COLUMNS": ""}).stdout
    name = "train[region=europe-west-and-north,size=extra-large-instance,gpu=nvidia-a100-80gb-sxm]"
    row = next(line for line in out.splitlines() if line.startswith(name + " "))
    assert "succeeded" in row and "…" not in row


def test_run_script_takes_the_same_output_modes(ws):
    ws.write("job.py", 'import sys\nprint("job got", *sys.argv[1:])\n')
    live = ws.cli("run", "job.py", "--output-mode", "live", "--", "a", "b")
    assert live.code == 0, live.stdout + live.stderr
    assert "[job] job got a b\n" in live.stdout
    assert "job got" not in ws.cli("run", "job.py", "--quiet").stdout
