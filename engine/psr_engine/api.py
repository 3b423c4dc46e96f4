"""The facade: the one module that knows every stage. The CLI and Python users go through it.
It wires stages together and holds no rule of its own: each is in the stage it belongs to.

load(path)                        -> Manifest          (manifest/)
make_plan(path, params=...)       -> Plan              (manifest/ + plan/)
make_plan_cached(path, ...)       -> Plan              (plan/cache.py; manifest/ on a miss)
validate(path)                    -> ValidationReport  (both, never raising for bad input)
select, describe_dry_run, script_plan                  (plan/)
build_sinks(plan, ...)            -> sinks             (events/, tracing/, the registry)
run(plan, ...)                    -> WorkflowResult    (run/)  [async: arun]
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psr_engine.errors import DiagnosedError, Diagnostic

if TYPE_CHECKING:
    from psr_engine.events.sinks.task_output import OutputMode
    from psr_engine.manifest.model import Manifest
    from psr_engine.plan.model import Plan


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What `validate` found: the diagnostics, and the Plan when there are none."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    # Not errors (the file is valid): e.g. a task mentioning a secret it is not granted.
    warnings: list[Diagnostic] = field(default_factory=list)
    # Params a run must be given (no default, none given here), each at its line, saying how.
    required: list[Diagnostic] = field(default_factory=list)

    @property
    def task_count(self) -> int:
        """Tasks as the manifest names them (a matrix task is one, however many instances)."""
        return len({t.task for t in self.plan.tasks}) if self.plan else 0

    @property
    def instance_count(self) -> int:
        return len(self.plan.tasks) if self.plan else 0

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "valid": self.ok,
            "tasks": self.task_count,
            "instances": self.instance_count,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "warnings": [w.to_dict() for w in self.warnings],
            "requiredParams": [r.to_dict() for r in self.required],
        }


def load(path: str) -> Manifest:
    """Read, schema-check and build a manifest; ManifestError lists every problem found."""
    from psr_engine.manifest import load_manifest

    return load_manifest(path)


def params_for(
    manifest: Manifest,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
) -> dict[str, Any]:
    """A params file and -p values (the latter win), typed (manifest/params.py)."""
    from psr_engine.manifest.params import params_from

    return params_from(manifest, params=params, params_file=params_file)


def make_plan(
    path_or_manifest: str | Manifest,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
    concurrency: int | None = None,
) -> Plan:
    """Manifest -> Plan with the given params; raises a DiagnosedError on any problem."""
    from psr_engine.plan.compile import compile_plan

    manifest = load(path_or_manifest) if isinstance(path_or_manifest, str) else path_or_manifest
    resolved = params_for(manifest, params=params, params_file=params_file)
    return compile_plan(manifest, resolved, concurrency=concurrency)


def validate(
    path: str, *, params: Mapping[str, Any] | None = None, params_file: str | None = None
) -> ValidationReport:
    """Everything `make_plan` checks, for any values of params the user has not given.

    Required params without a value get a placeholder of their type, so a manifest with
    required params validates on its own; `plan` and `apply` insist on real values.
    """
    from psr_engine.manifest.files import missing_files
    from psr_engine.manifest.params import placeholder_params, required_params
    from psr_engine.manifest.subworkflows import workflow_cycles
    from psr_engine.plan.compile import compile_plan
    from psr_engine.plan.secret_refs import ungranted_mentions

    try:
        manifest = load(path)
        named = {*(params or {}), *_params_file_names(params_file)}
        unnamed = {k: v for k, v in placeholder_params(manifest.params).items() if k not in named}
        resolved = params_for(
            manifest, params={**unnamed, **(params or {})}, params_file=params_file
        )
        plan = compile_plan(manifest, resolved)
    except DiagnosedError as error:
        return ValidationReport(path, list(error.diagnostics))
    missing = missing_files(manifest) + workflow_cycles(manifest)
    if missing:
        return ValidationReport(path, missing)
    return ValidationReport(
        path,
        [],
        plan,
        warnings=ungranted_mentions(manifest, plan),
        required=required_params(manifest, given=named),
    )


def _params_file_names(params_file: str | None) -> set[str]:
    """The params a params file gives (its problems are reported when it is read for real)."""
    if not params_file:
        return set()
    from psr_engine.manifest.loader import load_document

    data = load_document(params_file).data
    return {str(k) for k in data} if isinstance(data, dict) else set()


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
    return make_plan(path, params=dict(params))


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
    output_mode: OutputMode | None = None,
    events_jsonl: str | None = None,
    history: bool = True,
    state_dir: str | None = None,
    resumed_from: str | None = None,
    junit: str | None = None,
    summary_md: str | None = None,
    trace: bool = False,
    early_tracing: Any = None,
    sign_key: str | None = None,
    saved_plan: str | None = None,
) -> list[Any]:
    """The console (unless turned off), the manifest's sinks, the run history, and those the
    CLI adds. PSR_HISTORY=0 turns the history off (benchmarks compare with and without it).
    `output_mode`: which task output the console shows (live, grouped, failed, none; None:
    live on a terminal, grouped elsewhere; none with `quiet`). `early_tracing`:
    start_tracing_early's exporter process, for the otel sink."""
    import os

    from psr_engine.events.hooks import TraceHeadersUser
    from psr_engine.plugins import create_sink
    from psr_engine.settings import PluginConfig

    sinks: list[Any] = []
    if console:
        from psr_engine.events.sinks.console import ConsoleSink

        sinks.append(ConsoleSink(quiet=quiet, output=output_mode))
    # A manifest's {type: history} is the history sink with options, built below: built bare
    # it would record no task digests, and resume would then refuse. history and otel are
    # built below with what they need from the plan.
    sinks.extend(create_sink(c) for c in plan.sinks if c.type not in ("history", "otel"))
    if events_jsonl:
        # --events-jsonl keeps everything the run sends, task.log lines too (--log-events).
        sinks.append(create_sink(PluginConfig("jsonl", {"path": events_jsonl, "logs": True})))
    if history and os.environ.get("PSR_HISTORY", "1") != "0":
        from psr_engine.run.resume import history_sink

        custom = next((c for c in plan.sinks if c.type == "history"), None)
        sinks.append(
            history_sink(
                plan,
                state_dir=state_dir or state_dir_for(plan),
                path=None if custom is None else custom.options.get("path"),
                resumed_from=resumed_from,
            )
        )
    from psr_engine import tracing  # light: opentelemetry loads only when tracing is on

    otel = tracing.build_sink(plan, force=trace, early=early_tracing)
    if otel is not None:
        sinks.append(otel)
        for sink in sinks:
            if isinstance(sink, TraceHeadersUser):
                sink.use_trace_headers(source=otel.trace_headers)
    sinks.extend(
        provenance_sinks(
            plan,
            state_dir=state_dir,
            resumed_from=resumed_from,
            sign_key=sign_key,
            saved_plan=saved_plan,
        )
    )
    if junit:
        sinks.append(create_sink(PluginConfig("junit", {"path": junit, **_points_at(plan)})))
    if summary_md:
        summary = {"path": summary_md, **_points_at(plan)}
        sinks.append(create_sink(PluginConfig("summary", summary)))
    return sinks


