"""The exception tree, all of it in this module. Every error psr-engine raises on purpose is a
PsrError (other modules import theirs from here and re-export the public ones):

    PsrError                      exit_code 1 unless a subclass says otherwise
    +-- DiagnosedError            carries Diagnostics (file:line:col); exit 2
    |   +-- ManifestError         invalid input: YAML, schema, params
    |   +-- ExpressionError       a ${{ }} expression that cannot parse or evaluate
    |   +-- PlanError             the manifest cannot become a plan
    |   |   +-- CycleError        needs form a cycle; .cycle names it
    |   +-- TemplateError         a template name, param or destination is wrong
    +-- ExecutionError            the engine itself failed while running (exit 1)
    |   +-- ExecutorUnreachable   the executor's cluster cannot be reached at start (exit 2)
    |   +-- WorkflowTooDeep       sub-workflows nested past spec.limits.workflowDepth
    |   +-- CodeScanError         a code scanner could not run, or failed
    |       +-- ScannerNotInstalled   bandit or semgrep is missing
    +-- GateBlocked               a security gate blocked the run (exit 3)
    |   +-- BudgetExceeded        a `fail` budget would be exceeded: the run does not start
    +-- SecretError               a secret could not be resolved (exit 2)
    |   +-- ProviderError         one secret operation failed; .reason says why in a word
    |   +-- SecretsUnresolved     several failed at once; .failures, one ProviderError each
    +-- PluginError               no such plug-in, or its extra is not installed (exit 2)
    +-- TracingConfigError        a tracing setting that cannot be used (exit 2)
    +-- CostError                 cost settings that cannot be priced (exit 2)
    +-- HistoryError              the run history cannot answer (exit 2)
    |   +-- StateNotWritable      the state folder cannot be written (read-only, disk full)
    +-- StoreBusyError            the history database stayed locked too long (exit 1)
    +-- ResumeRefused             the earlier run cannot be resumed as asked (exit 2)
    +-- ProvenanceError           an audit trail, statement, key or saved plan that cannot be
    |                             read or used as asked (exit 2)
    +-- PlanStale                 a saved plan no longer matches what it was made from (exit 2)
    +-- DashboardError            `psr-engine ui` cannot start as asked (exit 2)
    +-- ActionRefused             a dashboard action cannot be done on that run now

The CLI turns a PsrError into its message on stderr and its exit code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one input file, pointing at where a user should look."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str
    path: str = ""  # JSON path of the offending node, e.g. "spec.tasks.extract.retries"
    hint: str = ""  # how to fix it, when we can say

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {self.message}" if where else self.message
        if self.path:
            text += f" (at {self.path})"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
        }


class PsrError(Exception):
    """Base of every error psr-engine raises on purpose."""

    exit_code = 1


class DiagnosedError(PsrError):
    """Invalid input, described by one or more Diagnostics. Holds every problem found."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(file="", line=0, column=0, message=diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ManifestError(DiagnosedError):
    """The manifest (or params given for it) is invalid."""


class ExpressionError(DiagnosedError):
    """An expression failed to parse, referenced an unknown name, or failed to evaluate."""


class PlanError(DiagnosedError):
    """The manifest is well-formed but cannot be compiled into a plan."""


