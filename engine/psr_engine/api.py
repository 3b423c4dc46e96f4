"""The facade: the one module that knows every stage. The CLI and Python users go through it.

load(path)                      -> Manifest         (manifest/)
compile(path, params=...)       -> Plan             (manifest/ + plan/)
validate(path)                  -> ValidationResult (both, never raising for bad input)
run(plan, ...)                  -> RunResult        (run/, events/, sinks)  [async: arun]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psr_engine.errors import DiagnosedError, Diagnostic

if TYPE_CHECKING:
    from psr_engine.manifest.model import Manifest, ParamSpec
    from psr_engine.plan.model import Plan


@dataclass(frozen=True, slots=True)
class ValidationResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    # Not errors (the file is valid): e.g. a task mentioning a secret it is not granted.
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "valid": self.ok,
            "tasks": len(self.plan.tasks) if self.plan else 0,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def load(path: str) -> Manifest:
    """Read, schema-check and build a manifest; ManifestError lists every problem found."""
    from psr_engine.manifest import load_manifest

    return load_manifest(path)


def _not_a_mapping(path: str) -> Exception:
    from psr_engine.errors import ManifestError

    return ManifestError(
        Diagnostic(path, 1, 1, "a params file must be a mapping of param names to values")
    )


def resolve_params(
    manifest: Manifest,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
) -> dict[str, Any]:
    """Merge a params file and -p values (the latter win) and type-check them."""
    from psr_engine.manifest import resolve_params as _resolve

    given: dict[str, Any] = {}
    positions: dict[str, Any] = {}
    source = manifest.source.path
    if params_file:
        from psr_engine.manifest.loader import load_document

        document = load_document(params_file)
        if not isinstance(document.data, dict):
            raise _not_a_mapping(params_file)
        given.update(document.data)
        # Errors in a param given by the file point at its line in the file.
        positions = {str(k[0]): v for k, v in document.positions.items() if len(k) == 1}
        source = params_file
    for key in params or {}:
        positions.pop(key, None)
    given.update(params or {})
    return _resolve(manifest.params, given, source=source, positions=positions or None)


def compile(
    path_or_manifest: str | Manifest,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
    concurrency: int | None = None,
) -> Plan:
    """Manifest -> Plan with the given params; raises a DiagnosedError on any problem."""
    from psr_engine.plan.compile import compile_plan

    manifest = load(path_or_manifest) if isinstance(path_or_manifest, str) else path_or_manifest
    resolved = resolve_params(manifest, params=params, params_file=params_file)
    return compile_plan(manifest, resolved, concurrency=concurrency)


def validate(path: str, *, params: Mapping[str, Any] | None = None) -> ValidationResult:
    """Everything `compile` checks, for any values of params the user has not given.

    Required params without a value get a placeholder of their type, so a manifest with
    required params validates on its own; `plan` and `apply` insist on real values.
    """
    from psr_engine.plan.compile import compile_plan
    from psr_engine.plan.secret_refs import ungranted_mentions

    try:
        manifest = load(path)
        given = {**placeholder_params(manifest.params), **(params or {})}
        resolved = resolve_params(manifest, params=given)
        plan = compile_plan(manifest, resolved)
    except DiagnosedError as error:
        return ValidationResult(path, list(error.diagnostics))
    return ValidationResult(path, [], plan, warnings=ungranted_mentions(manifest, plan))


_PLACEHOLDERS: dict[str, Any] = {
    "string": "placeholder",
    "integer": 1,
    "number": 1.0,
    "boolean": False,
    "object": {},
}


def placeholder_params(specs: tuple[ParamSpec, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.has_default:
            continue
        if spec.enum:
            values[spec.name] = spec.enum[0]
        elif spec.type == "array":
            values[spec.name] = [_PLACEHOLDERS.get(spec.items or "string", "placeholder")]
        else:
            values[spec.name] = _PLACEHOLDERS[spec.type]
    return values


def gate_runner(plan: Plan) -> Any:
    """How the runtime runs a gate: the facade lends it the scanners (run/ and gates/ are
    siblings in the layers and never import each other)."""
    import dataclasses
    import os

    from psr_engine.run.gating import GateOutcome

    base_dir = os.path.dirname(os.path.abspath(plan.manifest_path))

    async def run(gate: Any) -> GateOutcome:
        from psr_engine.gates.runner import run_gate

        return GateOutcome(**dataclasses.asdict(await run_gate(gate, base_dir=base_dir)))

    return run


def plan_loader(path: str, params: Mapping[str, Any]) -> Plan:
    """How the runtime compiles a sub-workflow: the facade lends it the manifest stage."""
    return compile(path, params=dict(params))


def start_tracing_early(*, trace: bool = False) -> Any:
    """When `--trace` or the environment (OTEL_EXPORTER_OTLP_ENDPOINT...) asks for tracing,
    the exporter process, started now so that it loads while the plan compiles; else None.
    Pass it to build_sinks, which uses or discards it; call discard() on it if you never
    get there (or let it go: it exits with this process)."""
    from psr_engine import tracing

    return tracing.start_early(force=trace)


def build_sinks(
    plan: Plan,
    *,
    console: bool = True,
    quiet: bool = False,
    events_jsonl: str | None = None,
    history: bool = True,
    state_dir: str | None = None,
    resumed_from: str | None = None,
    junit: str | None = None,
    summary_md: str | None = None,
    trace: bool = False,
    early_tracing: Any = None,
) -> list[Any]:
    """The console (unless turned off), the manifest's sinks, the run history, and those the
    CLI adds. PSR_HISTORY=0 turns the history off (benchmarks compare with and without it).
    `early_tracing`: start_tracing_early's exporter process, for the otel sink."""
    import os

    from psr_engine.plugins import create_sink

    sinks: list[Any] = []
    if console:
        from psr_engine.events.sinks.console import ConsoleSink

        sinks.append(ConsoleSink(quiet=quiet))
    for config in plan.sinks:
        # A manifest's {type: history} is the history sink with options, built below: built bare
        # it would record no task digests, and resume would then refuse.
        # history and otel are built below with what they need from the plan.
        if config.get("type") not in ("history", "otel"):
            sinks.append(create_sink(config))
    if events_jsonl:
        sinks.append(create_sink({"type": "jsonl", "path": events_jsonl}))
    if history and os.environ.get("PSR_HISTORY", "1") != "0":
        from psr_engine.run.resume import history_sink

        custom = next((c for c in plan.sinks if c.get("type") == "history"), {})
        sinks.append(
            history_sink(
                plan,
                state_dir=state_dir or _state_dir(plan),
                path=custom.get("path"),
                resumed_from=resumed_from,
            )
        )
    from psr_engine import tracing  # light: opentelemetry loads only when tracing is on

    otel = tracing.build_sink(plan, force=trace, early=early_tracing)
    if otel is not None:
        sinks.append(otel)
        for sink in sinks:
            if getattr(sink, "name", "") == "webhook":
                sink.trace_headers = otel.trace_headers
    if junit:
        sinks.append(create_sink({"type": "junit", "path": junit}))
    if summary_md:
        sinks.append(create_sink({"type": "summary", "path": summary_md}))
    return sinks


