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
    assert set(action["outputs"]) == {"run-id", "status", "sarif-file", "junit-file"}
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
