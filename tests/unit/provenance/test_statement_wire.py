"""The statement is written without protobuf (start-up), so it is checked here against the
in-toto-attestation package's own messages: parsed into them and written back by protobuf's
json_format, it must come out identical, and the package's Statement must validate it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from psr_engine.plan.model import Plan
from psr_engine.provenance.identity import CiIdentity, Identity
from psr_engine.provenance.materials import Material
from psr_engine.provenance.statement import (
    GateRecord,
    RunRecord,
    _integral,
    build_statement,
    engine_settings,
)

PLAN = Plan(
    workflow="w", manifest_path="/p/workflow.yaml", manifest_digest="d", params={}, tasks=()
)
SHA = "a" * 64


def _through_protobuf(statement: dict[str, Any]) -> dict[str, Any]:
    message = json_format.ParseDict(statement, statement_pb2.Statement())
    Statement(
        list(message.subject), message.predicate_type, json_format.MessageToDict(message.predicate)
    ).validate()
    predicate = json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    back: dict[str, Any] = _integral(json_format.MessageToDict(message))
    back["predicate"] = _integral(json_format.MessageToDict(predicate))
    return back


CASES = {
    "plain": {},
    "outputs, gates, ci, resumed": {
        "outputs": [Material("build/a.txt", "/p/build/a.txt", "output", SHA)],
        "gates": (
            GateRecord("code", "passed", {"high": 0, "low": 2}),
            GateRecord("deps", "blocked", {"critical": 1}, sarif="gates/deps.sarif"),
        ),
        "ci": CiIdentity("github", job_url="https://ci/job/7", repository="o/r"),
        "resumed_from": "20260101-000000-abcdef",
    },
    "no settings, whole seconds": {"settings": None, "started": 1_700_000_000.0},
    "microseconds": {"started": 1_700_000_000.123456, "finished": 1_700_000_001.5},
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_statement_is_what_the_in_toto_messages_write(case: str, tmp_path: Path) -> None:
    given = CASES[case]
    sarif = tmp_path / "gates" / "deps.sarif"
    sarif.parent.mkdir()
    sarif.write_text("{}")
    gates = tuple(
        GateRecord(g.name, g.status, g.counts, str(sarif) if g.sarif else None)
        for g in given.get("gates", ())
    )
    run = RunRecord(
        run_id="20261207-120000-0a1b2c",
        status="succeeded",
        started_at=given.get("started", 1_765_108_800.25),
        finished_at=given.get("finished", 1_765_108_802.000001),
        params={"region": "eu", "n": 3, "ratio": 0.5, "on": True},
        tasks={"b": "succeeded", "a": "failed"},
        gates=gates,
        resumed_from=given.get("resumed_from"),
    )
    statement = build_statement(
        PLAN,
        run,
        dependencies=[Material("workflow.yaml", "/p/workflow.yaml", "manifest", SHA)],
        outputs=given.get("outputs", []),
        identity=Identity(user="u", host="h", ci=given.get("ci")),
        settings=given.get("settings", engine_settings(PLAN, history=True, state_dir="/p/.psr")),
    )
    assert statement == _through_protobuf(statement)
