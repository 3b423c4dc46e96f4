"""Saved plans (`plan -o plan.json`): a reviewable, deterministic record of what a run will
do, that `apply plan.json` runs exactly, or refuses when what it was made from changed.

The document holds the manifest's path (relative to the plan file) and sha256, the params,
the engine version, every task instance (its command with the values known before the run
filled in, working folder, env names, secrets by name and provider, resources, retries,
timeout, needs, and the files it references), the gates and settings, the cost projection,
the sha256 of every file the plan depends on (materials.py), and the compiled Plan itself.
Keys are sorted and the layout fixed, so two plans diff line by line in a pull request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from psr_engine._version import __version__
from psr_engine.errors import PlanStale, ProvenanceError
from psr_engine.plan.model import Plan, PlannedTask
from psr_engine.provenance.materials import Material, base_dir, dependencies, display_name

FORMAT = "psr-engine/saved-plan/v1"
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def is_saved_plan(path: str) -> bool:
    """A JSON file whose `format` is a saved plan's (read only when the name ends in .json)."""
    if not path.endswith(".json") or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return f'"format": "{FORMAT}"' in head


def document(
    plan: Plan,
    *,
    out_path: str,
    cost: Mapping[str, Any] | None = None,
    materials: tuple[Material, ...] | None = None,
) -> dict[str, Any]:
    """The saved plan of `plan`, to be written at `out_path` (paths are relative to it)."""
    files = dependencies(plan) if materials is None else materials
    base = base_dir(plan)
    by_path = {m.path: m.name for m in files}
    out_dir = os.path.dirname(os.path.abspath(out_path))
    return {
        "format": FORMAT,
        "engineVersion": __version__,
        "workflow": plan.workflow,
        "manifest": {
            "path": os.path.relpath(plan.manifest_path, out_dir),
            "sha256": plan.manifest_digest,
        },
        "params": plan.params,
        "files": {m.name: {"kind": m.kind, "sha256": m.sha256} for m in files},
        "secrets": [{"name": s.name, "provider": s.provider} for s in plan.secrets],
        "gates": [_gate(g) for g in plan.gates],
        "settings": {
            "concurrency": plan.concurrency,
            "capacity": plan.capacity.to_dict(),
            "executor": plan.executor.to_dict(),
            "sinks": [s.type for s in plan.sinks],
            "tracing": plan.tracing is not None,
            "cost": plan.cost.to_dict() if plan.cost else None,
            "provenance": plan.provenance,
        },
        "tasks": {t.id: _task(plan, t, base, by_path) for t in (*plan.tasks, *plan.on_exit)},
        "costProjection": dict(cost) if cost else None,
        "plan": plan.to_dict(),
    }


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _gate(gate: Any) -> dict[str, Any]:
    return {
        "name": gate.name,
        "type": gate.type,
        "failOn": gate.fail_on,
        "paths": list(gate.paths),
        "tools": list(gate.tools),
        "requirements": list(gate.requirements),
        "baseline": gate.baseline,
        "sarif": gate.sarif,
        "options": dict(gate.options),
    }


def _task(plan: Plan, task: PlannedTask, base: str, by_path: Mapping[str, str]) -> dict[str, Any]:
    root = task.workdir or base
    context = {"params": plan.params, "matrix": task.matrix, "workflow": {"name": plan.workflow}}
    referenced = sorted(
        name
        for path, name in by_path.items()
        if _mentions(task, path, root) and name != display_name(base, plan.manifest_path)
    )
    out: dict[str, Any] = {
        "task": task.task,
        "kind": task.kind,
        "command": _rendered(task.command, context) if task.kind != "script" else task.command,
        "args": [_rendered(a, context) for a in task.args],
        "cwd": display_name(base, root) if root != base else ".",
        "env": sorted(task.env),
        "secrets": sorted(task.secrets),
        "resources": task.resources.to_dict(),
        "retries": task.retries.to_dict(),
        "timeout": task.timeout,
        "needs": list(task.needs),
        "when": task.when,
        "trigger": task.trigger,
        "files": referenced,
        "onExit": task.on_exit,
    }
    if task.cache is not None:
        out["cache"] = {k: list(v) for k, v in sorted(task.cache.items())}
    if task.gate is not None:
        out["gate"] = _gate(task.gate)
    return out


