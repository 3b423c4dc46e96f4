"""The compiled fast path of schema validation agrees with jsonschema, document for document."""

from __future__ import annotations

from pathlib import Path

import fastjsonschema
import pytest
from jsonschema import Draft202012Validator

from psr_engine.manifest import compiled_schema
from psr_engine.manifest.loader import load_document
from psr_engine.manifest.schema import as_draft7, load_schema, schema_diagnostics

ROOT = Path(__file__).resolve().parents[3]


def _documents():
    paths = [
        *sorted((ROOT / "tests" / "data" / "invalid").glob("*.y*ml")),
        *sorted((ROOT / "tests" / "data" / "invalid").glob("*.json")),
        *sorted((ROOT / "tests" / "data" / "invalid-plan").glob("*.yaml")),
        *sorted((ROOT / "manifests").rglob("*.yaml")),
    ]
    for path in paths:
        try:
            yield path, load_document(str(path)).data
        except Exception:  # YAML-level failures never reach the schema
            continue


def test_the_draft7_form_accepts_exactly_what_the_2020_12_schema_accepts():
    strict = Draft202012Validator(load_schema())
    # The code validate runs (compiled_schema: our options, the rewritten imports) and
    # fastjsonschema's own compile of the same schema.
    kept = compiled_schema.compile_validator(as_draft7(load_schema()), None)
    plain = fastjsonschema.compile(as_draft7(load_schema()), use_default=False, use_formats=False)
    checked = 0
    for path, data in _documents():
        for fast in (kept, plain):
            try:
                fast(data)
                fast_ok = True
            except Exception:
                fast_ok = False
            assert fast_ok == strict.is_valid(data), path
        checked += 1
    assert checked > 100


def test_a_ref_with_siblings_keeps_them_in_draft7():
    converted = as_draft7({"properties": {"t": {"$ref": "#/$defs/x", "minProperties": 1}}})
    assert converted["properties"]["t"] == {"minProperties": 1, "allOf": [{"$ref": "#/$defs/x"}]}


def test_keywords_draft7_lacks_turn_the_fast_path_off():
    assert as_draft7({"prefixItems": [{"type": "string"}]}) is None


@pytest.mark.parametrize("broken", [False, True])
def test_large_manifests_get_the_same_diagnostics_through_the_fast_path(tmp_path, broken):
    tasks = "\n".join(f"    t{i}: {{run: 'echo {i}'}}" for i in range(400))
    if broken:
        tasks += "\n    bad: {run: 'x', retires: 2}"
    path = tmp_path / "big.yaml"
    path.write_text(
        f"apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {{name: big}}\n"
        f"spec:\n  tasks:\n{tasks}\n"
    )
    diagnostics = schema_diagnostics(load_document(str(path)))
    if broken:
        assert len(diagnostics) == 1 and diagnostics[0].line == 406
        assert "retries" in str(diagnostics[0])
    else:
        assert diagnostics == []
