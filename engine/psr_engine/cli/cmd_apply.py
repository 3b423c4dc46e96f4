"""psr-engine apply [FILE]: run a workflow.

Exit codes: 0 ok, 1 failed, 2 invalid input, 3 gate blocked, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from psr_engine.cli.options import add_console, add_manifest, add_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_manifest(parser)
    add_params(parser)
    add = parser.add_argument
    add(
        "--only",
        nargs="+",
        metavar="TASK",
        default=None,
        help="run only these tasks and what they need",
    )
    add("--dry-run", action="store_true", help="show what would run, in order, and run nothing")
    add(
        "--max-parallel",
        type=int,
        metavar="N",
        help="run at most N tasks at once (overrides spec.concurrency)",
    )
    add("--events-jsonl", metavar="FILE", help="also write every event to FILE")
    add_console(parser)
    add(
        "--resume",
        metavar="RUN_ID|last|auto",
        help="rerun what did not succeed in that run, and everything that depends on it; "
        "auto: the last run if it did not succeed, else (no run yet, or it succeeded) run afresh",
    )
    add(
        "--from",
        dest="from_task",
        metavar="TASK",
        help="rerun TASK and everything downstream of it (of --resume's run, or the last)",
    )
    add(
        "--force",
        action="store_true",
        help="resume even though the manifest changed the tasks whose results are reused",
    )
    add("--junit", metavar="FILE", help="also write a JUnit XML report (CI test tabs)")
    add(
        "--summary-md",
        metavar="FILE",
        help="also write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)",
    )
    add(
        "--log-events",
        action="store_true",
        help="also send each line tasks print as a task.log event (to every sink)",
    )
    add(
        "--trace",
        action="store_true",
        help="trace this run with OpenTelemetry (OTLP to $OTEL_EXPORTER_OTLP_ENDPOINT)",
    )
    add(
        "--sign-key",
        metavar="FILE",
        help="sign the run's provenance with this PEM private key (a DSSE envelope; "
        "default $PSR_SIGNING_KEY; `psr-engine keys generate` makes one)",
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine import api

    # Before compiling: when tracing is asked for by the environment or --trace, its
    # exporter process loads its libraries meanwhile, on a core that is idle now.
    early = None if args.dry_run else api.start_tracing_early(trace=args.trace)
    try:
        # Holds the resume lock of the run being resumed until this run has ended.
        with contextlib.ExitStack() as locks:
            return _apply(args, early, locks)
    finally:
        if early is not None:
            early.discard()  # does nothing once the run's sink took it


def _apply(args: argparse.Namespace, early_tracing: object, locks: contextlib.ExitStack) -> int:
    from psr_engine import api
    from psr_engine.cli import startup
    from psr_engine.cli.options import manifest_file, parse_param_args

    if args.max_parallel is not None and args.max_parallel < 1:
        from psr_engine.errors import ManifestError

        raise ManifestError("--max-parallel must be at least 1")
    saved = args.file if args.file and api.is_saved_plan(args.file) else None
    if saved:
        # A reviewed plan: exactly it, or a refusal listing what changed since (exit 2).
        plan = api.load_saved_plan(saved, params=parse_param_args(args.param))
    else:
        plan = api.make_plan_cached(
            manifest_file(args.file),
            params=parse_param_args(args.param),
            params_file=args.params_file,
        )
    if args.only:
        plan = api.select(plan, args.only)
    reuse, resumed_from = None, None
    if args.resume or args.from_task:
        plan, reuse, resumed_from = api.prepare_resume(
            plan, resume=args.resume, from_task=args.from_task, force=args.force, locks=locks
        )
        if resumed_from is None:
            sys.stderr.write("--resume auto: no unfinished run to resume; running afresh\n")
    if args.dry_run:
        sys.stdout.write(api.describe_dry_run(plan))
        return 0
    sinks = api.build_sinks(
        plan,
        quiet=args.quiet,
        output_mode=args.output_mode,
        events_jsonl=args.events_jsonl,
        resumed_from=resumed_from,
        junit=args.junit,
        summary_md=args.summary_md,
        trace=args.trace,
        early_tracing=early_tracing,
        sign_key=args.sign_key,
        saved_plan=saved,
    )
    api.load_runtime()
    startup.end()  # what a run needs is loaded: freeze it, and collect as usual from here
    result = api.run(
        plan,
        sinks=sinks,
        handle_signals=True,
        concurrency=args.max_parallel,
        reuse=reuse,
        log_events=args.log_events,  # or a sink wants them: api.sinks_want_logs
    )
    return int(result.exit_code)
