"""SecretScanner: credentials committed to source, found before a workflow runs.

A text is scanned rule by rule (see ``secret_rules``), each rule only when one of its keywords
occurs in it; matches go through the allowlist (``secret_filters``), overlapping matches keep
the most specific rule, and what is left becomes Findings that never hold the secret itself:
a 4-character preview, a redacted snippet and a SHA-256 of the value (the fingerprint anchor,
so a baseline entry survives the line moving). Trees are walked honouring .gitignore and
.psrignore (``secret_walk``); large trees are scanned on every core.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.baseline import load_baseline, write_baseline
from psr_engine.gates.findings import Confidence, Finding
from psr_engine.gates.secret_filters import (
    generic_name_ok,
    generic_value_ok,
    has_pragma,
    is_allowed,
    is_env_read,
)
from psr_engine.gates.secret_pool import scan_in_pool
from psr_engine.gates.secret_rule import SecretRule
from psr_engine.gates.secret_rules import ALL_RULES
from psr_engine.gates.secret_walk import is_binary, iter_files, read_text

TOOL = "psr-secrets"
DEFAULT_ENTROPY_THRESHOLD = 3.5  # bits per character, base64-like values; hex: 0.5 less
# A process pool costs ~0.1 s to start; one core scans ~15 MB/s. Below these, a plain loop wins.
PARALLEL_MIN_FILES = 64
PARALLEL_MIN_BYTES = 8_000_000
SNIPPET_WIDTH = 160
NOTE_PATHS = 3  # oversized files named in the note; the report has them all
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")

# In these files a value assigned to a secret-like name must be a quoted literal: an unquoted
# right-hand side is code (`token = next_token()`), not data. Elsewhere (.env, YAML, INI,
# properties, shell) bare values count too.
_QUOTED_ONLY_SUFFIXES = frozenset(
    [
        ".py",
        ".pyi",
        ".pyw",
        ".js",
        ".mjs",
        ".cjs",
        ".jsx",
        ".ts",
        ".tsx",
        ".java",
        ".kt",
        ".kts",
        ".scala",
        ".groovy",
        ".gradle",
        ".go",
        ".rb",
        ".php",
        ".cs",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".rs",
        ".swift",
        ".m",
        ".lua",
        ".pl",
        ".r",
        ".dart",
        ".vue",
        ".svelte",
        ".tf",
        ".tfvars",
        ".hcl",
        ".json",
        ".ipynb",
        ".toml",
        ".html",
        ".htm",
        ".xml",
        ".md",
        ".rst",
        ".txt",
        ".csv",
        ".sql",
    ]
)


@dataclass(frozen=True, slots=True)
class SecretScanReport:
    """What a tree scan found and how much it read."""

    findings: list[Finding]
    files_scanned: int = 0
    lines_scanned: int = 0
    bytes_scanned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> files
    too_large: tuple[str, ...] = ()  # files over max_file_bytes, not read (relative paths)
    max_file_bytes: int = 0
    links: tuple[str, ...] = ()  # symbolic links not followed (relative paths)

    def skipped_note(self) -> str | None:
        """What a reader must be told: files too large to scan, or None when there are none."""
        if not self.too_large:
            return None
        count = len(self.too_large)
        shown = ", ".join(self.too_large[:NOTE_PATHS])
        more = f" and {count - NOTE_PATHS} more" if count > NOTE_PATHS else ""
        limit = f"{self.max_file_bytes / 1_000_000:g} MB"
        return (
            f"{count} file{'s' if count != 1 else ''} over {limit} not scanned for secrets: "
            f"{shown}{more}"
        )


@dataclass(slots=True)
class _Match:
    rule: SecretRule
    priority: int
    value: str
    start: int  # of the value in the text
    end: int
    anchor: int  # where the finding points (the value, or a PEM BEGIN line)
    name: str = ""  # the generic rule's `name` in `name = value`
    entropy: float | None = None


def preview_of(secret: str) -> str:
    """The first 4 characters and an ellipsis; fewer for short values, never the whole."""
    shown = 4 if len(secret) >= 12 else max(1, len(secret) // 3)
    return secret[:shown] + "…"


def _allows_bare_values(file: str) -> bool:
    name = file.rsplit("/", 1)[-1].lower()
    return os.path.splitext(name)[1] not in _QUOTED_ONLY_SUFFIXES


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


class SecretScanner:
    """Finds credentials in text, files and trees. See the module docstring for the approach.

    ``rules``: the SecretRules to apply (default: all of ``secret_rules.ALL_RULES``).
    ``entropy_threshold``: bits per character a generic `name = value` must reach.
    ``max_file_bytes``: larger files are skipped. ``baseline``: a baseline file written by
    ``write_baseline`` (or an iterable of fingerprints) whose findings are dropped.
    ``workers``: processes for large trees (default: the cores this process may use).
    ``exclude``: extra gitignore-style patterns, relative to the scanned root.
    """

    def __init__(
        self,
        *,
        rules: Iterable[SecretRule] | None = None,
        entropy_threshold: float = DEFAULT_ENTROPY_THRESHOLD,
        max_file_bytes: int = 1_000_000,
        baseline: str | os.PathLike[str] | Iterable[str] | None = None,
        workers: int | None = None,
        exclude: Sequence[str] = (),
    ) -> None:
        self.rules: tuple[SecretRule, ...] = tuple(rules) if rules is not None else ALL_RULES
        self._keywords = tuple(sorted({k for rule in self.rules for k in rule.keywords}))
        self.entropy_threshold = entropy_threshold
        self.max_file_bytes = max_file_bytes
        self.baseline: frozenset[str] = _load_baseline(baseline)
        self.workers = workers if workers is not None else _usable_cores()
        self.exclude = tuple(exclude)

    def __repr__(self) -> str:
        return (
            f"SecretScanner(rules={len(self.rules)}, entropy_threshold={self.entropy_threshold}, "
            f"max_file_bytes={self.max_file_bytes}, baseline={len(self.baseline)} entries, "
            f"workers={self.workers})"
        )

    # -- public API -------------------------------------------------------------------------

    def scan_text(self, text: str, *, file: str = "<text>") -> list[Finding]:
        """Findings in ``text``, reported against ``file`` (a path relative to the root)."""
        return self._drop_baselined(self._detect(text, file))

    def scan_file(
        self, path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
    ) -> list[Finding]:
        """Findings in one file; ``file`` in each is relative to ``root`` when given.

        Binary files (a NUL byte in the first 8 KiB) and files over ``max_file_bytes`` give
        no findings.
        """
        path = Path(path)
        if not path.is_file():
            raise DiagnosedError(
                Diagnostic(
                    str(path), 0, 0, "no such file to scan for secrets", hint="check the path"
                )
            )
        rel = path.relative_to(root).as_posix() if root is not None else path.as_posix()
        text, _ = read_text(str(path), max_bytes=self.max_file_bytes)
        return [] if text is None else self.scan_text(text, file=rel)

    def scan_directory(self, path: str | os.PathLike[str]) -> list[Finding]:
        """Findings in every file under ``path`` that git would track (see ``scan_tree``)."""
        return self.scan_tree(path).findings

    def scan_tree(self, path: str | os.PathLike[str]) -> SecretScanReport:
        """Scan a tree, honouring .gitignore/.psrignore; also says how much was read."""
        root = Path(path)
        if not root.is_dir():
            raise DiagnosedError(
                Diagnostic(
                    str(root), 0, 0, "no such folder to scan for secrets", hint="check the path"
                )
            )
        skipped: Counter[str] = Counter()
        todo: list[tuple[str, str]] = []
        too_large: list[str] = []
        total_bytes = 0
        links: list[str] = []
        for abs_path, rel, size in iter_files(root, exclude=self.exclude, links=links):
            if size > self.max_file_bytes:
                if is_binary(abs_path):  # a large binary is skipped as a binary, unsaid
                    skipped["binary"] += 1
                    continue
                skipped["too_large"] += 1
                too_large.append(rel)
            else:
                todo.append((abs_path, rel))
                total_bytes += size
        big = len(todo) >= PARALLEL_MIN_FILES and total_bytes >= PARALLEL_MIN_BYTES
        if self.workers > 1 and big:
            results = scan_in_pool(self, todo)
        else:
            results = [self._scan_one(abs_path, rel) for abs_path, rel in todo]
        findings: list[Finding] = []
        files = lines = nbytes = 0
        for (_, rel), result in zip(todo, results, strict=True):
            if result.skip_reason:
                skipped[result.skip_reason] += 1
                if result.skip_reason == "too_large":  # grew between the walk and the read
                    too_large.append(rel)
                continue
            files += 1
            lines += result.lines
            nbytes += result.nbytes
            findings.extend(result.findings)
        findings = self._drop_baselined(findings)
        findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule_id))
        return SecretScanReport(
            findings,
            files,
            lines,
            nbytes,
            dict(skipped),
            tuple(sorted(too_large)),
            self.max_file_bytes,
            tuple(links),
        )

    def validate_secret_type(self, secret: str, type: str) -> bool:
        """Does ``secret`` have the shape of credential ``type`` (a rule id)?

        Shape only: a documented example such as AKIAIOSFODNN7EXAMPLE has the shape of an AWS
        access key ID. For ``database-url`` the whole URL is the value; for ``private-key`` and
        ``openssh-private-key`` the whole PEM block.
        """
        rules = [rule for rule in self.rules if rule.id == type]
        if not rules:
            known = ", ".join(sorted({rule.id for rule in self.rules}))
            raise ValueError(f"unknown secret type {type!r}; known types: {known}")
        for rule in rules:
            if not rule.shape.fullmatch(secret):
                continue
            if rule.generic:
                return generic_value_ok(secret, self.entropy_threshold)[0]
            if rule.validator is None or rule.validator(secret):
                return True
        return False

    @staticmethod
    def write_baseline(findings: Iterable[Finding], path: str | os.PathLike[str]) -> None:
        """Accept these findings: write their fingerprints (a JSON list) to ``path``."""
        write_baseline(findings, path)

    # -- detection --------------------------------------------------------------------------

    def _drop_baselined(self, findings: list[Finding]) -> list[Finding]:
        if not self.baseline:
            return findings
        return [f for f in findings if f.fingerprint not in self.baseline]

    def _scan_one(self, abs_path: str, rel: str) -> FileResult:
        text, reason = read_text(abs_path, max_bytes=self.max_file_bytes)
        if text is None:
            return FileResult([], 0, 0, reason)
        return FileResult(self._detect(text, rel), _count_lines(text), len(text), "")

    def _detect(self, text: str, file: str) -> list[Finding]:
        matches = self._matches(text, file)
        if not matches:
            return []
        starts = _line_starts(text)
        kept = [m for m in matches if self._accept(m, text, starts)]
        kept = _most_specific(kept)
        secrets = sorted({m.value for m in kept}, key=len, reverse=True)
        return [self._finding(m, text, starts, file, secrets) for m in kept]

    def _matches(self, text: str, file: str) -> list[_Match]:
        lowered = text.lower()
        bare_ok = _allows_bare_values(file)
        found: list[_Match] = []
        present = _keywords_in(lowered, self._keywords)
        for priority, rule in enumerate(self.rules):
            if rule.keywords and present.isdisjoint(rule.keywords):
                continue
            if rule.context is not None and not rule.context.search(text):
                continue
            for pattern in rule.patterns:
                for m in _candidates(pattern, rule, text, lowered):
                    group = "secret"
                    if m.group(group) is None:
                        group = "bare"
                        if not bare_ok:
                            continue
                    name = ""
                    if rule.generic:
                        name = _name_before(text, m)
                        if not name or not generic_name_ok(name):
                            continue
                    anchor = m.start() if rule.at_match_start else m.start(group)
                    found.append(
                        _Match(
                            rule,
                            priority,
                            m.group(group),
                            m.start(group),
                            m.end(group),
                            anchor,
                            name=name,
                        )
                    )
        return found

    def _accept(self, m: _Match, text: str, starts: list[int]) -> bool:
        line = _line_text(text, starts, m.start)
        if m.anchor != m.start and has_pragma(_line_text(text, starts, m.anchor)):
            return False
        if is_allowed(m.value, line, m.rule.allowlist):
            return False
        if m.rule.validator is not None and not m.rule.validator(m.value):
            return False
        if m.rule.generic:
            if is_env_read(line):
                return False
            ok, m.entropy = generic_value_ok(m.value, self.entropy_threshold, name=m.name)
            return ok
        return True

    def _finding(
        self, m: _Match, text: str, starts: list[int], file: str, secrets: list[str]
    ) -> Finding:
        index = bisect.bisect_right(starts, m.anchor) - 1
        column = m.anchor - starts[index] + 1
        confidence: Confidence = m.rule.confidence
        properties: dict[str, object] = {
            "fingerprint_anchor": hashlib.sha256(m.value.encode()).hexdigest(),
            "secret_length": len(m.value),
        }
        if m.entropy is not None:
            properties["entropy"] = round(m.entropy, 2)
            if m.entropy < self.entropy_threshold:
                confidence = "low"
        return Finding(
            tool=TOOL,
            rule_id=m.rule.id,
            severity=m.rule.severity,
            confidence=confidence,
            message=(
                f"{m.rule.title} found in source: revoke it, then read it from a secret store "
                "or the environment instead"
            ),
            file=file,
            line=index + 1,
            column=column,
            end_line=index + 1,
            rule_name=m.rule.title,
            snippet=_snippet(_line_text(text, starts, m.anchor), column, secrets),
            preview=preview_of(m.value),
            properties=properties,
        )


@dataclass(frozen=True, slots=True)
class FileResult:
    findings: list[Finding]
    lines: int
    nbytes: int
    skip_reason: str


@functools.cache
def _automaton(keywords: tuple[str, ...]) -> Any:
    """One Aho-Corasick automaton of every rule's keywords (built once per process)."""
    import ahocorasick_rs

    return ahocorasick_rs.AhoCorasick(keywords)


