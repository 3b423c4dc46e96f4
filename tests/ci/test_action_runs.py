"""The composite action's `run:` steps, run with bash in a temp repo with the inputs set the
way the runner sets them (the steps' env: mapping, and INPUT_*)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ci_runner import cli_has

FLOW = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: ci-flow}
spec:
  params:
    who: {type: string, default: world}
    n: {type: integer, default: 1}
  tasks:
    greet:
      run: printf '%s' ${{ params.who }} > greeted.txt && echo count=${{ params.n }} >> "$PSR_OUTPUT"
    after:
      needs: [greet]
      run: test "$(cat greeted.txt)" != fail
"""


def repo_with_flow(github, folder: str = "etl") -> Path:
    where = github.workspace / folder
    where.mkdir(parents=True, exist_ok=True)
    (where / "workflow.yaml").write_text(FLOW)
    return where


def test_run_step_applies_the_workflow_and_sets_outputs(github):
    where = repo_with_flow(github)
    result = github.run(
        {"working-directory": "etl", "install": "false", "python-version": "", "summary": "false"}
    )
    assert result.code == 0, result.step("Run the workflow")["stderr"]
    assert result.step("Set up Python")["ran"] is False  # python-version '' skips it
    assert result.step("Install psr-engine")["ran"] is False
    assert result.step("Security gates")["ran"] is False
    assert result.outputs["status"] == "succeeded"
    assert result.outputs["run-id"] and result.outputs["junit-file"] == ""
    assert (where / "greeted.txt").read_text() == "world"


def test_params_with_shell_metacharacters_reach_the_workflow_verbatim(github, tmp_path):
    """Script injection attempt: the value is data, never code."""
    where = repo_with_flow(github)
    canary = tmp_path / "pwned"
    hostile = f'x"; touch {canary}; echo "$(touch {canary})`touch {canary}`'
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "params": f"who={hostile}\n\n  \nn=2\n",
        }
    )
    assert result.code == 0, result.step("Run the workflow")["stderr"]
    assert (where / "greeted.txt").read_text() == hostile
    assert not canary.exists()


def test_a_failing_workflow_fails_the_step_and_reports_failed(github):
    repo_with_flow(github)
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "params": "who=fail",
        }
    )
    assert result.code == 1
    assert result.outputs["status"] == "failed"
    assert result.outputs["run-id"]


def test_an_invalid_manifest_reports_invalid_without_a_run_id(github):
    where = repo_with_flow(github)
    (where / "workflow.yaml").write_text("apiVersion: psr-engine/v1\nkind: Workflow\n")
    result = github.run(
        {"working-directory": "etl", "install": "false", "python-version": "", "summary": "false"}
    )
    assert result.code == 2
    assert result.outputs == {
        "run-id": "",
        "status": "invalid",
        "sarif-file": "",
        "junit-file": "",
        "provenance-file": "",
    }


def test_junit_and_summary_are_written_and_published(github):
    for flag in ("--junit", "--summary-md"):
        if not cli_has("apply", flag):
            pytest.skip(f"psr-engine apply {flag} is not there yet")
    where = repo_with_flow(github)
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "junit": "reports/junit.xml",
        }
    )
    assert result.code == 0, result.step("Run the workflow")["stderr"]
    assert result.outputs["junit-file"] == "etl/reports/junit.xml"
    assert "<testsuite" in (where / "reports/junit.xml").read_text()
    assert "ci-flow" in result.summary and "greet" in result.summary


def test_summary_falls_back_to_a_line_when_the_run_never_started(github):
    where = repo_with_flow(github)
    (where / "workflow.yaml").write_text("not: a workflow\n")
    result = github.run({"working-directory": "etl", "install": "false", "python-version": ""})
    assert result.code == 2
    assert "exit code 2" in result.summary


def test_a_rerun_restores_the_run_history_and_resumes_with_resume_auto(github):
    """scheduled-etl.yml's setup: `resume: auto`. Attempt 1 finds no history (a plain run, not
    an error) and fails; its history is saved. Attempt 2 starts from a fresh checkout, gets
    the history back from the cache and reruns only what failed."""
    where = repo_with_flow(github)
    base = {
        "working-directory": "etl",
        "install": "false",
        "python-version": "",
        "summary": "false",
        "params": "who=fail",
        "resume": "auto",
    }
    first = github.run(base, run_attempt=1)
    assert first.outputs["status"] == "failed", first.step("Run the workflow")["stderr"]
    assert "no unfinished run to resume" in first.step("Run the workflow")["stderr"]
    assert first.step("Restore the run history")["ran"] == "recorded"
    saved = first.step("Save the run history")
    assert saved["with"]["key"] == "psr-state-4242-etl--1"
    assert saved["with"]["path"] == str(where / ".psr")  # the engine's rule, not a guess
    assert github.cache.saved == ["psr-state-4242-etl--1"]

    shutil.rmtree(where / ".psr")  # a re-run is a fresh checkout: nothing on disk
    (where / "greeted.txt").write_text("fixed")  # what a fix between attempts would do
    second = github.run(base, run_attempt=2)
    assert second.code == 0, second.step("Run the workflow")["stderr"]
    assert second.outputs["status"] == "succeeded"
    assert (where / "greeted.txt").read_text() == "fixed"  # greet succeeded before: not rerun
    assert github.cache.saved[-1] == "psr-state-4242-etl--2"


