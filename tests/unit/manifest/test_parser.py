"""WorkflowParser and load_manifest: the manifest stage's public surface."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import psr_engine
from psr_engine.errors import ManifestError
from psr_engine.manifest import ValidationResult, WorkflowParser, load_manifest

from .conftest import MINIMAL


def test_parse_yaml_text_names_the_source_and_anchors_paths_at_the_cwd() -> None:
    manifest = WorkflowParser().parse_yaml(MINIMAL)
    assert manifest.name == "demo"
    assert manifest.source.path == "<string>"
    assert manifest.tasks[0].workdir == os.getcwd()


def test_parse_yaml_with_a_path_uses_it_in_messages() -> None:
    with pytest.raises(ManifestError) as caught:
        WorkflowParser().parse_yaml(MINIMAL.replace("run:", "rnu:"), path="ci/w.yaml")
    assert {d.file for d in caught.value.diagnostics} == {"ci/w.yaml"}
    assert any(d.hint == "did you mean 'run'?" for d in caught.value.diagnostics)


def test_parse_json_text_and_file(tmp_path) -> None:
    document = {
        "apiVersion": "psr-engine/v1",
        "kind": "Workflow",
        "metadata": {"name": "demo"},
        "spec": {"tasks": {"a": {"run": "echo"}}},
    }
    parser = WorkflowParser()
    assert parser.parse_json(json.dumps(document)).tasks[0].name == "a"
    path = tmp_path / "w.json"
    path.write_text(json.dumps(document, indent=2))
    assert parser.parse_json(path).source.path == str(path)
    assert parser.parse_file(path).name == "demo"


def test_parse_file_reads_yaml_and_its_digest(write) -> None:
    import hashlib

    path = write(MINIMAL)
    manifest = WorkflowParser().parse_file(path)
    assert manifest.source.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest.source.position(("spec", "tasks", "hello", "run")).line == 8


def test_parse_yaml_given_a_path_string_reads_the_file(write) -> None:
    path = write(MINIMAL, name="flows/w.yaml")
    assert WorkflowParser().parse_yaml(str(path)).base_dir == str(path.parent)


def test_validate_workflow_never_raises_for_bad_input(write) -> None:
    parser = WorkflowParser()
    good = parser.validate_workflow(write(MINIMAL))
    assert good == ValidationResult(ok=True, diagnostics=[], manifest=good.manifest)
    assert good.manifest is not None
    for bad in ("- a list\n", "a: [\n", "", MINIMAL.replace("echo hello", "")):
        result = parser.validate_workflow(bad)
        assert not result.ok and result.diagnostics and result.manifest is None
    missing = parser.validate_workflow("missing.yaml")
    assert not missing.ok and "no such file" in missing.diagnostics[0].message


def test_validate_workflow_accepts_json_text() -> None:
    text = json.dumps(
        {
            "apiVersion": "psr-engine/v1",
            "kind": "Workflow",
            "metadata": {"name": "x"},
            "spec": {"tasks": {"a": {"run": "echo"}}},
        }
    )
    assert WorkflowParser().validate_workflow(text).ok


def test_load_manifest_raises_manifest_error_with_every_problem(write) -> None:
    path = write(
        """
        apiVersion: psr-engine/v1
        kind: Workflow
        metadata: {name: BAD}
        spec:
          tasks:
            a: {run: echo, timeout: soon}
        """
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert [d.line for d in caught.value.diagnostics] == [3, 6]
    assert str(path) in str(caught.value)


def test_workflow_parser_is_a_public_name() -> None:
    assert psr_engine.WorkflowParser is WorkflowParser


def test_importing_the_manifest_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, psr_engine.manifest\n"
        "heavy = [m for m in ('jsonschema', 'ruamel.yaml', 'networkx') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
