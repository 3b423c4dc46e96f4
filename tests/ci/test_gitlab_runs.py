"""Jobs that extend the GitLab hidden jobs (and the component's job), run by executing their
before_script and script lines with bash in a temp project, the job's variables in the env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ci_runner import (
    COMPONENT,
    GITLAB,
    cli_has,
    interpolate_component,
    load_yaml,
    resolve_extends,
    run_gitlab_job,
    sample_flow,
)

FLOW = sample_flow("gl-flow")


def project(tmp_path: Path, jobs: str) -> tuple[Path, dict]:
    """A project whose .gitlab-ci.yml includes the hidden jobs (include: local, as a copy)."""
    root = tmp_path / "project"
    (root / "etl").mkdir(parents=True)
    (root / "etl/workflow.yaml").write_text(FLOW)
    (root / "ci").mkdir()
    (root / "ci/psr-engine.gitlab-ci.yml").write_text(GITLAB.read_text())
    (root / ".gitlab-ci.yml").write_text(
        "include:\n  - local: ci/psr-engine.gitlab-ci.yml\n" + jobs
    )
    included = load_yaml(root / "ci/psr-engine.gitlab-ci.yml")
    return root, {**included, **load_yaml(root / ".gitlab-ci.yml")}


def needs_flags(*flags: str) -> None:
    for flag in flags:
        if not cli_has("apply", flag):
            pytest.skip(f"psr-engine apply {flag} is not there yet")


JOB = """\
etl:
  extends: .psr_script_runner
  variables:
    PSR_INSTALL: "false"
    PSR_WORKDIR: etl
    PSR_PARAMS: |
      who=gitlab's "runner" $(id)