class CycleError(PlanError):
    """Tasks depend on each other in a cycle."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str, cycle: list[str]) -> None:
        super().__init__(diagnostics)
        self.cycle = cycle


class ExecutionError(PsrError):
    """The engine could not carry out the run (not a task failing: that is a result)."""

    exit_code = 1


class ExecutorUnreachable(ExecutionError):
    """The executor's cluster (a Dask scheduler) cannot be reached before the run starts: a
    setting or an environment to fix, nothing ran."""

    exit_code = 2


class WorkflowTooDeep(ExecutionError):
    """A `workflow:` task would start a sub-workflow deeper than the root workflow's
    spec.limits.workflowDepth (a workflow running itself, say): the task fails, nothing of
    the child runs."""


class GateBlocked(PsrError):
    """A security gate found findings at or above its failOn level."""

    exit_code = 3


class SecretError(PsrError):
    """A secret could not be resolved. The message never contains a secret value."""

    exit_code = 2


class TemplateError(DiagnosedError):
    """A template name, a template param or a scaffold destination is wrong (exit 2)."""


class CodeScanError(ExecutionError):
    """A code scanner could not run, or failed; the message says which, why and what to do."""


SECURITY_INSTALL_HINT = "pip install 'psr-engine[security]'"


class ScannerNotInstalled(CodeScanError):
    """bandit or semgrep is missing: the security extra is not installed."""

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} is not installed: {SECURITY_INSTALL_HINT}")
        self.tool = tool


class BudgetExceeded(GateBlocked):
    """A budget with `action: fail` would be exceeded by the run: it does not start (exit 3)."""


Reason = Literal["not_found", "denied", "unreachable", "invalid"]


class ProviderError(SecretError):
    """One secret operation failed. ``reason`` says why, in a word a program can test:
    not_found | denied | unreachable | invalid. The message names the secret and its
    provider and says how to fix it; it never holds a value or a token."""

    def __init__(
        self, reason: Reason, *, secret: str, provider: str, detail: str, hint: str = ""
    ) -> None:
        self.reason: Reason = reason
        self.secret = secret
        self.provider = provider
        self.detail = detail
        self.hint = hint
        text = f"secret {secret} ({provider}): {detail}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


class SecretsUnresolved(SecretError):
    """Several secrets failed at once; ``failures`` holds one ProviderError per secret."""

    def __init__(self, failures: list[ProviderError]) -> None:
        self.failures = sorted(failures, key=lambda f: (f.secret, f.provider))
        count = len(self.failures)
        lines = [f"{count} secret{'s' if count != 1 else ''} could not be resolved:"]
        for failure in self.failures:
            where = f"{failure.secret} ({failure.provider}) [{failure.reason}]"
            lines.append(f"  - {where}: {failure.detail}")
            if failure.hint:
                lines.append(f"      hint: {failure.hint}")
        super().__init__("\n".join(lines))


class PluginError(PsrError):
    """No plug-in of that name, or its optional dependencies are not installed."""

    exit_code = 2


class TracingConfigError(PsrError):
    """A tracing setting (manifest or OTEL_* variable) that cannot be used."""

    exit_code = 2


class CostError(PsrError):
    """Cost settings that cannot be priced: an unknown instance type, region or currency."""

    exit_code = 2


class HistoryError(PsrError):
    """The run history cannot answer: no database, no such run, a newer schema..."""

    exit_code = 2


class StateNotWritable(HistoryError):
    """The state folder cannot be written (a read-only mount, a full disk): a run is refused
    before it starts, or stopped when its history stops being written."""

    exit_code = 2


class StoreBusyError(PsrError):
    """The database stayed locked by other processes for longer than we are willing to wait."""

    exit_code = 1


class ResumeRefused(PsrError):
    """The earlier run cannot be resumed as asked (changed manifest, unknown task...)."""

    exit_code = 2


class ProvenanceError(PsrError):
    """An audit trail, provenance statement, signing key or saved plan that cannot be read or
    used as asked (a missing file, a key of an unsupported type...)."""

    exit_code = 2


class PlanStale(PsrError):
    """A saved plan whose manifest, scripts, inputs, params or engine version changed since it
    was made; `.differences` lists each, as `apply` prints them."""

    exit_code = 2

    def __init__(self, message: str, differences: list[str]) -> None:
        super().__init__(message)
        self.differences = differences


class DashboardError(PsrError):
    """`psr-engine ui` cannot start as asked: no token for a public address, a bad token file,
    no run history under the paths given, the `ui` extra missing."""

    exit_code = 2


class ActionRefused(PsrError):
    """A dashboard action (cancel, resume, rerun) cannot be done on that run now; the API
    answers 409 with the message."""

    exit_code = 2
