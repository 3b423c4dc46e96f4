"""Secret providers and sink types the schema cannot list (plug-ins add names): a name close
to a known one is a typo, caught at validate time with its line; another is a plug-in's,
installed here or not (apply says so when it is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from psr_engine import plugins
from psr_engine.errors import ManifestError
from psr_engine.manifest.parser import load_manifest

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: demo}
spec:
  secrets:
    TOKEN: {provider: onepassword, vault: ops, item: deploy-token}
  tasks:
    hello: {run: echo hello, secrets: [TOKEN]}
  sinks:
    - {type: kafka, brokers: "localhost:9092"}
"""


class EntryPoint:
    def load(self) -> object:
        return object


def test_a_plugins_secret_provider_and_sink_type_pass_validation(monkeypatch, tmp_path: Path):
    registered = {"secrets": {"onepassword": EntryPoint()}, "sinks": {"kafka": EntryPoint()}}
    monkeypatch.setattr(plugins, "_entry_points", lambda group: registered.get(group, {}))
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    manifest = load_manifest(path)
    assert manifest.secrets[0].provider == "onepassword"
    assert manifest.secrets[0].options == {"vault": "ops", "item": "deploy-token"}
    assert manifest.sinks[0].type == "kafka"


def test_a_plugins_name_validates_where_the_plugin_is_not_installed(monkeypatch, tmp_path):
    # A lint job (pre-commit, `psr-engine validate` in CI) need not install every plug-in.
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    assert load_manifest(path).sinks[0].type == "kafka"


def test_a_typo_of_a_known_name_is_an_error_at_its_line(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    path = tmp_path / "workflow.yaml"
    path.write_text(
        MANIFEST.replace("onepassword, vault: ops, item: deploy-token", "vualt, path: x").replace(
            "kafka", "jsnol"
        )
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    found = {(d.line, d.message) for d in caught.value.diagnostics}
    assert found == {(6, "unknown secret provider 'vualt'"), (10, "unknown sink type 'jsnol'")}
    hints = sorted(d.hint for d in caught.value.diagnostics)
    assert hints[0].startswith("did you mean 'jsonl'? known: console, history, jsonl")
    assert hints[1].startswith("did you mean 'vault'? known: aws, azure, env, file, gcp, vault")
