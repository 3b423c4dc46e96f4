"""manifests/examples/provenance.yaml does what its comment and docs/features/provenance.md
say: plan, apply the reviewed plan, verify the run, verify the audit trail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "examples"


def test_the_provenance_example_walks_plan_apply_verify(ws) -> None:
    shutil.copytree(EXAMPLES, ws.root, dirs_exist_ok=True)
    assert ws.cli("plan", "provenance.yaml", "-o", "plan.json").code == 0
    applied = ws.cli("apply", "plan.json")
    assert applied.code == 0, applied.stdout + applied.stderr
    verified = ws.cli("verify", "last")
    assert verified.code == 0, verified.stderr
    (statement,) = (ws.root / ".psr" / "runs").glob("*/provenance.intoto.json")
    subjects = [s["name"] for s in json.loads(statement.read_text())["subject"]]
    assert subjects == ["dist/SHA256SUMS", "dist/report.txt"]
    assert ws.cli("audit", "verify").code == 0
    (ws.root / "dist" / "report.txt").write_text("edited\n")
    assert ws.cli("verify", "last").code == 1
