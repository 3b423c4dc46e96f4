"""The plan cache (plan/cache.py): a hit gives the Plan compiled before, equal; a file of
another plan format, or one that cannot be read, is compiled afresh and replaced; a plan
given values on the command line is stored sealed, never as JSON."""

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
  params:
    n: {type: integer, default: 1}
  sinks: [{type: jsonl, path: events.jsonl}]
  tasks:
    a: {run: 'echo ${{ params.n }}'}
"""


@pytest.fixture
def cached(tmp_path: Path, monkeypatch) -> tuple[Path, Plan, cache.CacheEntry]:
    """A manifest compiled through the cache: its path, its Plan, its cache entry."""
    monkeypatch.delenv("PSR_STATE_DIR", raising=False)
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    plan = api.make_plan_cached(str(path))
    entry = cache.entry_for(str(path))
    assert entry is not None
    return path, plan, entry


def test_a_hit_gives_the_same_plan(cached, tmp_path: Path):
    path, first, entry = cached
    assert Path(entry.file).parent == tmp_path / ".psr" / "plans"
    assert not entry.sealed
    assert cache.load_cached(entry) == first
    assert api.make_plan_cached(str(path)) == first


def test_a_plan_of_another_format_is_compiled_afresh(cached):
    path, plan, entry = cached
    stored = Path(entry.file)
    old = json.loads(stored.read_text())
    old["plan"]["format"] = 1
    old["plan"]["sinks"] = [{"type": "something-else"}]
    stored.write_text(json.dumps(old))
    assert cache.load_cached(entry) is None
    assert api.make_plan_cached(str(path)) == plan
    assert json.loads(stored.read_text())["plan"]["format"] == plan.format


def test_an_entry_of_the_earlier_shape_is_compiled_afresh(cached):
    """Generation 2 stored the bare plan; that entry's key is another one now, and a file of
    that shape under the new key is not a plan either."""
    path, plan, entry = cached
    Path(entry.file).write_text(plan.to_json())
    assert cache.load_cached(entry) is None
    assert api.make_plan_cached(str(path)) == plan


def test_a_hit_brings_the_task_digests_without_hashing_again(cached, monkeypatch):
    from psr_engine.plan import digest

    _path, first, entry = cached
    made = [digest.task_digest(t) for t in first.tasks]
    hashed: list[object] = []
    real = digest._ENCODER.encode
    monkeypatch.setattr(
        digest, "_ENCODER", type("E", (), {"encode": lambda _, v: (hashed.append(v), real(v))[1]})()
    )
    hit = cache.load_cached(entry)
    assert hit is not None and [digest.task_digest(t) for t in hit.tasks] == made
    assert hashed == []


def test_stored_digests_that_do_not_fit_the_plan_are_made_again(cached):
    from psr_engine.plan import digest

    _path, first, entry = cached
    made = [digest.task_digest(t) for t in first.tasks]
    stored = Path(entry.file)
    for wrong in (["0" * 32, "1" * 32], ["not a digest"], "abc", 7):
        form = json.loads(stored.read_text())
        form["digests"] = wrong
        stored.write_text(json.dumps(form))
        hit = cache.load_cached(entry)
        assert hit is not None and [digest.task_digest(t) for t in hit.tasks] == made


def test_params_are_part_of_the_key_and_seal_the_entry(tmp_path: Path):
    path = tmp_path / "workflow.yaml"
    path.write_text(MANIFEST)
    plain, given = cache.entry_for(str(path)), cache.entry_for(str(path), params={"n": 2})
    assert plain is not None and given is not None
    assert plain.file != given.file
    assert given.sealed and given.file.endswith(".sealed")
    assert cache.entry_for(str(tmp_path / "missing.yaml")) is None
    # A sealed entry is neither written nor read without the facade's seal and unseal.
    plan = api.make_plan(str(path), params={"n": 2})
    cache.store_cached(given, plan)
    assert not Path(given.file).exists()
    assert cache.load_cached(given) is None


def test_the_compact_form_keeps_a_value_equal_to_its_default_but_of_another_type(cached):
    """10 == 10.0, but a digest hashes the fields' JSON: a task whose kill_grace is the int 10
    comes back an int, with the digest it had, even when no digest is stored with it."""
    from dataclasses import replace

    from psr_engine.plan import digest

    _path, first, _entry = cached
    task = replace(first.tasks[0], kill_grace=10)
    plan = replace(first, tasks=(task,))
    back = Plan.from_json(plan.to_json(compact=True))
    assert type(back.tasks[0].kill_grace) is int
    assert digest.task_digest(back.tasks[0]) == digest.task_digest(task)
