"""Provenance: what ran, on what, producing what, and who asked for it.

    audit.py        the hash-chained audit trail (.psr/audit.jsonl) and its verification
    audit_sink.py   the sink writing a run's entries: apply/resume, secrets, gates, budget, cancel
    identity.py     user, host and CI job identity
    materials.py    the files a plan references (manifest, scripts, lock files, inputs) and the
                    files its tasks declared as outputs, with their sha256
    statement.py    the in-toto Statement v1 / SLSA Provenance v1 of a run
    sink.py         the sink that writes it at the run's end
    signing.py      DSSE envelopes (securesystemslib), keys, signature checks
    verify.py       re-hashing subjects and dependencies, checking signatures
    saved_plan.py   `plan -o plan.json`: the reviewable plan, its diff and its staleness check

Nothing here is imported at start-up: the facade builds the sinks when a run starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ENV_SWITCH = "PSR_PROVENANCE"


def enabled(plan_provenance: bool, environ: Mapping[str, str] | None = None) -> bool:
    """The one rule: `spec.provenance: false` or PSR_PROVENANCE=0 turns provenance and the
    audit trail off; both are on otherwise."""
    env = os.environ if environ is None else environ
    return plan_provenance and env.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no")
