"""100 applies at once append to one audit trail without losing or interleaving entries."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

TWO_TASKS = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata: {name: two}
spec:
  tasks:
    first: {run: "true"}
    second: {run: "true", needs: first}
"""


def _apply(manifest: str) -> int:
    from psr_engine import api

    plan = api.make_plan(manifest)
    sinks = api.build_sinks(plan, console=False)
    return int(api.run(plan, sinks=sinks).exit_code)


def _warm(tmp: Path) -> None:
    """One apply elsewhere first: the forked children inherit the imports (and skip 100
    imports of the engine on 2 cores), not the trail."""
    warm = tmp / "warm"
    warm.mkdir()
    (warm / "workflow.yaml").write_text(TWO_TASKS)
    assert _apply(str(warm / "workflow.yaml")) == 0


@pytest.mark.slow
def test_100_concurrent_applies_leave_100_apply_entries_and_a_chain_that_verifies(
    tmp_path: Path,
) -> None:
    from psr_engine.provenance.audit import AuditLog

    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(TWO_TASKS)
    # Forked processes, each a whole apply (plan, run, sinks) contending for the trail's lock:
    # real processes without 100 interpreter start-ups on a 2-core machine. The history is
    # off: this pins the audit trail, not SQLite's busy timeout under 100 writers.
    os.environ["PSR_HISTORY"] = "0"
    try:
        _warm(tmp_path)
        with multiprocessing.get_context("fork").Pool(100) as pool:
            codes = pool.map(_apply, [str(manifest)] * 100, chunksize=1)
    finally:
        del os.environ["PSR_HISTORY"]
    assert codes == [0] * 100
    log = AuditLog(str(tmp_path / ".psr"))
    entries = [e for _, e, _ in log.entries()]
    assert len(entries) == 100
    assert [e["action"] for e in entries] == ["apply"] * 100
    assert len({e["runId"] for e in entries}) == 100
    assert [e["seq"] for e in entries] == list(range(1, 101))
    assert log.verify() == []
