"""The exception tree. Every error psr-engine raises on purpose is a PsrError:

    PsrError                      exit_code 1 unless a subclass says otherwise
    +-- DiagnosedError            carries Diagnostics (file:line:col); exit 2
    |   +-- ManifestError         invalid input: YAML, schema, params
    |   +-- ExpressionError       a ${{ }} expression that cannot parse or evaluate
    |   +-- PlanError             the manifest cannot become a plan
    |       +-- CycleError        needs form a cycle; .cycle names it
    +-- ExecutionError            the engine itself failed while running (exit 1)
    +-- GateBlocked               a security gate blocked the run (exit 3)
    +-- SecretError               a secret could not be resolved (exit 2)

The CLI turns a PsrError into its message on stderr and its exit code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


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


class GateBlocked(PsrError):
    """A security gate found findings at or above its failOn level."""

    exit_code = 3


class SecretError(PsrError):
    """A secret could not be resolved. The message never contains a secret value."""

    exit_code = 2


class Interrupted(PsrError):
    """The run was interrupted by SIGINT or SIGTERM."""

    exit_code = 130