def test_resume_input_resumes_the_last_run(github):
    if not cli_has("apply", "--resume"):
        pytest.skip("psr-engine apply --resume is not there yet")
    where = repo_with_flow(github)
    base = {
        "working-directory": "etl",
        "install": "false",
        "python-version": "",
        "summary": "false",
    }
    first = github.run({**base, "params": "who=fail"})
    assert first.outputs["status"] == "failed"
    (where / "greeted.txt").write_text("fixed")  # what a fix between attempts would do
    second = github.run({**base, "params": "who=fail", "resume": "last"})
    assert second.code == 0, second.step("Run the workflow")["stderr"]
    assert second.outputs["status"] == "succeeded"
    assert (where / "greeted.txt").read_text() == "fixed"  # greet succeeded before: not rerun


def test_otel_endpoint_is_given_to_the_engine_as_otel_env(github):
    where = repo_with_flow(github)
    (where / "workflow.yaml").write_text(
        FLOW.replace(
            'test "$(cat greeted.txt)" != fail',
            'echo "$OTEL_EXPORTER_OTLP_ENDPOINT $OTEL_SERVICE_NAME" > otel.txt',
        )
    )
    # Nothing listens there: the exporter's failures must not fail the run.
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "otel-endpoint": "http://127.0.0.1:9",
        },
        env={"OTEL_BSP_EXPORT_TIMEOUT": "100", "OTEL_EXPORTER_OTLP_TIMEOUT": "1"},
    )
    assert result.code == 0, result.step("Run the workflow")["stderr"]
    assert (where / "otel.txt").read_text().split() == ["http://127.0.0.1:9", "acme/etl"]


def fake_python(tmp_path: Path) -> Path:
    """A `python` that records `-m pip ...` instead of installing (no network here)."""
    import shutil
    import sys

    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    log = tmp_path / "pip-args.json"
    script = bin_dir / "python"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        f"  exec {shutil.which('python3') or sys.executable} -c "
        "'import json,sys; json.dump(sys.argv[1:], open(sys.argv[1], \"w\"))' "
        f'{log} "$@"\n'
        "fi\n"
        f'exec {sys.executable} "$@"\n'
    )
    script.chmod(0o755)
    return bin_dir


def test_install_step_pins_version_and_extras(github, tmp_path):
    import os

    bin_dir = fake_python(tmp_path)
    repo_with_flow(github)
    result = github.run(
        {
            "working-directory": "etl",
            "python-version": "",
            "summary": "false",
            "version": "1.2.0",
            "extras": "security,otel",
        },
        env={"PATH": f"{bin_dir}:{Path(__import__('sys').executable).parent}:{os.environ['PATH']}"},
    )
    install = result.step("Install psr-engine")
    assert install["code"] == 0, install["stderr"]
    args = json.loads((tmp_path / "pip-args.json").read_text())
    assert args[-1] == "psr-engine[security,otel]==1.2.0"
    assert "install" in args


def test_install_step_installs_the_actions_own_checkout_by_default(github, tmp_path):
    """No PyPI needed for psr-engine: the action's repository is on disk, at the action's ref."""
    import os

    from ci_runner import REPO

    bin_dir = fake_python(tmp_path)
    repo_with_flow(github)
    path = {"PATH": f"{bin_dir}:{Path(__import__('sys').executable).parent}:{os.environ['PATH']}"}
    plain = github.run({"python-version": "", "summary": "false"}, env=path)
    assert plain.step("Install psr-engine")["code"] == 0, plain.step("Install psr-engine")["stderr"]
    args = json.loads((tmp_path / "pip-args.json").read_text())
    assert Path(args[-1]).resolve() == REPO
    github.run({"python-version": "", "summary": "false", "extras": "security"}, env=path)
    args = json.loads((tmp_path / "pip-args.json").read_text())
    assert args[-1] == f"psr-engine[security] @ file://{REPO}"


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        (
            "https://example.com/psr_engine-0.1.0-py3-none-any.whl",
            "psr-engine[otel] @ https://example.com/psr_engine-0.1.0-py3-none-any.whl",
        ),
        ("psr-engine==0.1.0", "psr-engine[otel]==0.1.0"),
        ("psr-engine[security]==0.1.0", "psr-engine[security]==0.1.0"),
    ],
)
def test_install_step_takes_any_pip_requirement_as_package(github, tmp_path, package, expected):
    import os

    bin_dir = fake_python(tmp_path)
    repo_with_flow(github)
    result = github.run(
        {"python-version": "", "summary": "false", "package": package, "extras": "otel"},
        env={"PATH": f"{bin_dir}:{Path(__import__('sys').executable).parent}:{os.environ['PATH']}"},
    )
    assert result.step("Install psr-engine")["code"] == 0
    assert json.loads((tmp_path / "pip-args.json").read_text())[-1] == expected