def _mentions(task: PlannedTask, path: str, root: str) -> bool:
    """Whether `task` references the file at `path` (its script, a word, a cache input)."""
    relative = os.path.relpath(path, root)
    text = " ".join((task.command, *task.args))
    if relative in text or path in text:
        return True
    if task.cache:
        import fnmatch

        return any(fnmatch.fnmatch(relative, p) for p in task.cache.get("inputs", ()))
    return False


def _rendered(text: str, context: Mapping[str, Any]) -> str:
    """`text` with each expression that params and matrix decide replaced by its value; the
    rest (task outputs, secrets, run facts) is left as written: a secret's value is never
    known to a plan, only its name."""
    from psr_engine import expressions
    from psr_engine.errors import ExpressionError

    def one(match: re.Match[str]) -> str:
        if "secrets" in match.group(1):
            return match.group(0)
        try:
            value = expressions.evaluate(match.group(0), context)
        except (ExpressionError, TypeError, ValueError, KeyError):
            return match.group(0)
        return value if isinstance(value, str) else json.dumps(value)

    return _EXPRESSION.sub(one, text)


# -- apply plan.json ------------------------------------------------------------------------


def load(path: str, *, params: Mapping[str, Any] | None = None) -> Plan:
    """The Plan saved in `path`, re-rooted where the manifest now is; PlanStale listing every
    difference when the manifest, a file, the params or the engine version changed."""
    doc = _read(path)
    plan_dir = os.path.dirname(os.path.abspath(path))
    manifest = os.path.normpath(os.path.join(plan_dir, str(doc["manifest"]["path"])))
    try:
        plan = Plan.from_dict(doc["plan"])
    except (ValueError, TypeError, KeyError) as error:
        raise ProvenanceError(f"{path}: its plan cannot be read ({error})") from None
    plan = _rerooted(plan, manifest)
    differences: list[str] = []
    if doc.get("engineVersion") != __version__:
        differences.append(
            f"engine version: planned with {doc.get('engineVersion')}, this is {__version__}"
        )
    if params:
        for key in sorted(set(params) | set(plan.params)):
            if key in params and str(params[key]) != str(plan.params.get(key)):
                differences.append(
                    f"param {key}: planned {plan.params.get(key)!r}, given {params[key]!r}"
                )
    now = {m.name: m for m in dependencies(plan)}
    recorded: Mapping[str, Mapping[str, str]] = {
        name: entry for name, entry in doc["files"].items() if isinstance(entry, dict)
    }
    for name in sorted(set(now) | set(recorded)):
        before, after = recorded.get(name), now.get(name)
        if before is None and after is not None:
            differences.append(f"{after.kind} {name}: new since the plan was made")
        elif after is None and before is not None:
            differences.append(
                f"{before.get('kind')} {name}: missing (planned sha256 "
                f"{str(before.get('sha256'))[:12]}…)"
            )
        elif before is not None and after is not None and before.get("sha256") != after.sha256:
            differences.append(
                f"{after.kind} {name}: changed (planned sha256 {str(before.get('sha256'))[:12]}…, "
                f"now {after.sha256[:12]}…)"
            )
    if differences:
        listed = "\n".join(f"  - {d}" for d in differences)
        raise PlanStale(
            f"{path}: the saved plan is stale; {len(differences)} difference(s) from what it "
            f"was made from:\n{listed}\nmake and review a new one: psr-engine plan "
            f"{os.path.relpath(manifest)} -o {os.path.relpath(path)}",
            differences,
        )
    return plan


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except OSError as error:
        raise ProvenanceError(f"{path}: {error.strerror}") from None
    except ValueError as error:
        raise ProvenanceError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProvenanceError(
            f"{path}: not a saved plan (format {FORMAT}); make one with "
            "psr-engine plan -o plan.json"
        )
    manifest = doc.get("manifest")
    broken = [
        key
        for key, ok in (
            ("manifest.path", isinstance(manifest, dict) and isinstance(manifest.get("path"), str)),
            ("plan", isinstance(doc.get("plan"), dict)),
            ("files", isinstance(doc.get("files"), dict)),
            ("tasks", isinstance(doc.get("tasks"), dict)),
        )
        if not ok
    ]
    if broken:
        raise ProvenanceError(
            f"{path}: a damaged saved plan ({', '.join(broken)} missing or of the wrong type); "
            "make a new one with psr-engine plan -o plan.json"
        )
    return doc


