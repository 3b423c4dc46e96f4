"""`psr-engine init` without a template, and `psr-engine templates`, through the real CLI."""

from __future__ import annotations

import json

from ruamel.yaml import YAML


def test_init_writes_a_commented_minimal_workflow_that_runs(ws):
    result = ws.cli("init")
    assert result.code == 0, result.stderr
    text = (ws.root / "workflow.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=https://psr-engine.dev/schemas/workflow.v1.json\n"
    )
    assert text.count("#") > 5  # commented for a newcomer
    applied = ws.cli("apply")
    assert applied.code == 0, applied.stderr
    assert applied.statuses() == {"hello": "succeeded", "goodbye": "succeeded"}


def test_init_names_the_workflow_after_the_folder_or_the_name_param(ws):
    (ws.root / "My Project").mkdir()
    assert ws.cli("init", "My Project").code == 0
    assert ws.cli("init", "other", "-p", "name=nightly").code == 0
    load = YAML(typ="safe").load
    assert load((ws.root / "My Project/workflow.yaml").read_text())["metadata"]["name"] == (
        "my-project"
    )
    assert load((ws.root / "other/workflow.yaml").read_text())["metadata"]["name"] == "nightly"


def test_init_refuses_to_overwrite_without_force(ws):
    (ws.root / "workflow.yaml").write_text("mine\n")
    refused = ws.cli("init")
    assert refused.code == 2
    assert "refusing to overwrite" in refused.stderr and "--force" in refused.stderr
    assert (ws.root / "workflow.yaml").read_text() == "mine\n"
    assert ws.cli("init", "--force").code == 0
    assert "apiVersion: psr-engine/v1" in (ws.root / "workflow.yaml").read_text()


def test_init_with_an_unknown_template_lists_the_known_ones(ws):
    result = ws.cli("init", "--template", "etl")
    assert result.code == 2
    assert "no template named 'etl'" in result.stderr and "etl-pipeline" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_with_an_unknown_template_param_fails_with_the_known_ones(ws):
    result = ws.cli("init", "--template", "etl-pipeline", "-p", "db=x.db")
    assert result.code == 2
    assert "no param 'db'" in result.stderr and "database" in result.stderr
    assert not (ws.root / "workflow.yaml").exists()


def test_templates_lists_the_four_templates(ws):
    result = ws.cli("templates")
    assert result.code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["api-integration", "data-transformation", "etl-pipeline", "file-processing"]


def test_templates_describes_one_with_its_params_and_extra(ws):
    text = ws.cli("templates", "data-transformation")
    assert text.code == 0
    assert "psr-engine[data]" in text.stdout and "maxDropped" not in text.stdout
    assert "out" in text.stdout and "init --template data-transformation" in text.stdout
    as_json = json.loads(ws.cli("templates", "etl-pipeline", "-o", "json").stdout)
    assert as_json["name"] == "etl-pipeline"
    assert [p["name"] for p in as_json["params"]] == ["name", "database"]
