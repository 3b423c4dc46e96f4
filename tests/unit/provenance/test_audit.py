"""The audit trail's hash chain: appends chain, and verify names each tampered entry."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from psr_engine.provenance.audit import GENESIS, AuditLog, AuditRecord


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(str(tmp_path))
    for i in range(n):
        log.append([AuditRecord("apply", run_id=f"run-{i}", details={"i": i})])
    return log


def _lines(log: AuditLog) -> list[str]:
    return Path(log.path).read_text().splitlines(keepends=True)


def test_each_entry_holds_the_hash_of_the_one_before(tmp_path: Path) -> None:
    log = _log(tmp_path)
    entries = [e for _, e, _ in log.entries()]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"]
    assert log.verify() == []


def test_an_edited_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["runId"] = "someone-else"
    lines[2] = json.dumps(entry) + "\n"
    Path(log.path).write_text("".join(lines))
    problems = log.verify()
    assert [(p.line, p.seq, p.kind) for p in problems] == [(3, 3, "edited")]


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(tmp_path: Path) -> None:
    from psr_engine.provenance.audit import entry_hash

    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[1])
    entry["runId"] = "forged"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry) + "\n"
    Path(log.path).write_text("".join(lines))
    problems = log.verify()
    assert [(p.line, p.seq, p.kind) for p in problems] == [(3, 3, "edited")]
    assert "prev" in problems[0].message


def test_a_removed_entry_is_named_by_its_seq(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[1]
    Path(log.path).write_text("".join(lines))
    problems = log.verify()
    assert [(p.line, p.seq, p.kind) for p in problems] == [(2, 3, "removed")]
    assert "seq 2 missing" in problems[0].message


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    Path(log.path).write_text("".join(lines))
    kinds = [(p.line, p.seq, p.kind) for p in log.verify()]
    assert (3, 2, "reordered") in kinds


def test_entries_removed_from_the_end_are_caught_by_the_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    Path(log.path).write_text("".join(lines[:3]))
    problems = log.verify()
    assert [p.kind for p in problems] == ["removed"]
    assert "seq 3" in problems[0].message and "seq 5" in problems[0].message


def test_several_records_are_appended_as_consecutive_entries(tmp_path: Path) -> None:
    log = _log(tmp_path, 1)
    written = log.append([AuditRecord("apply"), AuditRecord("secret", details={"name": "T"})])
    assert [e["seq"] for e in written] == [2, 3]
    assert log.verify() == []