def provenance_sinks(
    plan: Plan,
    *,
    state_dir: str | None = None,
    resumed_from: str | None = None,
    sign_key: str | None = None,
    saved_plan: str | None = None,
) -> list[Any]:
    """The audit trail's sink and the run's provenance statement, unless `spec.provenance:
    false` or PSR_PROVENANCE=0. `sign_key` (else $PSR_SIGNING_KEY): a PEM private key; the
    statement is then a signed DSSE envelope. A key that cannot be used fails here, before
    the run (exit 2). `saved_plan`: the reviewed plan file applied; its path and sha256 go
    into the apply's audit entry and the statement's externalParameters."""
    import os

    from psr_engine import provenance

    if not provenance.enabled(plan.provenance):
        return []
    from psr_engine.provenance.audit_sink import AuditSink
    from psr_engine.provenance.sink import ProvenanceSink

    state = state_dir or state_dir_for(plan)
    wrap = None
    key_path = sign_key or os.environ.get("PSR_SIGNING_KEY") or None
    if key_path:
        import functools

        from psr_engine.provenance.signing import envelope_for, load_signer

        wrap = functools.partial(envelope_for, signer=load_signer(key_path))
    reviewed = None
    if saved_plan:
        from psr_engine.provenance.materials import sha256_file

        reviewed = {"path": os.path.abspath(saved_plan), "sha256": sha256_file(saved_plan)}
    return [
        AuditSink(plan, state_dir=state, resumed_from=resumed_from, saved_plan=reviewed),
        ProvenanceSink(
            plan,
            state_dir=state,
            resumed_from=resumed_from,
            history=os.environ.get("PSR_HISTORY", "1") != "0",
            wrap=wrap,
            saved_plan=reviewed,
        ),
    ]


def _points_at(plan: Plan) -> dict[str, str]:
    """The reports' option naming the run's provenance file, when one is written."""
    from psr_engine import provenance

    if not provenance.enabled(plan.provenance):
        return {}
    from psr_engine.provenance.statement import STATEMENT_FILE

    return {"provenance": STATEMENT_FILE}


