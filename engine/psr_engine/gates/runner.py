"""Running one security gate: its scanners, then the baseline, ``failOn`` and the SARIF report.

``run_gate`` is what the runtime calls (through the facade) for ``spec.gates`` and gate tasks;
``scan_gate`` and ``judge`` are its two halves, which ``psr-engine scan`` uses directly so that
bad input there is an exit code rather than a gate status.

Paths in findings are made relative to ``base_dir`` (the manifest's folder) before anything
else, so a baseline written by ``psr-engine scan`` run in that folder matches what the gate sees.
A gate that cannot scan (a tool missing or crashing, no advisory database) ends ``error``: the
runtime treats that like ``blocked``, because an unscanned run must not pass silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from psr_engine._version import __version__
from psr_engine.errors import DiagnosedError, Diagnostic, PsrError
from psr_engine.gates.baseline import load_baseline, write_baseline
from psr_engine.gates.findings import Finding
from psr_engine.gates.report import (
    MAX_TABLE_ROWS,
    count_by_severity,
    findings_table,
    summary,
    verdict,
    worst_first,
)
from psr_engine.plan.model import PlannedGate

GATE_TYPES = ("code", "secrets", "dependencies")
OSV_DB_HINT = (
    "give the gate `osvDb: PATH` (--osv-db PATH on the command line): a folder of OSV records, "
    "e.g. a checkout of pypa/advisory-database; or set $PSR_OSV_DB; or ask the OSV API with "
    "`online: true` (--online)"
)


@dataclass(frozen=True, slots=True)
class GateReport:
    """A gate's result; the same fields as the runtime's GateOutcome, so one converts to the
    other with ``GateOutcome(**dataclasses.asdict(report))``."""

    name: str
    status: str  # passed | blocked | error
    counts: dict[str, int] = field(default_factory=dict)  # findings by severity
    findings: tuple[dict[str, Any], ...] = ()  # Finding.to_dict() of each, worst first
    sarif: str | None = None  # where the SARIF was written
    message: str | None = None  # the summary (and, when blocked, a table); or what went wrong
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool that ran, for its SARIF run (a tool with no findings still gets one)."""

    name: str
    version: str = ""
    information_uri: str = ""


@dataclass(slots=True)
class GateScan:
    """What a gate's scanners returned, before the baseline and ``failOn`` are applied."""

    findings: list[Finding]
    tools: list[ToolInfo]
    notes: list[str] = field(default_factory=list)  # what was not checked, files not parsed
    # What the reader must be told beside the findings, in the gate's message too: files too
    # large to scan, advisories that carried no severity.
    remarks: list[str] = field(default_factory=list)


async def run_gate(gate: PlannedGate, *, base_dir: str) -> GateReport:
    """Scan, then judge: the gate's report. Never raises for a scan that fails: that is an
    ``error`` report whose message says what went wrong."""
    import anyio

    started = time.monotonic()
    try:
        # The scanners are synchronous (subprocesses, file walks): keep the event loop free.
        scan = await anyio.to_thread.run_sync(lambda: scan_gate(gate, base_dir=base_dir))
        return judge(gate, scan, base_dir=base_dir, duration=time.monotonic() - started)
    except PsrError as error:
        message = str(error)
    except Exception as error:  # a scanner's bug must not let an unscanned run through
        message = f"internal error in the {gate.type} gate: {type(error).__name__}: {error}"
    return GateReport(
        name=gate.name,
        status="error",
        message=f"could not scan: {message}\n  (a gate that cannot scan blocks the run)",
        duration=time.monotonic() - started,
    )


def scan_gate(gate: PlannedGate, *, base_dir: str) -> GateScan:
    """Run the scanners ``gate.type`` names over its paths; file paths relative to base_dir.

    Raises a PsrError when a scan cannot run (DiagnosedError for bad input).
    """
    base = Path(base_dir).resolve()
    if gate.type == "code":
        return _scan_code(gate, base)
    if gate.type == "secrets":
        return _scan_secrets(gate, base)
    if gate.type == "dependencies":
        return _scan_dependencies(gate, base)
    raise DiagnosedError(
        f"gate {gate.name!r}: unknown type {gate.type!r}; choose from {', '.join(GATE_TYPES)}"
    )