def prepare_resume(
    plan: Plan, *, resume: str | None, from_task: str | None, force: bool
) -> tuple[Plan, dict[str, Any], str | None]:
    """`apply --resume/--from`: the plan to run, the results to reuse, the earlier run's id.

    `resume="auto"` with nothing to resume gives the plan back unchanged, no reuse, no id."""
    from psr_engine.run.resume import AUTO, plan_auto_resume, plan_resume
    from psr_engine.store import RunStore, state_dir_for_manifest

    with RunStore.open(state_dir_for_manifest(plan.manifest_path)) as store:
        if resume == AUTO:
            found = plan_auto_resume(plan, store, force=force, from_task=from_task)
            if found is None:
                return plan, {}, None
        else:
            found = plan_resume(plan, store, resume or "last", force=force, from_task=from_task)
    return found.plan, dict(found.reuse), found.resumed_from


async def arun(
    plan: Plan,
    *,
    sinks: list[Any] | None = None,
    executor: Any = None,
    state_dir: str | None = None,
    handle_signals: bool = False,
    concurrency: int | None = None,
    run_id: str | None = None,
    reuse: Mapping[str, Any] | None = None,
    log_events: bool = False,
) -> Any:
    """Run a plan; returns the WorkflowResult. With `spec.cost`, the projected cost is checked
    against a `fail` budget first (GateBlocked, exit 3, before anything starts), and every task's
    cost is attributed as it ends; crossing a `fail` budget stops the run (reason `budget`)."""
    from psr_engine.run.engine import WorkflowEngine

    state_dir = state_dir or _state_dir(plan)
    engines: list[WorkflowEngine] = []
    annotate = None
    if plan.cost:
        from psr_engine import cost

        projected = cost.projection(plan, state_dir)
        cost.check_budget_before_run(plan, projected)
        annotate = cost.annotator(
            plan,
            stop=lambda reason: engines[0].stop(reason),
            projected=projected,
            state_dir=state_dir,
        )
    engine = WorkflowEngine(
        executor=executor,
        sinks=build_sinks(plan) if sinks is None else sinks,
        state_dir=state_dir,
        plan_loader=plan_loader,
        gate_runner=gate_runner(plan),
        handle_signals=handle_signals,
        concurrency=concurrency,
        annotate=annotate,
        log_events=log_events,
    )
    engines.append(engine)
    return await engine.run(plan, run_id=run_id, reuse=reuse)


