"""TemplateManager: listing, describing and scaffolding, on the shipped templates and on small
templates built in a temp folder."""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from psr_engine.templates import TemplateError, TemplateManager, templates_root

SHIPPED = ["api-integration", "data-transformation", "etl-pipeline", "file-processing"]


def make_template(root: Path, name: str = "demo") -> Path:
    folder = root / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "template.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: {name}
            description: A demo.
            params:
              name: {{default: demo-flow, description: workflow name}}
            files:
              - {{path: workflow.yaml, render: true}}
              - scripts/run.py
              - {{path: secret.env, mode: "0600"}}
            """
        )
    )
    (folder / "workflow.yaml").write_text(
        "metadata:\n  name: [[ name ]]\nrun: echo ${{ params.x }}\n"
    )
    (folder / "scripts" / "run.py").write_text("print('[[ name ]] stays')\n")
    (folder / "secret.env").write_text("TOKEN=x\n")
    return folder


def test_the_shipped_templates_are_listed_by_name():
    assert [t.name for t in TemplateManager().list()] == SHIPPED


def test_the_repository_folder_is_the_fallback_in_an_editable_install():
    assert templates_root() == Path(__file__).resolve().parents[3] / "manifests" / "templates"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_template_has_a_readme_a_workflow_and_its_files(name):
    info = TemplateManager().describe(name)
    paths = {f.path for f in info.files}
    assert {"README.md", "workflow.yaml"} <= paths
    assert any(p.startswith("scripts/") for p in paths)
    assert info.description and all(p.description for p in info.params)
    # Every file of the folder is listed (nothing shipped by accident, nothing forgotten).
    on_disk = {
        p.relative_to(info.source).as_posix()
        for p in info.source.rglob("*")
        if p.is_file() and p.name != "template.yaml" and "__pycache__" not in p.parts
    }
    assert on_disk == paths


def test_describe_of_an_unknown_template_names_the_choices():
    with pytest.raises(TemplateError) as caught:
        TemplateManager().describe("etl")
    assert "no template named 'etl'" in str(caught.value)
    assert "etl-pipeline" in caught.value.diagnostics[0].hint
    assert caught.value.exit_code == 2


def test_a_name_with_a_path_in_it_is_refused(tmp_path):
    make_template(tmp_path)
    with pytest.raises(TemplateError):
        TemplateManager(tmp_path).describe("../demo")


def test_scaffold_renders_only_files_marked_render_and_keeps_expressions(tmp_path):
    make_template(tmp_path / "t")
    dest = tmp_path / "out"
    written = TemplateManager(tmp_path / "t").scaffold("demo", dest, {"name": "mine"})
    assert sorted(p.relative_to(dest).as_posix() for p in written) == [
        "scripts/run.py",
        "secret.env",
        "workflow.yaml",
    ]
    assert (dest / "workflow.yaml").read_text() == (
        "metadata:\n  name: mine\nrun: echo ${{ params.x }}\n"
    )
    assert (dest / "scripts/run.py").read_text() == "print('[[ name ]] stays')\n"
    assert stat.S_IMODE((dest / "secret.env").stat().st_mode) == 0o600


def test_scaffold_uses_param_defaults(tmp_path):
    make_template(tmp_path / "t")
    TemplateManager(tmp_path / "t").scaffold("demo", tmp_path / "out")
    assert "name: demo-flow" in (tmp_path / "out/workflow.yaml").read_text()


def test_scaffold_refuses_an_unknown_param_and_lists_the_known_ones(tmp_path):
    make_template(tmp_path / "t")
    with pytest.raises(TemplateError) as caught:
        TemplateManager(tmp_path / "t").scaffold("demo", tmp_path / "out", {"nmae": "x"})
    assert "no param 'nmae'" in str(caught.value)
    assert "name" in caught.value.diagnostics[0].hint
    assert not (tmp_path / "out").exists()


def test_scaffold_refuses_to_overwrite_and_writes_nothing(tmp_path):
    make_template(tmp_path / "t")
    dest = tmp_path / "out"
    (dest / "scripts").mkdir(parents=True)
    (dest / "scripts/run.py").write_text("mine\n")
    with pytest.raises(TemplateError) as caught:
        TemplateManager(tmp_path / "t").scaffold("demo", dest)
    assert "refusing to overwrite" in str(caught.value) and "--force" in str(caught.value)
    assert not (dest / "workflow.yaml").exists()
    assert (dest / "scripts/run.py").read_text() == "mine\n"


def test_scaffold_with_force_overwrites(tmp_path):
    make_template(tmp_path / "t")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "workflow.yaml").write_text("old\n")
    TemplateManager(tmp_path / "t").scaffold("demo", dest, force=True)
    assert "demo-flow" in (dest / "workflow.yaml").read_text()


def test_a_template_listing_a_missing_file_is_reported(tmp_path):
    folder = make_template(tmp_path)
    (folder / "scripts/run.py").unlink()
    with pytest.raises(TemplateError, match=r"scripts/run\.py"):
        TemplateManager(tmp_path).describe("demo")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_scaffolded_workflow_is_valid_and_has_the_schema_modeline(tmp_path, name):
    from psr_engine import api

    TemplateManager().scaffold(name, tmp_path)
    text = (tmp_path / "workflow.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    result = api.validate(str(tmp_path / "workflow.yaml"))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert YAML(typ="safe").load(text)["metadata"]["name"] == name


def test_to_dict_is_what_templates_json_prints():
    info = TemplateManager().describe("data-transformation")
    data = info.to_dict()
    assert data["name"] == "data-transformation"
    assert data["requires"] == ["data"]
    assert {
        "name": "out",
        "description": "the folder results are written to",
        "default": "output",
    } in data["params"]