def judge(gate: PlannedGate, scan: GateScan, *, base_dir: str, duration: float = 0.0) -> GateReport:
    """Apply ``exclude``, ``baseline`` and ``failOn``; write the SARIF when the gate asks."""
    return judge_with_remarks(gate, scan, base_dir=base_dir, duration=duration)[0]


def judge_with_remarks(
    gate: PlannedGate, scan: GateScan, *, base_dir: str, duration: float = 0.0
) -> tuple[GateReport, list[str]]:
    """``judge``, and the remarks its message carries (the scan's, and which of the findings
    that remain after ``exclude`` and the baseline are unscored advisories)."""
    findings = exclude_findings(scan.findings, gate.options.get("exclude") or ())
    accepted = 0
    if gate.baseline:
        known = load_baseline(gate.baseline)
        kept = [f for f in findings if f.fingerprint not in known]
        accepted, findings = len(findings) - len(kept), kept
    findings = worst_first(findings)
    status = verdict(findings, gate.fail_on)
    sarif_path = None
    if gate.sarif:
        write_sarif(findings, scan.tools, gate.sarif, base_dir=base_dir)
        sarif_path = gate.sarif
    rows = tuple(f.to_dict() for f in findings)
    message = summary(findings, fail_on=gate.fail_on, status=status, accepted=accepted)
    remarks = [*scan.remarks, *_unscored_remark(findings)]
    if remarks:
        message += "\n" + _indent("\n".join(f"note: {remark}" for remark in remarks))
    if status == "blocked":
        message += "\n" + _indent(findings_table(rows, limit=MAX_TABLE_ROWS))
    report = GateReport(
        name=gate.name,
        status=status,
        counts=count_by_severity(findings),
        findings=rows,
        sarif=sarif_path,
        message=message,
        duration=duration,
    )
    return report, remarks


def write_sarif(
    findings: Sequence[Finding],
    tools: Sequence[ToolInfo],
    path: str | os.PathLike[str],
    *,
    base_dir: str,
) -> None:
    """SARIF 2.1.0 with one run per tool (tools without findings included), URIs relative to
    ``base_dir``."""
    from psr_engine.gates.sarif import ToolRun, sarif_json

    by_tool: dict[str, list[Finding]] = {tool.name: [] for tool in tools}
    for finding in findings:
        by_tool.setdefault(finding.tool, []).append(finding)
    info = {tool.name: tool for tool in tools}
    runs = [
        ToolRun(
            tool=name,
            version=info[name].version if name in info else "",
            findings=group,
            information_uri=info[name].information_uri if name in info else "",
        )
        for name, group in by_tool.items()
    ]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sarif_json(runs, base_dir=base_dir) + "\n", encoding="utf-8")


# -- the three gate types -------------------------------------------------------------------


def _scan_code(gate: PlannedGate, base: Path) -> GateScan:
    from psr_engine.gates.code import INFORMATION_URIS, TOOLS, CodeAnalyzer

    tools = tuple(gate.tools) or TOOLS
    analyzer = CodeAnalyzer()
    findings: list[Finding] = []
    for path in _existing(gate):
        root = _root_for(path, base)
        findings += _rebased(analyzer.scan(path, tools=tools, root=root), root, base)
    infos = [ToolInfo(t, analyzer.tool_version(t), INFORMATION_URIS.get(t, "")) for t in tools]
    return GateScan(findings, infos, list(analyzer.warnings), remarks=list(analyzer.remarks))


def _scan_secrets(gate: PlannedGate, base: Path) -> GateScan:
    from psr_engine.gates.boundary import skipped_links_note
    from psr_engine.gates.secrets import TOOL, SecretScanner

    scanner = SecretScanner()
    findings: list[Finding] = []
    remarks: list[str] = []
    for path in _existing(gate):
        if path.is_dir():
            report = scanner.scan_tree(path)
            findings += _rebased(report.findings, path, base)
            too_large = tuple(_rebase_file(f, path.resolve(), base) for f in report.too_large)
            note = replace(report, too_large=too_large).skipped_note()
            if note:
                remarks.append(note)
            if report.links:
                remarks.append(skipped_links_note("secret scan", report.links))
        else:
            findings += _rebased(scanner.scan_file(path), path.parent, base)
    return GateScan(findings, [ToolInfo(TOOL, __version__)], remarks=remarks)