def saved_plan_document(plan: Plan, out_path: str) -> dict[str, Any]:
    """The reviewable saved plan of `plan` (provenance/saved_plan.py), with its cost
    projection when the plan has `spec.cost`."""
    from psr_engine.provenance import saved_plan

    projected = None
    if plan.cost:
        from psr_engine import cost

        found = cost.projection(plan, state_dir_for(plan))
        projected = found.to_dict() if found is not None else None
    return saved_plan.document(plan, out_path=out_path, cost=projected)


def save_plan(plan: Plan, out_path: str) -> str:
    """`plan -o plan.json`: writes the saved plan (atomically); returns the path."""
    import os

    from psr_engine.provenance import saved_plan

    text = saved_plan.dumps(saved_plan_document(plan, out_path))
    tmp = f"{out_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, out_path)
    return out_path


def is_saved_plan(path: str) -> bool:
    from psr_engine.provenance.saved_plan import is_saved_plan as saved

    return saved(path)


def load_saved_plan(path: str, *, params: Mapping[str, Any] | None = None) -> Plan:
    """`apply plan.json`: the saved Plan, or PlanStale (exit 2) listing every difference."""
    from psr_engine.provenance.saved_plan import load as load_saved

    return load_saved(path, params=params)


def read_saved_plan(path: str) -> dict[str, Any]:
    from psr_engine.provenance.saved_plan import read

    return read(path)


def run_plan_document(plan: Plan, ref: str) -> dict[str, Any]:
    """What run `ref` (an id, or `last`) of `plan`'s workflow was made from, read from its
    provenance statement, for `plan --diff last`."""
    from psr_engine.provenance.saved_plan import from_run
    from psr_engine.provenance.verify import statement_file

    return from_run(statement_file(ref, state_dir_for(plan)))