def run(plan: Plan, **options: Any) -> Any:
    """The synchronous twin of `arun`."""
    import anyio

    return anyio.run(lambda: arun(plan, **options))


def _state_dir(plan: Plan) -> str:
    import os

    return os.environ.get("PSR_STATE_DIR") or os.path.join(
        os.path.dirname(plan.manifest_path), ".psr"
    )


# Bumped when what a cached plan must hold changes within one version (2: Plan.withheld, which
# an older cached plan lacks and would silently read as "withhold nothing").
_PLAN_CACHE_GENERATION = 2


def compile_cached(
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
) -> Plan:
    """`compile`, remembered under .psr/plans/ by everything the plan depends on.

    A repeated `apply` of an unchanged manifest then skips YAML, the schema and the graph
    library entirely (together ~250 ms of imports alone). The key covers the manifest's bytes
    and absolute path, the raw params and params file, the engine's version and the machine
    defaults the planner fills in.
    """
    import hashlib
    import json
    import os

    from psr_engine._version import __version__
    from psr_engine.plan.model import Plan
    from psr_engine.secrets import sealed

    try:
        with open(path, "rb") as handle:
            manifest_bytes = handle.read()
        params_bytes = b""
        if params_file:
            with open(params_file, "rb") as handle:
                params_bytes = handle.read()
    except OSError:
        return compile(path, params=params, params_file=params_file)  # it reports the error
    key_material = (
        json.dumps(
            [
                _PLAN_CACHE_GENERATION,
                __version__,
                os.path.abspath(path),
                sorted((params or {}).items()),
                hashlib.sha256(params_bytes).hexdigest(),
                os.cpu_count(),
                _physical_memory(),
            ],
            default=str,
        ).encode()
        + manifest_bytes
    )
    key = hashlib.sha256(key_material).hexdigest()[:32]
    state = os.environ.get("PSR_STATE_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(path)), ".psr"
    )
    # Values given on the command line may be secrets: such a plan is cached sealed with a
    # key derived from those values (secrets/sealed.py), or not at all without `cryptography`.
    given = params_bytes + json.dumps(sorted((params or {}).items()), default=str).encode()
    sealing = bool(params or params_file)
    if sealing and not sealed.available():
        return compile(path, params=params, params_file=params_file)
    cache = os.path.join(state, "plans", f"{key}.{'sealed' if sealing else 'json'}")
    try:
        with open(cache, "rb") as handle:
            stored = handle.read()
        text = sealed.unseal(stored, given) if sealing else stored.decode()
        if text is not None:
            return Plan.from_json(text)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    plan = compile(path, params=params, params_file=params_file)
    content = sealed.seal(plan.to_json(), given) if sealing else plan.to_json().encode()
    _write_atomically(cache, content)
    return plan


