"""Each run's provenance: an in-toto Statement v1 / SLSA Provenance v1 that lists exactly the
files the tasks declared, with their digests, and validates against the specs' schemas."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import jsonschema

DATA = Path(__file__).parents[2] / "data" / "provenance"
SCHEMAS = ("in-toto-statement-v1.schema.json", "slsa-provenance-v1.schema.json")

TASKS = """
gen:
  run: "mkdir -p build && bash scripts/gen.sh > build/a.txt && printf two > build/b.bin"
  cache: {inputs: [data/*.csv], outputs: ["build/*"]}
report:
  needs: gen
  run: "cat build/a.txt > report.md"
  cache: {inputs: [build/a.txt], outputs: [report.md]}
plain:
  run: "echo not declared > loose.txt"
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _statement(ws, run_id: str | None = None) -> dict:
    runs = sorted((ws.root / ".psr" / "runs").iterdir())
    folder = runs[-1] if run_id is None else ws.root / ".psr" / "runs" / run_id
    return json.loads((folder / "provenance.intoto.json").read_text())


def _validate(statement: dict) -> None:
    for name in SCHEMAS:
        schema = json.loads((DATA / name).read_text())
        jsonschema.validate(statement, schema, format_checker=jsonschema.FormatChecker())


def _project(ws) -> None:
    ws.write("scripts/gen.sh", "echo generated\n")
    ws.write("data/in.csv", "a,b\n1,2\n")
    ws.write("uv.lock", "version = 1\n")
    ws.manifest(TASKS, extra="params:\n  region: {type: string, default: eu}")


def test_the_statement_lists_exactly_the_declared_outputs_with_their_digests(ws) -> None:
    _project(ws)
    result = ws.cli("apply", "-q")
    assert result.code == 0, result.stderr
    statement = _statement(ws)
    _validate(statement)
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    declared = ["build/a.txt", "build/b.bin", "report.md"]
    assert subjects == {name: _sha(ws.root / name) for name in declared}
    predicate = statement["predicate"]
    definition = predicate["buildDefinition"]
    assert definition["buildType"] == "https://psr-engine.dev/workflow/v1"
    assert definition["externalParameters"] == {
        "manifest": str(ws.root / "workflow.yaml"),
        "params": {"region": "eu"},
    }
    deps = {
        d["name"]: (d["annotations"]["kind"], d["digest"]["sha256"])
        for d in definition["resolvedDependencies"]
    }
    assert deps == {
        "workflow.yaml": ("manifest", _sha(ws.root / "workflow.yaml")),
        "scripts/gen.sh": ("script", _sha(ws.root / "scripts/gen.sh")),
        "data/in.csv": ("input", _sha(ws.root / "data/in.csv")),
        "uv.lock": ("lock", _sha(ws.root / "uv.lock")),
    }
    details = predicate["runDetails"]
    run_id = details["metadata"]["invocationId"]
    assert (ws.root / ".psr" / "runs" / run_id / "provenance.intoto.json").is_file()
    assert details["builder"]["version"]["psr-engine"]
    results = next(b for b in details["byproducts"] if b["name"] == "psr-run-results.json")
    content = base64.b64decode(results["content"])
    assert hashlib.sha256(content).hexdigest() == results["digest"]["sha256"]
    assert json.loads(content)["tasks"] == {
        "gen": "succeeded",
        "report": "succeeded",
        "plain": "succeeded",
    }


def test_a_run_without_declared_outputs_attests_its_results(ws) -> None:
    ws.manifest('only: {run: "true"}')
    assert ws.cli("apply", "-q").code == 0
    statement = _statement(ws)
    _validate(statement)
    assert [s["name"] for s in statement["subject"]] == ["psr-run-results.json"]


def test_provenance_and_audit_turn_off_by_setting_or_environment(ws) -> None:
    ws.manifest('only: {run: "true"}', extra="provenance: false")
    assert ws.cli("apply", "-q").code == 0
    ws.manifest('only: {run: "true"}')
    assert ws.cli("apply", "-q", env={"PSR_PROVENANCE": "0"}).code == 0
    assert not list((ws.root / ".psr" / "runs").glob("*/provenance.intoto.json"))
    assert not (ws.root / ".psr" / "audit.jsonl").exists()


def test_the_vendored_schemas_reject_what_the_specs_forbid() -> None:
    good = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://x.dev/t", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://x.dev/b"}},
        },
    }
    _validate(good)
    bad = [
        {**good, "subject": []},
        {**good, "subject": [{"name": "a"}]},
        {**good, "subject": [{"name": "a", "digest": {"sha256": "NOT-HEX"}}]},
        {**good, "_type": "https://in-toto.io/Statement/v0.1"},
        {**good, "predicate": {"runDetails": good["predicate"]["runDetails"]}},
    ]
    for statement in bad:
        try:
            _validate(statement)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"accepted: {statement}")


def test_status_and_the_reports_point_at_the_provenance_file(ws) -> None:
    import xml.etree.ElementTree as ET

    ws.manifest('only: {run: "true"}')
    assert ws.cli("apply", "-q", "--junit", "junit.xml", "--summary-md", "summary.md").code == 0
    (statement,) = (ws.root / ".psr" / "runs").glob("*/provenance.intoto.json")
    status = json.loads(ws.cli("status", "last", "--output", "json").stdout)
    assert status["provenance"] == str(statement)
    assert f"provenance {statement}" in ws.cli("status", "last").stdout
    properties = {
        p.get("name"): p.get("value") for p in ET.parse(ws.root / "junit.xml").iter("property")
    }
    assert properties["provenance"] == str(statement)
    assert f"Provenance: `{statement}`" in (ws.root / "summary.md").read_text()