def _rerooted(plan: Plan, manifest: str) -> Plan:
    """The plan's paths moved from where it was made to where its manifest is now (a plan
    reviewed on a laptop and applied in CI's checkout)."""
    old, new = base_dir(plan), os.path.dirname(manifest)
    if old == new:
        return plan

    def moved(path: str) -> str:
        if path == old or path.startswith(old + os.sep):
            return new + path[len(old) :]
        return path

    def task(t: PlannedTask) -> PlannedTask:
        return dataclasses.replace(t, workdir=moved(t.workdir))

    return dataclasses.replace(
        plan,
        manifest_path=manifest,
        tasks=tuple(task(t) for t in plan.tasks),
        on_exit=tuple(task(t) for t in plan.on_exit),
    )


# -- plan --diff ----------------------------------------------------------------------------


def read(path: str) -> dict[str, Any]:
    return _read(path)


def from_run(statement_path: str) -> dict[str, Any]:
    """What a run's provenance statement (or its envelope) says of what the run was made
    from, in a saved plan's terms: the engine version, params, manifest and files. A
    statement holds no tasks: a diff against it compares those only."""
    from psr_engine.provenance.signing import open_document

    try:
        with open(statement_path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise ProvenanceError(f"{statement_path}: cannot be read ({error})") from None
    if not isinstance(document, dict):
        raise ProvenanceError(f"{statement_path}: not a provenance statement")
    statement = open_document(document, None).statement
    predicate = _dict(statement.get("predicate"))
    definition = _dict(predicate.get("buildDefinition"))
    builder = _dict(_dict(predicate.get("runDetails")).get("builder"))
    files: dict[str, Any] = {}
    manifest_sha = None
    for item in definition.get("resolvedDependencies") or []:
        if not isinstance(item, dict):
            continue
        kind = _dict(item.get("annotations")).get("kind")
        sha = _dict(item.get("digest")).get("sha256")
        files[str(item.get("name"))] = {"kind": kind, "sha256": sha}
        if kind == "manifest" and manifest_sha is None:
            manifest_sha = sha
    return {
        "engineVersion": _dict(builder.get("version")).get("psr-engine"),
        "params": _dict(_dict(definition.get("externalParameters")).get("params")),
        "manifest": {"sha256": manifest_sha},
        "files": files,
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed from `old` to `new`, task by task, as lines a reviewer reads. Of an `old`
    read from a run's statement (`from_run`), only what it holds is compared."""
    lines: list[str] = []
    for key in ("engineVersion", "workflow", "params", "secrets", "gates", "settings"):
        if key in old and old.get(key) != new.get(key):
            lines.append(f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}")
    if (old.get("manifest") or {}).get("sha256") != (new.get("manifest") or {}).get("sha256"):
        lines.append("manifest: changed")
    old_files, new_files = old.get("files") or {}, new.get("files") or {}
    for name in sorted(set(old_files) | set(new_files)):
        a, b = old_files.get(name), new_files.get(name) or {}
        if a is None:
            lines.append(f"+ file {name} ({b.get('kind')})")
        elif not b:
            lines.append(f"- file {name} ({a.get('kind')})")
        elif a.get("sha256") != b.get("sha256"):
            lines.append(
                f"~ file {name}: sha256 {str(a.get('sha256'))[:12]}… -> "
                f"{str(b.get('sha256'))[:12]}…"
            )
    if "tasks" not in old:
        return lines
    old_tasks, new_tasks = old.get("tasks") or {}, new.get("tasks") or {}
    for task_id in sorted(set(old_tasks) | set(new_tasks)):
        a, b = old_tasks.get(task_id), new_tasks.get(task_id) or {}
        if a is None:
            lines.append(f"+ task {task_id}: {b.get('command', '')}")
        elif not b:
            lines.append(f"- task {task_id}")
        elif a != b:
            lines.append(f"~ task {task_id}")
            for field in sorted(set(a) | set(b)):
                if a.get(field) != b.get(field):
                    lines.append(f"    {field}: {_short(a.get(field))} -> {_short(b.get(field))}")
    if old.get("costProjection") != new.get("costProjection"):
        lines.append("costProjection: changed")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
