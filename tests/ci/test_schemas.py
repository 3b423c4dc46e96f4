"""The CI files validate against the schemas GitHub and GitLab publish (tests/data/schemas,
provenance in SOURCE.md), and the validation is live (a broken copy is caught)."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

import pytest
from ci_runner import (
    ACTION,
    COMPONENT,
    GITLAB,
    REPO,
    SCHEMAS,
    interpolate_component,
    load_all,
    load_yaml,
)

WORKFLOWS = sorted((REPO / "ci-templates" / "github" / "workflows").glob("*.yml"))
REQUIRED_INPUTS = {
    "workflow", "params", "working-directory", "python-version", "version", "extras",
    "fail-on", "gates", "sarif", "upload-sarif", "junit", "summary", "otel-endpoint", "resume",
}  # fmt: skip
HIDDEN_JOBS = {
    ".psr_script_runner", ".psr_script_runner_secure", ".psr_script_runner_with_deps",
    ".psr_script_runner_traced", ".psr_script_runner_with_costs", ".psr_long_job",
    ".psr_quick_check", ".psr_benchmark",
}  # fmt: skip


@cache
def validator(name: str):
    from jsonschema import Draft7Validator

    schema = json.loads((SCHEMAS / name).read_text())
    return Draft7Validator(schema)


def errors(name: str, instance) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(instance)
    ]


def test_action_yml_validates_against_github_action_schema():
    assert errors("github-action.json", load_yaml(ACTION)) == []


def test_a_broken_action_is_caught_by_the_schema():
    broken = copy.deepcopy(load_yaml(ACTION))
    del broken["runs"]["steps"][1]["shell"]  # composite run steps must name their shell
    assert errors("github-action.json", broken)


def test_action_declares_the_inputs_and_outputs_the_issue_lists():
    action = load_yaml(ACTION)
    assert set(action["inputs"]) >= REQUIRED_INPUTS
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in action["inputs"])
    assert set(action["outputs"]) == {
        "run-id",
        "status",
        "sarif-file",
        "junit-file",
        "provenance-file",
    }
    assert action["runs"]["using"] == "composite"


def test_action_scripts_never_interpolate_expressions():
    """Inputs reach scripts through env: only; `${{ }}` inside run: is script injection."""
    for step in load_yaml(ACTION)["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_example_workflow_validates_against_github_workflow_schema(path: Path):
    workflow = load_yaml(path)
    assert "on" in workflow  # YAML 1.2: the key is the string "on", not True
    assert errors("github-workflow.json", workflow) == []


def test_the_examples_cover_schedule_sarif_upload_and_tracing():
    texts = {p.name: p.read_text() for p in WORKFLOWS}
    assert "schedule" in load_yaml(REPO / "ci-templates/github/workflows/scheduled-etl.yml")["on"]
    assert 'upload-sarif: "true"' in texts["security-gates.yml"]
    assert "security-events: write" in texts["security-gates.yml"]
    assert "otel-endpoint" in texts["tracing.yml"]


def test_a_workflow_read_as_yaml_1_1_would_fail_the_schema():
    """The gotcha SOURCE.md warns about, pinned: PyYAML turns `on:` into True."""
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOWS[0].read_text())
    assert True in workflow
    assert any("'on' is a required property" in e for e in errors("github-workflow.json", workflow))


def visible(config: dict) -> dict:
    """The schema lets hidden keys (`.name`) be anything; as visible jobs they get checked."""

    def strip(name: str) -> str:
        return name.lstrip(".")

    jobs = {}
    for name, job in config.items():
        job = dict(job)
        if "extends" in job:
            job["extends"] = strip(job["extends"])
        jobs[strip(name)] = job
    return jobs


def test_gitlab_include_file_validates_against_gitlab_ci_schema():
    config = load_yaml(GITLAB)
    assert errors("gitlab-ci.json", config) == []
    assert errors("gitlab-ci.json", visible(config)) == []
    assert set(config) >= HIDDEN_JOBS
    assert config[".psr_script_runner"]["artifacts"]["reports"]["junit"] == "psr-report/junit.xml"


def test_a_broken_gitlab_job_is_caught_by_the_schema():
    config = copy.deepcopy(load_yaml(GITLAB))
    config[".psr_long_job"]["retry"] = {"max": 9}
    assert errors("gitlab-ci.json", visible(config))


def test_gitlab_component_validates_with_its_inputs_and_after_interpolation():
    header, _ = load_all(COMPONENT)
    assert errors("gitlab-ci.json", header) == []
    inputs = header["spec"]["inputs"]
    body = COMPONENT.read_text().split("\n---\n", 1)[1]
    used = set(re.findall(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", body))
    assert used == set(inputs)  # every input is used, none is undeclared
    config = interpolate_component(COMPONENT, {"params": "a=1\nb=two words"})
    assert errors("gitlab-ci.json", config) == []
    assert config["psr-engine"]["variables"]["PSR_PARAMS"] == "a=1\nb=two words"


def test_gitlab_component_runs_the_same_script_as_the_include_file():
    _, jobs = load_all(COMPONENT)
    (job,) = jobs.values()
    base = load_yaml(GITLAB)[".psr_base"]
    assert job["script"] == base["script"]
    assert job["before_script"] == base["before_script"]


def test_pre_commit_hook_validates_workflow_files():
    (hook,) = load_yaml(REPO / ".pre-commit-hooks.yaml")
    assert hook["id"] == "psr-engine-validate"
    assert hook["entry"] == "psr-engine validate" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("workflow.yaml") and pattern.search("etl/workflow.yml")
    assert pattern.search("etl/nightly.psr.yaml") and pattern.search("ops.psr.yml")
    assert not pattern.search("my-workflow.yaml.bak") and not pattern.search("compose.yaml")


def test_the_ci_docs_examples_validate_against_the_schemas():
    """docs/features/ci.md's YAML: the workflow as a GitHub workflow, the GitLab pipelines as
    GitLab CI (a component include with its inputs among them), pre-commit as YAML."""
    from ruamel.yaml import YAML

    text = (REPO / "docs/features/ci.md").read_text()
    blocks = [
        YAML(typ="safe", pure=True).load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
    ]
    workflows = [b for b in blocks if "jobs" in b]
    pipelines = [b for b in blocks if "include" in b]
    assert len(workflows) == 1 and len(pipelines) == 2
    assert errors("github-workflow.json", workflows[0]) == []
    for pipeline in pipelines:
        assert errors("gitlab-ci.json", pipeline) == []
    assert any("repos" in b for b in blocks)


def test_the_assembled_component_project_is_what_gitlab_loads(tmp_path):
    """`make gitlab-component`: templates/ at the root, README, a pipeline that validates."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dist = tmp_path / "component"
    subprocess.run(
        ["make", "-s", "gitlab-component", f"COMPONENT_DIST={dist}"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    assert (dist / "templates/psr-engine.yml").read_text() == COMPONENT.read_text()
    assert (dist / "README.md").is_file() and (dist / "tests/sample/workflow.yaml").is_file()
    pipeline = load_yaml(dist / ".gitlab-ci.yml")
    assert errors("gitlab-ci.json", pipeline) == []
    components = [i["component"] for i in pipeline["include"]]
    assert all(c.endswith("/psr-engine@$CI_COMMIT_SHA") for c in components)
    assert {i["inputs"]["workdir"] for i in pipeline["include"]} == {"tests/sample"}
    assert pipeline["create-release"]["release"]["tag_name"] == "$CI_COMMIT_TAG"
