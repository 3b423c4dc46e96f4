"""A run's in-toto Statement v1 with an SLSA Provenance v1 predicate, built with the
in-toto-attestation package (its protobuf messages; JSON by protobuf's json_format).

Fed by typed records only: the Plan, the run's record (RunRecord, gathered from its events by
the sink) and the materials (materials.py). Nothing here reads the manifest stage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import platform
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
    from google.protobuf import json_format
    from google.protobuf.timestamp_pb2 import Timestamp
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    def descriptor(material: Material) -> Any:
        return ResourceDescriptor(
            name=material.name,
            digest={"sha256": material.sha256},
            annotations={"kind": material.kind},
        ).pb

    results = json.dumps(
        {"runId": run.run_id, "status": run.status, "tasks": dict(sorted(run.tasks.items()))},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    results_descriptor = ResourceDescriptor(
        name=RESULTS_NAME,
        digest={"sha256": hashlib.sha256(results).hexdigest()},
        content=results,
        media_type="application/json",
    ).pb
    byproducts = [results_descriptor]
    for gate in run.gates:
        annotations: dict[str, Any] = {"gate": gate.name, "status": gate.status}
        annotations["counts"] = dict(gate.counts)
        sarif_digest = _sha256_or_none(gate.sarif) if gate.sarif else None
        if gate.sarif and sarif_digest:
            byproducts.append(
                ResourceDescriptor(
                    name=gate.sarif,
                    digest={"sha256": sarif_digest},
                    media_type="application/sarif+json",
                    annotations=annotations,
                ).pb
            )
        else:
            byproducts.append(
                ResourceDescriptor(
                    name=f"gate:{gate.name}",
                    content=json.dumps(annotations, sort_keys=True).encode(),
                    media_type="application/json",
                    annotations=annotations,
                ).pb
            )

    started, finished = Timestamp(), Timestamp()
    started.FromNanoseconds(int(run.started_at * 1e9))
    finished.FromNanoseconds(int(run.finished_at * 1e9))
    ci = identity.ci
    invocation = run.run_id if ci is None or not ci.job_url else f"{ci.job_url}#{run.run_id}"
    builder_id = f"{BUILDER_ID}?engine={__version__}&host={identity.host}"
    if ci is not None:
        builder_id += f"&ci={ci.system}"
    external: dict[str, Any] = {"manifest": plan.manifest_path, "params": dict(run.params)}
    if run.resumed_from:
        external["resumedFrom"] = run.resumed_from
    predicate = provenance_pb2.Provenance()
    definition = predicate.build_definition
    definition.build_type = BUILD_TYPE
    definition.external_parameters.update(external)
    definition.internal_parameters.update(dict(settings or {}))
    definition.resolved_dependencies.extend(descriptor(m) for m in dependencies)
    details = predicate.run_details
    details.builder.id = builder_id
    details.builder.version.update({"psr-engine": __version__, "python": platform.python_version()})
    details.metadata.invocation_id = invocation
    details.metadata.started_on.CopyFrom(started)
    details.metadata.finished_on.CopyFrom(finished)
    details.byproducts.extend(byproducts)

    subjects = [descriptor(m) for m in outputs]
    if not subjects:
        # A Statement needs a subject; a run that declared no output files attests its own
        # results (the byproduct above, carried in full).
        subjects = [results_descriptor]
    predicate_dict = _integral(json_format.MessageToDict(predicate))
    statement = Statement(subjects, PREDICATE_TYPE, predicate_dict)
    statement.validate()
    out: dict[str, Any] = _integral(json_format.MessageToDict(statement.pb))
    return out


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
