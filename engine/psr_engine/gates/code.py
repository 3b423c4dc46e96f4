"""CodeAnalyzer: bandit and semgrep over Python code, reported as Findings and SARIF.

Both tools run as subprocesses, never imported: their import cost, logging set-up and global
state stay out of the engine, a timeout can kill them (with their children), and a crash in
either is a message, not a traceback. Bandit runs as ``python -m bandit -f json`` (its JSON
format is documented and stable; BanditManager is not a public API and cannot be timed out).

Semgrep runs offline with the rules we ship (``psr_engine/gates/rules``, loaded with
importlib.resources). It needs SEMGREP_ENABLE_VERSION_CHECK=0 or it waits ~100 s on the
network; registry configs (``auto``, ``p/...``) cannot work offline.

Severity mapping (documented in docs/features/code-analysis.md):

- bandit: severity x confidence; low confidence lowers a severity one step::

      severity \\ confidence   HIGH     MEDIUM   LOW
      HIGH                    high     high     medium
      MEDIUM                  medium   medium   low
      LOW                     low      low      low

- semgrep: the rule's ``metadata.psr-severity`` when set (all our rules set it), else
  ERROR -> high, WARNING -> medium, INFO -> low (and CRITICAL/HIGH/MEDIUM/LOW as named).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import CodeScanError as CodeScanError
from psr_engine.errors import ScannerNotInstalled as ScannerNotInstalled
from psr_engine.gates.boundary import inside, python_files, skipped_links_note
from psr_engine.gates.findings import Confidence, Finding, Severity
from psr_engine.gates.sarif import ToolRun, sarif_json

TOOLS: tuple[str, ...] = ("bandit", "semgrep")
INFORMATION_URIS = {
    "bandit": "https://github.com/PyCQA/bandit",
    "semgrep": "https://semgrep.dev",
}

BANDIT_SEVERITY: dict[tuple[str, str], Severity] = {
    ("HIGH", "HIGH"): "high",
    ("HIGH", "MEDIUM"): "high",
    ("HIGH", "LOW"): "medium",
    ("MEDIUM", "HIGH"): "medium",
    ("MEDIUM", "MEDIUM"): "medium",
    ("MEDIUM", "LOW"): "low",
}  # LOW and UNDEFINED severities: low
SEMGREP_SEVERITY: dict[str, Severity] = {
    "CRITICAL": "critical",
    "ERROR": "high",
    "HIGH": "high",
    "WARNING": "medium",
    "MEDIUM": "medium",
    "INFO": "low",
    "LOW": "low",
}
# Directories nobody means to scan for their own code (anchored at the scanned path, so a
# project that itself lives under a "venv" directory is still scanned).
BANDIT_EXCLUDED_DIRS = (".venv", "venv", "node_modules", ".tox", ".nox", ".git", "__pycache__")


class CodeAnalyzer:
    """Runs bandit and semgrep over a file or directory and returns Findings.

    ``semgrep_rules``: a semgrep config (rules file or directory) to use instead of the rules
    psr-engine ships. ``timeout``: seconds each tool may run before it is killed.
    ``warnings`` collects problems that did not stop a scan (a file a tool could not parse).
    """

    def __init__(self, *, semgrep_rules: str | None = None, timeout: float = 300) -> None:
        self.semgrep_rules = semgrep_rules
        self.timeout = timeout
        self.warnings: list[str] = []
        self.remarks: list[str] = []  # what a reader must be told: links not followed
        self._versions: dict[str, str] = {}
        self._last_root: Path | None = None

    def scan(
        self,
        path: str | os.PathLike[str],
        *,
        tools: Sequence[str] = TOOLS,
        root: str | os.PathLike[str] | None = None,
    ) -> list[Finding]:
        """Run ``tools`` concurrently over ``path``; findings sorted by file, line, tool."""
        unknown = [tool for tool in tools if tool not in TOOLS]
        if unknown:
            raise CodeScanError(
                f"unknown code scanner {unknown[0]!r}: choose from {', '.join(TOOLS)}"
            )
        scanners = {"bandit": self.scan_with_bandit, "semgrep": self.scan_with_semgrep}
        chosen = list(dict.fromkeys(tools))
        if not chosen:
            return []
        with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="psr-code") as pool:
            futures = [pool.submit(scanners[tool], path, root=root) for tool in chosen]
            results = [future.result() for future in futures]
        return sorted((f for found in results for f in found), key=_finding_order)

    def scan_with_bandit(
        self, path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
    ) -> list[Finding]:
        """bandit's findings for ``path``, file paths relative to ``root``."""
        if importlib.util.find_spec("bandit") is None:
            raise ScannerNotInstalled("bandit")
        target, base = _target_and_root(path, root)
        self._last_root = base
        excluded = ",".join(str(target / name) for name in BANDIT_EXCLUDED_DIRS)
        argv = [sys.executable, "-m", "bandit", "-r", "-f", "json", "-q", "-x", excluded]
        targets = [str(target)]
        if target.is_dir():
            # bandit reads a linked file wherever it points (it printed a password from
            # outside the folder once): with links about, it gets the files by name instead.
            files, links = python_files(target, excluded_dirs=BANDIT_EXCLUDED_DIRS)
            if links:
                self._note_links(links)
                argv, targets = [sys.executable, "-m", "bandit", "-f", "json", "-q"], files
                if not files:
                    return []
        proc = _run_tool("bandit", [*argv, *targets], timeout=self.timeout)
        report = _json_output(proc)
        if proc.returncode not in (0, 1) or report is None:
            raise CodeScanError(
                f"bandit failed (exit {proc.returncode}) on {path}: {_summarise(proc.stderr)}"
            )
        self.warnings.extend(
            f"bandit: {e.get('filename', '?')}: {e.get('reason', 'error')}"
            for e in report.get("errors", [])
        )
        lines = _LineCache()
        return sorted(
            (
                _bandit_finding(item, base, lines)
                for item in report.get("results", [])
                if inside(base / str(item.get("filename", "")), base)
            ),
            key=_finding_order,
        )

    def scan_with_semgrep(
        self,
        path: str | os.PathLike[str],
        *,
        config: str | Sequence[str] | None = None,
        root: str | os.PathLike[str] | None = None,
    ) -> list[Finding]:
        """semgrep's findings for ``path`` with ``config`` (default: our rules), offline."""
        executable = find_semgrep()
        target, base = _target_and_root(path, root)
        self._last_root = base
        configs = _configs(config if config is not None else self.semgrep_rules)
        argv = [executable, "scan", "--json", "--metrics=off", "--disable-version-check"]
        argv += ["--no-rewrite-rule-ids", "--project-root", str(base)]
        for item in configs:
            argv += ["--config", item]
        proc = _run_tool("semgrep", [*argv, str(target)], timeout=self.timeout, env=_semgrep_env())
        report = _json_output(proc)
        if proc.returncode != 0 or report is None:
            raise CodeScanError(_semgrep_failure(proc, report, path, configs))
        self._versions["semgrep"] = str(report.get("version") or "")
        self.warnings.extend(
            ": ".join(filter(None, ("semgrep", e.get("path"), _first_line(e.get("message", "")))))
            for e in report.get("errors", [])
        )
        if target.is_dir():
            links = python_files(target)[1]
            if links:  # semgrep follows no link either; say which it left out
                self._note_links(links)
        lines = _LineCache()
        return sorted(
            (
                _semgrep_finding(item, base, lines)
                for item in report.get("results", [])
                if inside(base / str(item.get("path", "")), base)
            ),
            key=_finding_order,
        )

    def _note_links(self, links: Sequence[str]) -> None:
        note = skipped_links_note("code scan", links)
        if note not in self.remarks:  # bandit and semgrep find the same links
            self.remarks.append(note)

    def generate_sarif_report(
        self, findings: Iterable[Finding], *, base_dir: str | os.PathLike[str] | None = None
    ) -> str:
        """SARIF 2.1.0 text, one run per tool; URIs relative to ``base_dir`` (default: the
        root of the last scan, else the current directory)."""
        by_tool: dict[str, list[Finding]] = {}
        for finding in findings:
            by_tool.setdefault(finding.tool, []).append(finding)
        runs = [
            ToolRun(
                tool=tool,
                version=self.tool_version(tool),
                findings=group,
                information_uri=INFORMATION_URIS.get(tool, ""),
            )
            for tool, group in by_tool.items()
        ]
        base = base_dir if base_dir is not None else (self._last_root or Path.cwd())
        return sarif_json(runs, base_dir=str(base))

    def tool_version(self, tool: str) -> str:
        """The version of ``tool`` as installed ('' when it is not)."""
        if tool not in self._versions:
            import importlib.metadata  # ~20 ms; only SARIF and reports need versions

            try:
                self._versions[tool] = importlib.metadata.version(tool)
            except importlib.metadata.PackageNotFoundError:
                self._versions[tool] = ""
        return self._versions[tool]