def diff_saved_plans(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    from psr_engine.provenance.saved_plan import diff

    return diff(old, new)


def sinks_want_logs(plan: Plan, sinks: Iterable[Any] = ()) -> bool:
    """A manifest sink asking for task.log lines (jsonl's `logs: true`, task.log among a
    jsonl or webhook sink's `events`), or a sink of `sinks` that wants them (the console in
    live mode), turns them on for the run, as --log-events does: lines cost a pipe per task,
    so only when someone keeps them."""
    from psr_engine.events.selection import EventSelection, LogWanting

    return any(
        EventSelection.of(c.options.get("events"), logs=c.options.get("logs") is True).logs
        for c in plan.sinks
        if c.type in ("jsonl", "webhook")
    ) or any(isinstance(s, LogWanting) and s.wants_logs for s in sinks)


def prepare_resume(
    plan: Plan,
    *,
    resume: str | None,
    from_task: str | None,
    force: bool,
    locks: contextlib.ExitStack | None = None,
) -> tuple[Plan, dict[str, Any], str | None]:
    """`apply --resume/--from`: the plan to run, the results to reuse, the earlier run's id.

    `resume="auto"` with nothing to resume gives the plan back unchanged, no reuse, no id.
    `locks`: the earlier run's resume lock is entered into it, so that nobody else resumes
    that run until the stack closes (run the plan inside it); without it the lock only
    covers the decision. A run another process is resuming is refused (ResumeRefused)."""
    from psr_engine.run.resume import AUTO, plan_auto_resume, plan_resume
    from psr_engine.store import RunStore

    with RunStore.open(state_dir_for(plan)) as store:
        if resume == AUTO:
            found = plan_auto_resume(plan, store, force=force, from_task=from_task)
            if found is None:
                return plan, {}, None
        else:
            found = plan_resume(plan, store, resume or "last", force=force, from_task=from_task)
    if found.lock is not None:
        if locks is not None:
            locks.enter_context(found.lock)
        else:
            found.lock.release()
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
    against a `fail` budget first (BudgetExceeded, exit 3, before anything starts; the run is
    recorded `blocked` in the history, as a gate-blocked one is), and every task's
    cost is attributed as it ends; crossing a `fail` budget stops the run (reason `budget`).
    `log_events` (--log-events) sends task.log lines; they are sent anyway when a sink wants
    them (sinks_want_logs)."""
    from psr_engine.run.engine import WorkflowEngine

    state_dir = state_dir or state_dir_for(plan)
    hooks = []
    refused: Exception | None = None
    if plan.cost:
        from psr_engine import cost

        projected = cost.projection(plan, state_dir)
        run_id = run_id or _new_run_id()
        try:
            cost.check_budget_before_run(plan, projected)
        except cost.BudgetExceeded as error:
            _audit_budget(plan, projected, state_dir, run_id, "block")
            refused = error  # recorded in the history below, as a gate-blocked run is
        else:
            _audit_budget(plan, projected, state_dir, run_id, "allow")
        annotator = cost.annotator(plan, projected=projected, state_dir=state_dir)
        if annotator is not None:
            hooks.append(annotator)
    sinks = build_sinks(plan) if sinks is None else sinks
    engine = WorkflowEngine(
        executor=executor,
        sinks=sinks,
        state_dir=state_dir,
        plan_loader=plan_loader,
        gate_runner=gate_runner(plan),
        handle_signals=handle_signals,
        concurrency=concurrency,
        task_hooks=hooks,
        log_events=log_events or sinks_want_logs(plan, sinks),
    )
    if refused is not None:
        from psr_engine.provenance.audit_sink import AuditSink

        for sink in sinks:
            if isinstance(sink, AuditSink):
                sink.refused("budget")  # its apply entry says so, and lists no secret fetched
        await engine.refuse(plan, reason=f"budget: {refused}", run_id=run_id)
        raise refused
    return await engine.run(plan, run_id=run_id, reuse=reuse)


def _new_run_id() -> str:
    from psr_engine.run.engine import new_run_id

    return new_run_id()


def _audit_budget(plan: Plan, projected: Any, state_dir: str, run_id: str, verdict: str) -> None:
    """The budget check before a run, in the audit trail (when a budget is set)."""
    from psr_engine import provenance

    if projected is None or projected.budget is None or not provenance.enabled(plan.provenance):
        return
    from psr_engine.provenance.audit_sink import record_budget_decision

    over = projected.over_budget
    record_budget_decision(
        plan,
        state_dir=state_dir,
        run_id=run_id,
        decision="warn" if verdict == "allow" and over else verdict,
        budget=projected.budget,
        projected=projected.total,
        spent_before=projected.spent_in_scope,
        currency=projected.currency,
    )


def load_runtime() -> None:
    """Import now what running a plan needs (the engine, the local executor and its keeper),
    which `run` would import as it starts: the CLI calls this before it marks its start-up
    over (cli/startup.py freezes what start-up made)."""
    import psr_engine.executors.keeper
    import psr_engine.executors.local
    import psr_engine.run.engine  # noqa: F401


def run(plan: Plan, **options: Any) -> Any:
    """The synchronous twin of `arun`."""
    import anyio

    out: list[Any] = []

    async def main() -> None:
        # Handed out through `out`, not as the main task's result: asyncio's runner, putting
        # SIGINT's handler back at the end, formats its main task, result and all, into an
        # error message it discards (signal.getsignal), and a WorkflowResult's repr costs
        # ~0.03 ms per task: twice 30 ms after a 1,000-task run.
        out.append(await arun(plan, **options))

    anyio.run(main)
    return out[0]


def state_dir_for(plan: Plan) -> str:
    """The state folder of runs of `plan`: $PSR_STATE_DIR, else `.psr/` beside its manifest."""
    from psr_engine.store.paths import state_dir_for_manifest

    return state_dir_for_manifest(plan.manifest_path)


def make_plan_cached(
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    params_file: str | None = None,
) -> Plan:
    """`make_plan`, remembered in the plan cache (plan/cache.py) by everything the plan
    depends on: a hit reads JSON and loads nothing of the manifest stage."""
    import functools

    from psr_engine.plan import cache

    entry = cache.entry_for(path, params=params, params_file=params_file)
    if entry is None:
        return make_plan(path, params=params, params_file=params_file)  # it reports the error
    seal: Callable[[str], bytes] | None = None
    unseal: Callable[[bytes], str | None] | None = None
    if entry.sealed:
        # Values given on the command line may be secrets: such a plan is cached sealed with a
        # key derived from those values (secrets/sealed.py), or not at all without
        # `cryptography`.
        from psr_engine.secrets import sealed

        if not sealed.available():
            return make_plan(path, params=params, params_file=params_file)
        seal = functools.partial(sealed.seal, material=entry.given)
        unseal = functools.partial(sealed.unseal, material=entry.given)
    plan = cache.load_cached(entry, unseal=unseal)
    if plan is None:
        plan = make_plan(path, params=params, params_file=params_file)
        cache.store_cached(entry, plan, seal=seal)
    return plan


def select(plan: Plan, names: list[str]) -> Plan:
    """`--only`: the named tasks and everything they need (plan/select.py)."""
    from psr_engine.plan.select import select as narrowed

    return narrowed(plan, names)


def describe_dry_run(plan: Plan) -> str:
    """What `apply --dry-run` prints (plan/render.py)."""
    from psr_engine.plan.dry_run import describe_dry_run as described

    return described(plan)


def script_plan(
    script: str, args: list[str], *, timeout: str | None = None, retries: int = 0
) -> Plan:
    """A one-task plan for `psr-engine run SCRIPT.py` (plan/script.py)."""
    from psr_engine.plan.script import script_plan as one_task

    return one_task(script, args, timeout=timeout, retries=retries)
