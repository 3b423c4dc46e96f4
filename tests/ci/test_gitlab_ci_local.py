"""Our GitLab hidden jobs and component, run by gitlab-ci-local in a sample project that
`include:`s them: one job per hidden job and one through the component, each installing
psr-engine from the working copy through PSR_PACKAGE / the `package` input. Every job passes,
and every report it declares exists where it declares it, with repository-relative paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ci_runner import COMPONENT, GITLAB, REPO, load_yaml, sample_flow
from gitlab_local import GitlabLocal, build_wheel, job_python, why_not_runnable

# One fixture runs every job: its time is the first test's (pytest-timeout counts setup).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

FLOW = sample_flow("sample-etl")
OSV = REPO / "tests" / "data" / "osv-pypi" / "vulns"
XSD = REPO / "tests" / "data" / "junit" / "junit-10.xsd"
# Each hidden job, extended by a job of the sample project (name -> hidden job, variables).
HIDDEN = {
    "run": (".psr_script_runner", {}),
    "secure": (".psr_script_runner_secure", {}),
    "deps": (".psr_script_runner_with_deps", {"PSR_OSV_DB": "osv"}),
    "traced": (".psr_script_runner_traced", {}),
    "costs": (".psr_script_runner_with_costs", {}),
    "long": (".psr_long_job", {}),
    "check": (".psr_quick_check", {}),
    "bench": (".psr_benchmark", {"PSR_BENCH_RUNS": "2"}),
}
COMPONENT_JOB = "component-etl"


def _pipeline(wheel: Path) -> str:
    jobs = {
        name: {
            "extends": hidden,
            "variables": {"PSR_WORKDIR": "etl", "PSR_PACKAGE": str(wheel), **variables},
        }
        for name, (hidden, variables) in HIDDEN.items()
    }
    jobs["long-fail"] = {
        "extends": ".psr_long_job",
        "variables": {"PSR_WORKDIR": "etl", "PSR_PACKAGE": str(wheel), "PSR_PARAMS": "who=fail"},
    }
    include = [
        {"local": "ci/psr-engine.gitlab-ci.yml"},
        {
            "local": "ci/templates/psr-engine.yml",
            "inputs": {
                "job-name": COMPONENT_JOB,
                "workdir": "etl",
                "package": str(wheel),
                "extras": "security",
                "gates": "secrets,deps",
                "osv-db": "osv",
                "sbom": True,
                "gitlab-reports": True,
            },
        },
    ]
    return json.dumps({"include": include, **jobs}, indent=1)  # JSON is YAML


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> dict[str, tuple[object, Path]]:
    """Runs every job once; name -> (JobRun, the folder its psr-report/ was moved to)."""
    reason = why_not_runnable()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("gitlab-ci-local")
    wheel = build_wheel(base / "wheel")
    python_bin = job_python(base / "job-venv")
    project = base / "sample"
    (project / "etl").mkdir(parents=True)
    (project / "etl/workflow.yaml").write_text(FLOW)
    # Pins with no advisory in the small OSV database the deps jobs scan against.
    (project / "etl/requirements.txt").write_text("requests==2.32.3\nurllib3==2.2.3\n")
    (project / "etl/handler.py").write_text("def handle(event):\n    return event['id']\n")
    for package in ("requests", "urllib3"):
        shutil.copytree(OSV / package, project / "osv" / package)
    (project / "ci/templates").mkdir(parents=True)
    shutil.copy(GITLAB, project / "ci/psr-engine.gitlab-ci.yml")
    shutil.copy(COMPONENT, project / "ci/templates/psr-engine.yml")
    (project / ".gitlab-ci.yml").write_text(_pipeline(wheel))
    import subprocess

    # A repository as GitLab checks it out: committed, with a remote (local includes are
    # read from the commit; the remote names the project).
    git = ["git", "-C", str(project), "-c", "user.name=ci", "-c", "user.email=ci@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(project)], check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://gitlab.example.com/acme/sample.git"], check=True
    )
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "sample"], check=True)
    runner = GitlabLocal(project, python_bin, wheel)
    results = {}
    for name in [*HIDDEN, COMPONENT_JOB]:
        run = runner.run(name)
        kept = base / "reports" / name
        if (project / "psr-report").exists():
            shutil.move(project / "psr-report", kept)
        results[name] = (run, kept)
    # A retried .psr_long_job: the first attempt fails, a fix lands between attempts (the
    # task's input file), the retry resumes: greet, which succeeded, is not run again.
    results["long-fail"] = (runner.run("long-fail"), base / "reports" / "long-fail")
    (project / "etl/greeted.txt").write_text("fixed")
    results["long-retry"] = (runner.run("long-fail"), base / "reports" / "long-retry")
    results["greeted-after-retry"] = (project / "etl/greeted.txt").read_text()
    return results


def _declared_reports(job: str, project_config: dict) -> dict[str, str]:
    from ci_runner import interpolate_component, resolve_extends

    if job == COMPONENT_JOB:
        jobs = interpolate_component(COMPONENT, {"job-name": COMPONENT_JOB})
        return jobs[COMPONENT_JOB]["artifacts"]["reports"]
    hidden = load_yaml(GITLAB)
    return resolve_extends({**hidden, "j": {"extends": HIDDEN[job][0]}}, "j")["artifacts"][
        "reports"
    ]


@pytest.mark.parametrize("job", [*HIDDEN, COMPONENT_JOB])
def test_every_job_passes_under_gitlab_ci_local(pipeline, job):
    run, _ = pipeline[job]
    assert run.code == 0, run.log[-4000:]
    assert "psr-engine: pip install" in run.log  # installed through the package setting
    assert "psr_engine-" in run.log and ".whl" in run.log


@pytest.mark.parametrize("job", ["run", "secure", "deps", "bench", COMPONENT_JOB])
def test_declared_reports_exist_with_repository_relative_paths(pipeline, job):
    run, reports = pipeline[job]
    assert run.code == 0, run.log[-4000:]
    declared = _declared_reports(job, {})
    written = {
        kind: reports / Path(path).relative_to("psr-report") for kind, path in declared.items()
    }
    if job == COMPONENT_JOB:  # it declares every report; apply mode writes all but metrics
        written.pop("metrics")
    assert written, job
    for kind, path in written.items():
        assert path.is_file(), f"{job}: {kind} report {declared[kind]} was not written"
        _check_report(kind, path)


def _check_report(kind: str, path: Path) -> None:
    if kind == "junit":
        from lxml import etree

        schema = etree.XMLSchema(etree.parse(str(XSD)))
        assert schema.validate(etree.parse(str(path))), schema.error_log
    elif kind == "metrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families

        assert list(text_string_to_metric_families(path.read_text()))
    elif kind == "cyclonedx":
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        text = path.read_text()
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
        names = {c["name"] for c in json.loads(text)["components"]}
        assert {"requests", "urllib3"} <= names  # the project's requirements, not the CI's
    elif kind == "sast":
        for vulnerability in json.loads(path.read_text())["vulnerabilities"]:
            assert vulnerability["location"]["file"].startswith("etl/")
    elif kind == "codequality":
        for issue in json.loads(path.read_text()):
            assert issue["location"]["path"].startswith("etl/")


def test_sarif_from_the_jobs_is_relative_to_the_repository(pipeline):
    for job in ("secure", COMPONENT_JOB):
        _, reports = pipeline[job]
        sarif = json.loads((reports / "secrets.sarif").read_text())
        run = sarif["runs"][0]
        base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        assert base.endswith("/sample/"), base  # the project's root, not etl/


def test_a_retried_long_job_resumes_the_failed_run(pipeline):
    first, _ = pipeline["long-fail"]
    assert first.code == 1, first.log[-4000:]  # check failed: greeted.txt says "fail"
    retry, _ = pipeline["long-retry"]
    assert retry.code == 0, retry.log[-4000:]
    assert "running afresh" not in retry.log  # PSR_RESUME: auto found the failed run
    assert pipeline["greeted-after-retry"] == "fixed"  # greet succeeded before: not rerun
    plain, _ = pipeline["long"]
    assert "no unfinished run to resume; running afresh" in plain.log  # a first attempt
