"""The CycloneDX 1.6 SBOM validates with the library's own validator and lists the right parts."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest

from psr_engine.errors import PsrError
from psr_engine.gates import sbom
from psr_engine.gates.sbom import generate_sbom

DEPS = Path(__file__).resolve().parents[3] / "data" / "deps"


def _valid(text: str) -> bool:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None


def test_sbom_of_a_lock_file_has_its_components_and_purls(tmp_path):
    out = tmp_path / "sbom.cdx.json"
    text = generate_sbom(DEPS / "uv" / "uv.lock", output=out)

    assert _valid(text)
    assert json.loads(out.read_text()) == json.loads(text)
    doc = json.loads(text)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert [(c["name"], c["version"], c["purl"]) for c in doc["components"]] == [
        ("requests", "2.19.0", "pkg:pypi/requests@2.19.0"),
        ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1"),
    ]
    root = doc["metadata"]["component"]
    assert root["name"] == "psr-engine scan target"
    (edges,) = [d for d in doc["dependencies"] if d["ref"] == root["bom-ref"]]
    assert sorted(edges["dependsOn"]) == ["pkg:pypi/requests@2.19.0", "pkg:pypi/urllib3@1.24.1"]


def test_sbom_of_requirements_normalises_names_and_follows_includes():
    doc = json.loads(generate_sbom(DEPS / "requirements" / "requirements.txt"))
    purls = {c["purl"] for c in doc["components"]}
    assert {"pkg:pypi/jinja2@2.10", "pkg:pypi/pyyaml@5.3", "pkg:pypi/pillow@8.0.0"} <= purls
    assert "pkg:pypi/django@2.2.0" in purls  # pinned by the constraints file
    assert "pkg:pypi/flask" in purls  # unpinned: listed without a version


def test_sbom_of_the_environment_carries_versions_and_licences():
    text = generate_sbom()
    assert _valid(text)
    components = {c["name"]: c for c in json.loads(text)["components"]}
    packaging = components["packaging"]
    assert packaging["version"] == version("packaging")
    assert packaging["purl"] == f"pkg:pypi/packaging@{version('packaging')}"
    assert packaging["licenses"]  # packaging declares its licence in its metadata


def test_validation_failure_is_a_psr_error(monkeypatch):
    from cyclonedx.validation.json import JsonStrictValidator

    # The library never builds an invalid document for our inputs, so a rejection has to be
    # staged: the validator is the one thing replaced, to check how a rejection is reported.
    monkeypatch.setattr(JsonStrictValidator, "validate_str", lambda self, data: "bad document")
    with pytest.raises(PsrError, match="does not validate: bad document"):
        generate_sbom(DEPS / "uv" / "uv.lock")
    assert sbom.ROOT_NAME == "psr-engine scan target"