def _scan_dependencies(gate: PlannedGate, base: Path) -> GateScan:
    from psr_engine.gates.dependencies import TOOL, DependencyVulnerabilityScanner

    sources = [Path(p) for p in gate.requirements] or _existing(gate)
    options = gate.options
    online = bool(options.get("online", False))
    osv_db = options.get("osvDb") or os.environ.get("PSR_OSV_DB") or None
    if not online and not osv_db:
        raise DiagnosedError(
            Diagnostic("", 0, 0, f"gate {gate.name!r} has no OSV database", hint=OSV_DB_HINT)
        )
    if osv_db and not online and not Path(osv_db).is_dir():
        raise DiagnosedError(
            Diagnostic(
                str(osv_db), 0, 0, "the OSV database folder does not exist", hint=OSV_DB_HINT
            )
        )
    settings: dict[str, Any] = {"osv_db": osv_db, "online": online}
    if options.get("apiUrl"):
        settings["api_url"] = str(options["apiUrl"])
    if options.get("unscoredAs"):
        settings["unscored_as"] = str(options["unscoredAs"])
    scanner = DependencyVulnerabilityScanner(**settings)
    findings = scanner.scan(sources, root=base)
    # The matching is ours, so the SARIF driver's version is psr-engine's.
    return GateScan(findings, [ToolInfo(TOOL, __version__)], [str(note) for note in scanner.notes])


def _unscored_remark(findings: Sequence[Finding], shown: int = 5) -> list[str]:
    """One line naming the advisories whose records gave no severity, if any remain."""
    unscored = [f for f in findings if f.properties.get("unscored")]
    if not unscored:
        return []
    ids = sorted({f.rule_id for f in unscored})
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    noun = "advisories carry" if len(ids) != 1 else "advisory carries"
    return [
        f"{len(ids)} {noun} no severity (no CVSS vector, no named level): counted as "
        f"{unscored[0].severity} (unscoredAs): {', '.join(ids[:shown])}{more}"
    ]


# -- paths ----------------------------------------------------------------------------------


def _existing(gate: PlannedGate) -> list[Path]:
    """The gate's paths, each of which must exist: a typo must not scan nothing and pass."""
    paths = [Path(p) for p in gate.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise DiagnosedError(
            Diagnostic(
                missing[0],
                0,
                0,
                f"gate {gate.name!r}: no such file or folder to scan",
                hint="paths are relative to the manifest's folder",
            )
        )
    return paths


def _root_for(path: Path, base: Path) -> Path:
    """Scan relative to base when the path is inside it, else relative to the path itself."""
    resolved = path.resolve()
    if resolved.is_relative_to(base):
        return base
    return resolved if resolved.is_dir() else resolved.parent


def _rebased(findings: Iterable[Finding], root: Path, base: Path) -> list[Finding]:
    """Findings whose ``file`` (relative to ``root``) is made relative to ``base``."""
    root = root.resolve()
    if root == base:
        return list(findings)
    return [
        replace(finding, file=_rebase_file(finding.file, root, base)) if finding.file else finding
        for finding in findings
    ]


def _rebase_file(file: str, root: Path, base: Path) -> str:
    """``file`` (relative to ``root``) relative to ``base``, or absolute when outside it."""
    absolute = (root / file).resolve()
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(absolute)


def exclude_findings(findings: Sequence[Finding], patterns: Sequence[str]) -> list[Finding]:
    """Drop findings in files matching the gate's ``exclude`` (gitignore-style, relative to the
    manifest's folder)."""
    if not patterns:
        return list(findings)
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    return [f for f in findings if not (f.file and spec.match_file(f.file))]


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


__all__ = [
    "GATE_TYPES",
    "GateReport",
    "GateScan",
    "ToolInfo",
    "exclude_findings",
    "judge",
    "judge_with_remarks",
    "load_baseline",
    "run_gate",
    "scan_gate",
    "write_baseline",
    "write_sarif",
]
