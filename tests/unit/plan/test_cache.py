"""The plan cache (plan/cache.py): a hit gives the Plan compiled before, equal; a file of
another plan format, or one that cannot be read, is compiled afresh and replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine import api
from psr_engine.plan import cache
from psr_engine.plan.model import Plan

MANIFEST = """apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: cached}
spec:
  sinks: [{type: jsonl, path: events.jsonl}]
  tasks:
    a: {run: echo a}
"""


@pytest.fixture
def cached(tmp_path: Path, monkeypatch) -> tuple[Path, Plan, str]:
    """A manifest compiled through the cache: its path, its Plan, its key."""
    monkeypatch.delenv("PSR_STATE_DIR", raising=False)
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    plan = api.make_plan_cached(str(path))
    key = cache.plan_key(str(path))
    assert key is not None
    return path, plan, key


def test_a_hit_gives_the_same_plan(cached, tmp_path: Path):
    path, first, key = cached
    stored = Path(cache.cache_path(str(path), key))
    assert stored.parent == tmp_path / ".psr" / "plans"
    assert cache.load_cached(str(path), key) == first
    assert api.make_plan_cached(str(path)) == first


def test_a_plan_of_another_format_is_compiled_afresh(cached):
    path, plan, key = cached
    stored = Path(cache.cache_path(str(path), key))
    old = json.loads(stored.read_text())
    old["format"] = 1
    old["sinks"] = [{"type": "something-else"}]
    stored.write_text(json.dumps(old))
    assert cache.load_cached(str(path), key) is None
    assert api.make_plan_cached(str(path)) == plan
    assert json.loads(stored.read_text())["format"] == plan.format


def test_params_are_part_of_the_key(tmp_path: Path):
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    assert cache.plan_key(str(path), params={"n": 1}) != cache.plan_key(str(path))
    assert cache.plan_key(str(tmp_path / "missing.yaml")) is None
