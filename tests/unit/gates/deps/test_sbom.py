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
    assert [(c["name"], c["version"], c.get("purl")) for c in doc["components"]] == [
        ("requests", "2.19.0", "pkg:pypi/requests@2.19.0"),
        (
            "tool",
            "1.0",
            "pkg:pypi/tool@1.0?vcs_url=git%2Bhttps://github.com/example/tool%3Frev%3Dabc%230123456789abcdef0123456789abcdef01234567",
        ),
        ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1"),
    ]
    root = doc["metadata"]["component"]
    assert (root["name"], root["version"]) == ("demo-app", "0.1.0")  # the lock's own project
    edges = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert edges[root["bom-ref"]] == ["pkg:pypi/requests@2.19.0"]  # what demo-app requires
    assert edges["pkg:pypi/requests@2.19.0"] == ["pkg:pypi/urllib3@1.24.1"]  # from the lock
    assert edges["pkg:pypi/urllib3@1.24.1"] == []


def test_sbom_of_requirements_normalises_names_and_follows_includes():
    doc = json.loads(generate_sbom(DEPS / "requirements" / "requirements.txt"))
    purls = {c["purl"] for c in doc["components"] if "purl" in c}
    assert {"pkg:pypi/jinja2@2.10", "pkg:pypi/pyyaml@5.3", "pkg:pypi/pillow@8.0.0"} <= purls
    assert "pkg:pypi/django@2.2.0" in purls  # pinned by the constraints file
    assert "pkg:pypi/flask" in purls  # unpinned: listed without a version
    # URL, VCS and editable requirements are components, not silently dropped (issue 20);
    # local code gets no PyPI purl, only its location.
    by_name = {c["name"]: c for c in doc["components"]}
    assert "pkg:pypi/thing@1.0?download_url=https://example.com/packages/thing-1.0.tar.gz" in purls
    assert "purl" not in by_name["./local-package"]
    assert "purl" not in by_name["project"]  # -e: editable, whatever its URL
    assert by_name["project"]["properties"] == [
        {
            "name": "psr-engine:location",
            "value": "git+https://github.com/example/project.git#egg=project",
        }
    ]
    assert by_name["name"]["purl"] == "pkg:pypi/name?download_url=https://example.com/name-1.0.whl"


def test_purls_keep_dots_in_names_as_the_purl_spec_and_cyclonedx_py_do(tmp_path):
    """Issue 20: `ruamel.yaml` stays `ruamel.yaml` (packageurl lower-cases and turns `_` into
    `-`, nothing more); the component's name is the one written."""
    (tmp_path / "requirements.txt").write_text("ruamel.yaml==0.18.6\nZope_Interface==7.0\n")
    doc = json.loads(generate_sbom(tmp_path / "requirements.txt", paths=[]))
    assert {(c["name"], c["purl"]) for c in doc["components"]} == {
        ("ruamel.yaml", "pkg:pypi/ruamel.yaml@0.18.6"),
        ("Zope_Interface", "pkg:pypi/zope-interface@7.0"),
    }


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