"""


def test_a_job_extending_psr_script_runner_runs_and_publishes_reports(tmp_path):
    needs_flags("--junit", "--summary-md")
    root, config = project(tmp_path, JOB)
    job = resolve_extends(config, "etl")
    assert job["artifacts"]["reports"]["junit"] == "psr-report/junit.xml"
    assert job["artifacts"]["when"] == "always"
    result = run_gitlab_job(job, root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "etl/greeted.txt").read_text() == 'gitlab\'s "runner" $(id)'
    report = root / "psr-report"
    assert "<testsuite" in (report / "junit.xml").read_text()
    assert "gl-flow" in (report / "summary.md").read_text()
    events = [json.loads(line) for line in (report / "events.jsonl").read_text().splitlines()]
    assert events[-1]["type"] == "run.finished" and events[-1]["status"] == "succeeded"
    assert list((report / "logs").glob("*/greet.1.log"))
    # The artifact carries the run's provenance and the audit trail.
    (statement,) = (report / "logs").glob("*/provenance.intoto.json")
    assert json.loads(statement.read_text())["_type"] == "https://in-toto.io/Statement/v1"
    assert '"action": "apply"' in (report / "audit.jsonl").read_text()


def test_a_failing_workflow_fails_the_job_and_still_leaves_its_reports(tmp_path):
    needs_flags("--junit", "--summary-md")
    root, config = project(tmp_path, JOB.replace('who=gitlab\'s "runner" $(id)', "who=fail"))
    result = run_gitlab_job(resolve_extends(config, "etl"), root)
    assert result.returncode == 1
    assert "failure" in (root / "psr-report/junit.xml").read_text()
    assert list((root / "psr-report/logs").glob("*/check.1.log"))


def test_quick_check_validates_and_plans_without_running(tmp_path):
    root, config = project(
        tmp_path,
        "check:\n  extends: .psr_quick_check\n  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl}\n",
    )
    job = resolve_extends(config, "check")
    assert job["interruptible"] is True
    result = run_gitlab_job(job, root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid (2 tasks)" in result.stdout and "greet" in result.stdout
    assert not (root / "etl/greeted.txt").exists()


def test_quick_check_fails_on_an_invalid_workflow(tmp_path):
    root, config = project(
        tmp_path,
        "check:\n  extends: .psr_quick_check\n  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl}\n",
    )
    (root / "etl/workflow.yaml").write_text(FLOW.replace("needs: [greet]", "needs: [gret]"))
    result = run_gitlab_job(resolve_extends(config, "check"), root)
    assert result.returncode == 2
    assert "gret" in result.stderr


def test_benchmark_writes_openmetrics_for_each_run(tmp_path):
    root, config = project(
        tmp_path,
        "bench:\n  extends: .psr_benchmark\n"
        "  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl, PSR_BENCH_RUNS: '2'}\n",
    )
    job = resolve_extends(config, "bench")
    assert job["artifacts"]["reports"]["metrics"] == "psr-report/metrics.txt"
    result = run_gitlab_job(job, root)
    assert result.returncode == 0, result.stdout + result.stderr
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    # A strict OpenMetrics parser accepts the file (# TYPE, # UNIT, escaping, # EOF).
    text = (root / "psr-report/metrics.txt").read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    runs = families["psr_run_duration_seconds"]
    assert runs.type == "gauge" and runs.unit == "seconds"
    assert [s.labels["run"] for s in runs.samples] == ["1", "2"]
    assert all(s.value > 0 and s.labels["workflow"] == "gl-flow" for s in runs.samples)
    tasks = {
        (s.labels["run"], s.labels["task"]) for s in families["psr_task_duration_seconds"].samples
    }
    assert tasks == {("1", "greet"), ("1", "check"), ("2", "greet"), ("2", "check")}


def test_secure_job_blocks_and_converts_findings_to_gitlab_reports(tmp_path):
    if not cli_has("scan", "--sarif"):
        pytest.skip("psr-engine scan --sarif is not there yet")
    root, config = project(
        tmp_path,
        "secure:\n  extends: .psr_script_runner_secure\n"
        # secrets only: the code scan (bandit + semgrep) is covered by the gates' own tests
        "  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl, PSR_GATES: secrets, PSR_FAIL_ON: low}\n",
    )
    (root / "etl/settings.py").write_text('AWS_SECRET = "AKIA' + "Q3EGRJZ4FGHK2DXM" + '"\n')
    job = resolve_extends(config, "secure")
    reports = job["artifacts"]["reports"]
    assert reports["sast"] == "psr-report/gl-sast-report.json"
    assert reports["codequality"] == "psr-report/gl-code-quality-report.json"
    result = run_gitlab_job(job, root)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the workflow was not run" in result.stdout
    assert not (root / "etl/greeted.txt").exists()
    quality = json.loads((root / "psr-report/gl-code-quality-report.json").read_text())
    sast = json.loads((root / "psr-report/gl-sast-report.json").read_text())
    # Paths from the repository root (the scan ran on PSR_WORKDIR=etl), critical kept critical.
    (issue,) = quality
    assert issue["location"] == {"path": "etl/settings.py", "lines": {"begin": 1}}
    assert issue["severity"] == "blocker"
    assert sast["scan"]["type"] == "sast"
    (vulnerability,) = sast["vulnerabilities"]
    assert vulnerability["location"]["file"] == "etl/settings.py"
    assert vulnerability["severity"] == "Critical"


def test_with_deps_job_writes_an_sbom(tmp_path):
    root, config = project(
        tmp_path,
        "deps:\n  extends: .psr_script_runner_with_deps\n"
        # the OSV scan needs an advisory database; the SBOM alone is what this test pins
        "  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl, PSR_GATES: ''}\n",
    )
    (root / "etl/requirements.txt").write_text("requests==2.31.0\n")
    job = resolve_extends(config, "deps")
    assert job["artifacts"]["reports"]["cyclonedx"] == "psr-report/sbom.cdx.json"
    needs_flags("--junit", "--summary-md")
    result = run_gitlab_job(job, root)
    assert result.returncode == 0, result.stdout + result.stderr
    sbom = json.loads((root / "psr-report/sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    assert any(c["name"] == "requests" for c in sbom.get("components", []))


def test_long_job_resumes_when_a_retried_attempt_finds_the_state(tmp_path):
    needs_flags("--junit", "--summary-md", "--resume")
    root, config = project(
        tmp_path,
        "long:\n  extends: .psr_long_job\n"
        "  variables: {PSR_INSTALL: 'false', PSR_WORKDIR: etl, PSR_PARAMS: who=fail}\n",
    )
    job = resolve_extends(config, "long")
    assert job["variables"]["PSR_RESUME"] == "auto"
    first = run_gitlab_job(job, root)
    assert first.returncode == 1
    assert (root / ".psr-state/runs.db").exists()  # PSR_STATE_DIR, what the cache keeps
    (root / "etl/greeted.txt").write_text("fixed")
    second = run_gitlab_job(job, root)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (root / "etl/greeted.txt").read_text() == "fixed"  # greet was not run again


def test_the_component_job_runs_with_its_inputs(tmp_path):
    needs_flags("--junit", "--summary-md")
    root, _ = project(tmp_path, "")
    jobs = interpolate_component(
        COMPONENT,
        {"job-name": "nightly", "workdir": "etl", "install": False, "params": "who=component"},
    )
    result = run_gitlab_job(jobs["nightly"], root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "etl/greeted.txt").read_text() == "component"
    assert jobs["nightly"]["artifacts"]["reports"]["junit"] == "psr-report/junit.xml"