def _keywords_in(lowered: str, keywords: tuple[str, ...]) -> set[str]:
    """Which keywords occur in the text: one pass for all of them, not one search each (16x
    less CPU on a site-packages than ``keyword in text`` per keyword)."""
    if not keywords:
        return set()
    return set(_automaton(keywords).find_matches_as_strings(lowered, overlapping=True))


def _candidates(
    pattern: re.Pattern[str], rule: SecretRule, text: str, lowered: str
) -> Iterator[re.Match[str]]:
    """The pattern's matches; the generic rule's tried only where one of its keywords starts.

    (A case-insensitive alternation at the start of a pattern defeats the regex engine's
    prefix search, so searching with it costs more than finding the keywords with str.find.)
    """
    if not rule.generic or len(lowered) != len(text):  # lower() may change lengths: İ
        yield from pattern.finditer(text)
        return
    for keyword in rule.keywords:
        pos = lowered.find(keyword)
        while pos != -1:
            m = pattern.match(text, pos)
            if m is not None:
                yield m
            pos = lowered.find(keyword, pos + 1)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _line_text(text: str, starts: list[int], pos: int) -> str:
    index = bisect.bisect_right(starts, pos) - 1
    end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
    return text[starts[index] : end].rstrip("\r")


def _name_before(text: str, m: re.Match[str]) -> str:
    """The whole name a generic match's keyword sits in: `DB_PASSWORD`, `auth.token`.

    Empty when the name is only the last part of a qualified key (``AWS::IAM::AccessKey``,
    ``caching/requireAuthorization``): a thing's name with a secret word in it, not a variable
    holding a secret.
    """
    start = m.start()
    while start > 0 and text[start - 1] in _NAME_CHARS:
        start -= 1
    if text[max(0, start - 2) : start] == "::" or text[start - 1 : start] == "/":
        return ""
    return text[start : m.end("suffix")]


def _most_specific(matches: list[_Match]) -> list[_Match]:
    """Where matches overlap, keep the one from the earliest (most specific) rule."""
    kept: list[_Match] = []
    for m in sorted(matches, key=lambda m: (m.priority, m.start)):
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    kept.sort(key=lambda m: m.anchor)
    return kept


def _snippet(line: str, column: int, secrets: list[str]) -> str:
    """The line with every secret found in the file replaced by its preview, cut to size."""
    for secret in secrets:  # longest first, so no secret is half-replaced by a shorter one
        if secret in line:
            line = line.replace(secret, preview_of(secret))
    if len(line) > SNIPPET_WIDTH:
        start = max(0, min(column - 1 - SNIPPET_WIDTH // 2, len(line) - SNIPPET_WIDTH))
        line = ("…" if start else "") + line[start : start + SNIPPET_WIDTH] + "…"
    return line.strip()


def _load_baseline(baseline: str | os.PathLike[str] | Iterable[str] | None) -> frozenset[str]:
    if baseline is None:
        return frozenset()
    if not isinstance(baseline, str | os.PathLike):
        return frozenset(baseline)
    return load_baseline(baseline)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
