"""The schema compiled once and kept on disk (manifest/compiled_schema.py): used when it is
there, compiled again when it is broken, never needed for a right answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from psr_engine.manifest import compiled_schema, schema
from psr_engine.manifest.loader import load_text
from psr_engine.manifest.schema import as_draft7, load_schema, schema_diagnostics

VALID = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: small}
spec:
  tasks:
    a: {run: echo a, timeout: 2m}
"""
INVALID = VALID.replace("timeout: 2m", "timeout: 2m, retires: 2")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, and no validator remembered by this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(schema, "_compiled", {})
    return tmp_path / "cache" / "psr-engine" / "schema"


def _kept(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.marshal")) if cache.is_dir() else []


def test_the_first_validation_keeps_the_compiled_schema_and_later_ones_load_it(cache, monkeypatch):
    assert schema_diagnostics(load_text(VALID)) == []
    [kept] = _kept(cache)
    assert kept.stat().st_mode & 0o077 == 0  # the user's own, like the state folder
    monkeypatch.setattr(schema, "_compiled", {})
    monkeypatch.setattr(compiled_schema, "compile_validator", _never)
    assert schema_diagnostics(load_text(VALID)) == []


def _never(*args: object) -> None:
    raise AssertionError("compiled again although a compiled schema is kept")


def test_a_broken_entry_is_compiled_again(cache, monkeypatch):
    schema_diagnostics(load_text(VALID))
    [kept] = _kept(cache)
    kept.write_bytes(b"not marshal data")
    monkeypatch.setattr(schema, "_compiled", {})
    assert schema_diagnostics(load_text(VALID)) == []
    assert compiled_schema.load(str(kept)) is not None


def test_an_invalid_document_gets_jsonschemas_diagnostics_whatever_the_cache(cache, monkeypatch):
    cold = schema_diagnostics(load_text(INVALID))
    monkeypatch.setattr(schema, "_compiled", {})
    warm = schema_diagnostics(load_text(INVALID))
    assert cold == warm and len(warm) == 1 and "retries" in str(warm[0])


def test_without_a_writable_cache_a_small_manifest_is_checked_by_jsonschema_alone(
    tmp_path, monkeypatch
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setattr(schema, "_compiled", {})
    assert not compiled_schema.can_store()
    assert schema._fast_validator(compile_unkept=False) is None
    assert schema_diagnostics(load_text(VALID)) == []
    assert len(schema_diagnostics(load_text(INVALID))) == 1


def test_the_entry_is_keyed_by_the_schemas_bytes(cache):
    assert compiled_schema.cache_file(b"{}") != compiled_schema.cache_file(b"{ }")
    assert compiled_schema.cache_file(b"{}") == compiled_schema.cache_file(b"{}")


def test_the_kept_code_imports_neither_fastjsonschema_nor_decimal():
    source = compiled_schema.compile_source(as_draft7(load_schema()))
    assert "import fastjsonschema" not in source and "from fastjsonschema" not in source
    assert "decimal" not in source.split("\n\n", 1)[0]


def test_the_compiled_schema_never_writes_defaults_into_the_document(cache):
    document = load_text(VALID)
    assert schema_diagnostics(document) == []
    assert "provenance" not in document.data["spec"]  # the schema's default: true


def test_the_cache_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compiled_schema.cache_dir() == os.path.join(str(tmp_path), "psr-engine", "schema")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compiled_schema.cache_dir() == str(
        tmp_path / "home" / ".cache" / "psr-engine" / "schema"
    )


def test_an_entry_others_may_write_to_is_not_run(cache, monkeypatch):
    schema_diagnostics(load_text(VALID))
    [kept] = _kept(cache)
    kept.chmod(0o666)
    assert compiled_schema.load(str(kept)) is None
    kept.chmod(0o600)
    cache.chmod(0o777)
    assert compiled_schema.load(str(kept)) is None
    assert compiled_schema.can_store()  # our own folder: tightened again
    assert cache.stat().st_mode & 0o777 == 0o700
    assert compiled_schema.load(str(kept)) is not None


def test_only_the_newest_entries_are_kept(cache):
    cache.mkdir(parents=True)
    for i in range(compiled_schema.KEPT + 3):
        old = cache / f"old{i}.marshal"
        old.write_bytes(b"")
        os.utime(old, ns=(i * 10**9, i * 10**9))
    schema_diagnostics(load_text(VALID))
    kept = _kept(cache)
    assert len(kept) == compiled_schema.KEPT
    assert compiled_schema.cache_file(schema._schema_bytes()) in map(str, kept)
    assert not (cache / "old0.marshal").exists()