def shipped_rules_dir() -> Path:
    """The directory of semgrep rules psr-engine ships, as a real path semgrep can read."""
    rules = importlib.resources.files("psr_engine").joinpath("gates", "rules")
    if isinstance(rules, Path):
        return rules
    return _extracted_rules()


@functools.cache
def _extracted_rules() -> Path:
    """Copy the rules out of a zipped install once per process; semgrep needs files."""
    target = Path(tempfile.mkdtemp(prefix="psr-semgrep-rules-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    pending = [(importlib.resources.files("psr_engine").joinpath("gates", "rules"), target)]
    while pending:
        source, dest = pending.pop()
        for entry in source.iterdir():
            if entry.is_dir():
                (dest / entry.name).mkdir()
                pending.append((entry, dest / entry.name))
            elif entry.name.endswith((".yaml", ".yml")):
                (dest / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def find_semgrep() -> str:
    """semgrep next to the running interpreter (its venv), else on PATH."""
    beside = Path(sys.executable).parent / "semgrep"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("semgrep")
    if found is None:
        raise ScannerNotInstalled("semgrep")
    return found


def _configs(config: str | Sequence[str] | None) -> list[str]:
    if config is None:
        return [str(shipped_rules_dir())]
    if isinstance(config, str):
        return [config]
    return [str(item) for item in config]


def _semgrep_env() -> dict[str, str]:
    env = dict(os.environ)
    # Without this semgrep waits on the network for ~100 s before scanning offline.
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env["SEMGREP_SEND_METRICS"] = "off"
    home = env.get("HOME", "")
    if not home or not os.access(home, os.W_OK):
        # semgrep writes settings and logs under HOME; CI users often have a read-only one.
        private = Path(tempfile.gettempdir()) / f"psr-engine-semgrep-{os.getuid()}"
        private.mkdir(mode=0o700, exist_ok=True)
        env["HOME"] = str(private)
        env["XDG_CACHE_HOME"] = str(private / "cache")
        env["XDG_CONFIG_HOME"] = str(private / "config")
    return env


def _target_and_root(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None
) -> tuple[Path, Path]:
    target = Path(path).resolve()
    if not target.exists():
        raise CodeScanError(f"{path}: no such file or directory to scan")
    base = (
        Path(root).resolve() if root is not None else target if target.is_dir() else target.parent
    )
    if not target.is_relative_to(base):
        raise CodeScanError(f"{path} is not inside the scan root {root}")
    return target, base


def _run_tool(
    tool: str, argv: list[str], *, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one scanner in its own process group, so a timeout kills its children too."""
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ScannerNotInstalled(tool) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise CodeScanError(
            f"{tool} did not finish within {timeout:g} s and was stopped; "
            "raise the gate's timeout or scan fewer paths"
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _json_output(proc: subprocess.CompletedProcess[str]) -> dict[str, Any] | None:
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def _semgrep_failure(
    proc: subprocess.CompletedProcess[str],
    report: dict[str, Any] | None,
    path: str | os.PathLike[str],
    configs: Sequence[str],
) -> str:
    errors = (report or {}).get("errors") or []
    detail = "; ".join(filter(None, (_semgrep_error(e) for e in errors[:4])))
    text = (
        f"semgrep failed (exit {proc.returncode}) scanning {path} with config "
        f"{', '.join(configs)}: {detail or _summarise(proc.stderr)}"
    )
    if any(c == "auto" or c.startswith(("p/", "r/", "s/")) for c in configs):
        text += "\n  hint: registry configs need the network; use a local rules file or directory"
    return text


def _semgrep_error(error: dict[str, Any]) -> str:
    """One semgrep JSON error as 'file:line:col: what', e.g. a rule missing its message."""
    parts = (_first_line(str(error.get(key) or "")) for key in ("short_msg", "long_msg", "message"))
    text = ": ".join(part for part in dict.fromkeys(parts) if part)
    spans = error.get("spans") or []
    if spans and text:
        start = spans[0].get("start") or {}
        text = f"{spans[0].get('file', '')}:{start.get('line', 0)}:{start.get('col', 0)}: {text}"
    return text


def _summarise(stderr: str, *, lines: int = 6, limit: int = 800) -> str:
    """The last lines of a tool's stderr; of a Python traceback, only the exception line."""
    kept = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in kept):
        kept = kept[-1:]
    summary = " | ".join(kept[-lines:]) or "no error output"
    return summary if len(summary) <= limit else "…" + summary[-limit:]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


class _LineCache:
    """Source lines of scanned files, read once each, for snippets and fingerprints."""

    def __init__(self) -> None:
        self._files: dict[Path, list[str]] = {}

    def line(self, path: Path, number: int) -> str:
        if path not in self._files:
            try:
                self._files[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._files[path] = []
        lines = self._files[path]
        return lines[number - 1].strip() if 1 <= number <= len(lines) else ""


def _relative(filename: str, base: Path) -> tuple[Path, str]:
    absolute = (base / filename).resolve()
    try:
        return absolute, absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute, absolute.as_posix()


def _bandit_finding(item: dict[str, Any], base: Path, lines: _LineCache) -> Finding:
    absolute, relative = _relative(str(item.get("filename", "")), base)
    line = int(item.get("line_number") or 0)
    severity_name = str(item.get("issue_severity", "")).upper()
    confidence_name = str(item.get("issue_confidence", "")).upper()
    line_range = [int(n) for n in item.get("line_range") or [] if isinstance(n, int)]
    cwe = (item.get("issue_cwe") or {}).get("id")
    properties: dict[str, Any] = {
        "bandit_severity": severity_name,
        "bandit_confidence": confidence_name,
    }
    if cwe:
        properties["cwe"] = [f"CWE-{cwe}"]
    return Finding(
        tool="bandit",
        rule_id=str(item.get("test_id", "")),
        severity=BANDIT_SEVERITY.get((severity_name, confidence_name), "low"),
        message=str(item.get("issue_text", "")).strip(),
        file=relative,
        line=line,
        column=int(item.get("col_offset") or 0) + 1,
        end_line=max(line_range, default=line),
        confidence=_confidence(confidence_name),
        rule_name=str(item.get("test_name", "")),
        help_uri=str(item.get("more_info", "")),
        snippet=lines.line(absolute, line),
        properties=properties,
    )


def _semgrep_finding(item: dict[str, Any], base: Path, lines: _LineCache) -> Finding:
    absolute, relative = _relative(str(item.get("path", "")), base)
    extra = item.get("extra") or {}
    meta = extra.get("metadata") or {}
    start, end = item.get("start") or {}, item.get("end") or {}
    line = int(start.get("line") or 0)
    rule_id = str(item.get("check_id", ""))
    native = str(extra.get("severity", "")).upper()
    ours = str(meta.get("psr-severity", "")).lower()
    severity: Severity = ours if ours in _SEVERITY_NAMES else SEMGREP_SEVERITY.get(native, "medium")  # type: ignore[assignment]
    references = [str(r) for r in _as_list(meta.get("references")) if str(r).startswith("http")]
    properties: dict[str, Any] = {"semgrep_severity": native}
    for key in ("cwe", "owasp"):
        if meta.get(key):
            properties[key] = _as_list(meta[key])
    if references:
        properties["references"] = references
    if extra.get("fix"):
        properties["fix"] = extra["fix"]
    return Finding(
        tool="semgrep",
        rule_id=rule_id,
        severity=severity,
        message=" ".join(str(extra.get("message", "")).split()),
        file=relative,
        line=line,
        column=int(start.get("col") or 0),
        end_line=int(end.get("line") or line),
        confidence=_confidence(str(meta.get("confidence", ""))),
        rule_name=str(meta.get("title") or rule_id.rsplit(".", 1)[-1]),
        help_uri=references[0] if references else str(meta.get("source") or ""),
        snippet=lines.line(absolute, line),
        properties=properties,
    )


_SEVERITY_NAMES = frozenset(("low", "medium", "high", "critical"))


def _confidence(name: str) -> Confidence:
    lowered = name.lower()
    return lowered if lowered in ("low", "medium", "high") else "medium"  # type: ignore[return-value]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _finding_order(finding: Finding) -> tuple[Any, ...]:
    return (finding.file, finding.line, finding.column, finding.tool, finding.rule_id)


__all__ = [
    "BANDIT_SEVERITY",
    "SEMGREP_SEVERITY",
    "CodeAnalyzer",
    "CodeScanError",
    "ScannerNotInstalled",
    "find_semgrep",
    "shipped_rules_dir",
]
