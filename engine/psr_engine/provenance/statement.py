"""A run's in-toto Statement v1 with an SLSA Provenance v1 predicate, in the JSON form the
in-toto-attestation package's protobuf messages give (json_format), written out directly:
importing protobuf cost every `apply` ~15 ms of CPU for one small document. A test builds
the same statement through the package's messages and requires the two to be identical.

Fed by typed records only: the Plan, the run's record (RunRecord, gathered from its events by
the sink) and the materials (materials.py). Nothing here reads the manifest stage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psr_engine._version import __version__
from psr_engine.plan.model import Plan
from psr_engine.provenance.identity import Identity
from psr_engine.provenance.materials import Material

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://psr-engine.dev/workflow/v1"
BUILDER_ID = "https://psr-engine.dev/builder/v1"
STATEMENT_FILE = "provenance.intoto.json"
RESULTS_NAME = "psr-run-results.json"

# platform.python_version() without importing platform (its regexes cost every apply):
# the first word of sys.version is that same string, "3.11.7" or "3.13.0rc1".
_PYTHON_VERSION = sys.version.split()[0]


@dataclass(frozen=True, slots=True)
class GateRecord:
    name: str
    status: str
    counts: Mapping[str, int] = field(default_factory=dict)
    sarif: str | None = None  # path of the SARIF file the gate wrote


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What the statement says about the run itself."""

    run_id: str
    status: str
    started_at: float
    finished_at: float
    params: Mapping[str, Any]  # as the run's events carry them: masked
    tasks: Mapping[str, str]  # instance id -> final status
    gates: tuple[GateRecord, ...] = ()
    resumed_from: str | None = None
    saved_plan: Mapping[str, str] | None = None  # {path, sha256} of the reviewed plan applied


def build_statement(
    plan: Plan,
    run: RunRecord,
    *,
    dependencies: Sequence[Material],
    outputs: Sequence[Material],
    identity: Identity,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The statement as a JSON-ready mapping (the in-toto wire form)."""

    def descriptor(material: Material) -> dict[str, Any]:
        return _descriptor(
            name=material.name,
            digest={"sha256": material.sha256},
            annotations={"kind": material.kind},
        )

    results = json.dumps(
        {"runId": run.run_id, "status": run.status, "tasks": dict(sorted(run.tasks.items()))},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    results_descriptor = _descriptor(
        name=RESULTS_NAME,
        digest={"sha256": hashlib.sha256(results).hexdigest()},
        content=results,
        media_type="application/json",
    )
    byproducts = [results_descriptor]
    for gate in run.gates:
        annotations: dict[str, Any] = {"gate": gate.name, "status": gate.status}
        annotations["counts"] = dict(gate.counts)
        sarif_digest = _sha256_or_none(gate.sarif) if gate.sarif else None
        if gate.sarif and sarif_digest:
            byproducts.append(
                _descriptor(
                    name=gate.sarif,
                    digest={"sha256": sarif_digest},
                    media_type="application/sarif+json",
                    annotations=annotations,
                )
            )
        else:
            byproducts.append(
                _descriptor(
                    name=f"gate:{gate.name}",
                    content=json.dumps(annotations, sort_keys=True).encode(),
                    media_type="application/json",
                    annotations=annotations,
                )
            )

    ci = identity.ci
    invocation = run.run_id if ci is None or not ci.job_url else f"{ci.job_url}#{run.run_id}"
    builder_id = f"{BUILDER_ID}?engine={__version__}&host={identity.host}"
    if ci is not None:
        builder_id += f"&ci={ci.system}"
    external: dict[str, Any] = {"manifest": plan.manifest_path, "params": dict(run.params)}
    if run.resumed_from:
        external["resumedFrom"] = run.resumed_from
    if run.saved_plan:
        external["savedPlan"] = dict(run.saved_plan)
    definition: dict[str, Any] = {"buildType": BUILD_TYPE, "externalParameters": external}
    if settings:
        definition["internalParameters"] = dict(settings)
    resolved = [descriptor(m) for m in dependencies]
    if resolved:
        definition["resolvedDependencies"] = resolved
    metadata: dict[str, Any] = {
        "invocationId": invocation,
        "startedOn": _timestamp(run.started_at),
        "finishedOn": _timestamp(run.finished_at),
    }
    predicate = {
        "buildDefinition": definition,
        "runDetails": {
            "builder": {
                "id": builder_id,
                "version": {"psr-engine": __version__, "python": _PYTHON_VERSION},
            },
            "metadata": metadata,
            "byproducts": byproducts,
        },
    }
    # A Statement needs a subject; a run that declared no output files attests its own
    # results (the byproduct above, carried in full).
    subjects = [descriptor(m) for m in outputs] or [results_descriptor]
    out: dict[str, Any] = _integral(
        {
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }
    )
    return out


def _descriptor(
    *,
    name: str,
    digest: Mapping[str, str] | None = None,
    content: bytes | None = None,
    media_type: str | None = None,
    annotations: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ResourceDescriptor as json_format writes it: set fields only, bytes in base64."""
    out: dict[str, Any] = {"name": name}
    if digest:
        out["digest"] = dict(digest)
    if content:
        out["content"] = base64.b64encode(content).decode()
    if media_type:
        out["mediaType"] = media_type
    if annotations:
        out["annotations"] = dict(annotations)
    return out


def _timestamp(seconds: float) -> str:
    """A protobuf Timestamp in JSON: RFC 3339 in UTC, 0, 3, 6 or 9 fractional digits."""
    nanos_total = int(seconds * 1e9)
    whole, nanos = divmod(nanos_total, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if nanos == 0:
        return text + "Z"
    if nanos % 1_000_000 == 0:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if nanos % 1000 == 0:
        return f"{text}.{nanos // 1000:06d}Z"
    return f"{text}.{nanos:09d}Z"


def engine_settings(plan: Plan, *, history: bool, state_dir: str) -> dict[str, Any]:
    """internalParameters: how the engine was set up for the run."""
    return {
        "concurrency": plan.concurrency,
        "capacity": plan.capacity.to_dict(),
        "executor": plan.executor.type,
        "gates": [{"name": g.name, "type": g.type, "failOn": g.fail_on} for g in plan.gates],
        "tracing": plan.tracing is not None,
        "cost": plan.cost is not None,
        "history": history,
        "stateDir": state_dir,
    }


def results_content(statement: Mapping[str, Any]) -> bytes | None:
    """The run's results byproduct, decoded (what `verify` re-hashes)."""
    for item in statement.get("predicate", {}).get("runDetails", {}).get("byproducts", []):
        if item.get("name") == RESULTS_NAME and "content" in item:
            return base64.b64decode(item["content"])
    return None


def _sha256_or_none(path: str) -> str | None:
    from psr_engine.provenance.materials import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return None


def _integral(value: Any) -> Any:
    """protobuf's Struct holds every number as a double: give whole numbers back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value