def _physical_memory() -> int:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _write_atomically(path: str, content: bytes) -> None:
    """Write-then-rename: a reader never sees half a file, and a failure leaves nothing."""
    import os
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs speed


def select(plan: Plan, names: list[str]) -> Plan:
    """`--only`: the named tasks (names or instance ids) and everything they need, like make."""
    from dataclasses import replace

    from psr_engine.errors import ManifestError

    by_id = {t.id: t for t in plan.tasks}
    wanted: set[str] = set()
    for name in names:
        ids = plan.groups.get(name) or ((name,) if name in by_id else None)
        if not ids:
            import difflib

            close = difflib.get_close_matches(name, [*plan.groups, *by_id], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ManifestError(f"--only {name}: no such task in {plan.workflow}{hint}")
        wanted.update(ids)
    stack = list(wanted)
    while stack:
        for need in by_id[stack.pop()].needs:
            if need not in wanted:
                wanted.add(need)
                stack.append(need)
    tasks = tuple(t for t in plan.tasks if t.id in wanted)
    groups = {g: tuple(i for i in ids if i in wanted) for g, ids in plan.groups.items()}
    levels = tuple(
        lv for lv in (tuple(i for i in level if i in wanted) for level in plan.levels) if lv
    )
    return replace(
        plan, tasks=tasks, levels=levels, groups={g: ids for g, ids in groups.items() if ids}
    )


def describe_dry_run(plan: Plan) -> str:
    """What `apply --dry-run` prints: each task in the order it could start, with its command
    (expressions that need run-time values are left as written)."""
    lines = [f"dry run of {plan.workflow}: {len(plan.tasks)} tasks, nothing executed"]
    for level_number, level in enumerate(plan.levels or (tuple(t.id for t in plan.tasks),)):
        lines.append(f"level {level_number}:")
        for task_id in level:
            task = plan.task(task_id)
            what = (
                task.command if task.kind == "run" else " ".join((task.command, *task.args)).strip()
            )
            first = what.strip().splitlines()[0] if what.strip() else ""
            needs = f" (needs {', '.join(task.needs)})" if task.needs else ""
            lines.append(f"  {task_id} [{task.kind}]{needs}: {first}")
    for task in plan.on_exit:
        lines.append(f"on exit: {task.id} [{task.kind}]")
    return "\n".join(lines) + "\n"


def script_plan(
    script: str, args: list[str], *, timeout: str | None = None, retries: int = 0
) -> Plan:
    """A one-task plan for `psr-engine run SCRIPT.py`: the script runs in the current folder."""
    import os
    import re

    from psr_engine.errors import ManifestError
    from psr_engine.plan.model import Plan, PlannedTask
    from psr_engine.units import Resources, RetryPolicy, parse_duration

    if not os.path.isfile(script):
        raise ManifestError(f"{script}: no such file")
    try:
        seconds = parse_duration(timeout) if timeout else None
    except ValueError as error:
        raise ManifestError(f"--timeout: {error}") from None
    if retries < 0:
        raise ManifestError("--retries must be 0 or more")
    name = (
        re.sub(r"[^a-zA-Z0-9_-]+", "-", os.path.splitext(os.path.basename(script))[0]) or "script"
    )
    task = PlannedTask(
        id=name,
        task=name,
        kind="python",
        command=os.path.abspath(script),
        args=tuple(args),
        workdir=os.getcwd(),
        timeout=seconds,
        retries=RetryPolicy(limit=retries, backoff="exponential", delay=1.0, max_delay=30.0),
    )
    return Plan(
        workflow=name.lower(),
        manifest_path=os.path.join(os.getcwd(), "workflow.yaml"),
        manifest_digest="",
        params={},
        tasks=(task,),
        levels=((name,),),
        groups={name: (name,)},
        concurrency=1,
        capacity=Resources(cpu=1e9, memory=2**62),
    )