@pytest.mark.parametrize(
    ("name", "value"), [("extras", "security]; rm -rf /"), ("version", "1.0 || true")]
)
def test_install_step_refuses_malformed_version_or_extras(github, name, value):
    repo_with_flow(github)
    result = github.run({"python-version": "", name: value})
    install = result.step("Install psr-engine")
    assert install["code"] == 2
    assert f"::error::{name}:" in install["stdout"]
    assert result.step("Run the workflow")["ran"] is False  # a failed step stops the job


def test_gates_block_the_run_and_leave_sarif_for_upload(github):
    if not cli_has("scan", "--sarif"):
        pytest.skip("psr-engine scan --sarif is not there yet")
    where = repo_with_flow(github)
    # A planted secret: the secrets scan finds it (no network, no extra tools needed).
    (where / "settings.py").write_text('AWS_SECRET = "AKIA' + "Q3EGRJZ4FGHK2DXM" + '"\n')
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "gates": "secrets",
            "fail-on": "low",
            "upload-sarif": "true",
        }
    )
    gates = result.step("Security gates")
    assert gates["code"] == 3, gates["stdout"] + gates["stderr"]
    assert result.step("Run the workflow")["ran"] is False
    assert not (where / "greeted.txt").exists()
    assert result.outputs["sarif-file"] == "etl/psr-sarif"
    sarif = json.loads((where / "psr-sarif/secrets.sarif").read_text())
    (finding,) = sarif["runs"][0]["results"]
    # A repository path, which is how code scanning (upload-sarif) places a result.
    location = finding["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "etl/settings.py"
    base = sarif["runs"][0]["originalUriBaseIds"][location["uriBaseId"]]["uri"]
    assert base == github.workspace.resolve().as_uri() + "/"
    upload = result.step("Upload SARIF to code scanning")
    assert upload["ran"] == "recorded" and upload["with"]["sarif_file"] == "etl/psr-sarif"


def test_unknown_gate_name_is_refused(github):
    repo_with_flow(github)
    result = github.run(
        {"working-directory": "etl", "install": "false", "python-version": "", "gates": "codee"}
    )
    assert result.step("Security gates")["code"] == 2
    assert "unknown scan 'codee'" in result.step("Security gates")["stdout"]


OSV = Path(__file__).resolve().parents[1] / "data" / "osv-pypi" / "vulns"


def test_deps_gate_scans_offline_with_an_osv_db_and_caches_its_index(github):
    where = repo_with_flow(github)
    (where / "requirements.txt").write_text("requests==2.19.0\n")  # PYSEC-2018-28, -2023-74
    shutil.copytree(OSV / "requests", github.workspace / "osv" / "requests")
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "gates": "deps",
            "fail-on": "medium",
            "osv-db": "osv",
            "deps-online": "false",
        },
        env={"XDG_CACHE_HOME": str(github.workspace.parent / "xdg")},
    )
    gates = result.step("Security gates")
    assert gates["code"] == 3, gates["stdout"] + gates["stderr"]
    assert "requests" in gates["stdout"]
    cache = result.step("Cache the OSV index")
    assert cache["ran"] == "recorded" and cache["with"]["path"] == "~/.cache/psr-engine"
    sarif = json.loads((where / "psr-sarif/deps.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {"etl/requirements.txt"}


def test_deps_gate_without_a_database_or_the_api_says_what_to_set(github):
    repo_with_flow(github)
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "gates": "deps",
            "deps-online": "false",
        }
    )
    gates = result.step("Security gates")
    assert gates["code"] == 2
    assert "::error::deps: no advisories to scan against: set osv-db" in gates["stdout"]
    assert result.step("Cache the OSV index")["ran"] is False


def test_the_runs_provenance_and_audit_trail_are_uploaded_as_an_artifact(github, tmp_path):
    where = repo_with_flow(github)
    from psr_engine.provenance.signing import generate_key

    private_pem, _ = generate_key()
    key = tmp_path / "signing.pem"
    key.write_bytes(private_pem)
    result = github.run(
        {
            "working-directory": "etl",
            "install": "false",
            "python-version": "",
            "summary": "false",
            "sign-key": str(key),
        }
    )
    assert result.code == 0, result.step("Run the workflow")["stderr"]
    provenance = Path(result.outputs["provenance-file"])
    assert (
        provenance == where / ".psr" / "runs" / result.outputs["run-id"] / "provenance.intoto.json"
    )
    assert "payload" in json.loads(provenance.read_text())  # signed: a DSSE envelope
    upload = result.step("Upload the run's provenance")
    assert upload["ran"] == "recorded"
    assert upload["with"]["path"].split() == [str(provenance), str(where / ".psr" / "audit.jsonl")]
