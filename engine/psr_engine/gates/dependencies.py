"""The dependency gate: pinned dependencies checked against OSV advisories, offline or online.

Only exact versions are checked (``==``/``===`` pins, lock files, the installed environment).
A range such as ``requests>=2.0`` could resolve to many versions; guessing one would either cry
wolf or miss, so ranges are reported as ``unpinned`` notes instead (see ``scanner.notes``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.boundary import inside, skipped_links_note
from psr_engine.gates.findings import SEVERITIES, Finding, Severity
from psr_engine.gates.osv import Advisory, parse_version
from psr_engine.gates.osv_api import OsvApi
from psr_engine.gates.osv_index import OsvIndex, open_index
from psr_engine.gates.requirements import (
    DEPENDENCY_FILES,
    Dependency,
    DependencySet,
    Note,
    read_dependencies,
    read_environment,
)

TOOL = "osv"


class DependencyVulnerabilityScanner:
    """Finds known vulnerabilities (OSV advisories) in pinned Python dependencies.

    Offline by default: ``osv_db`` (or ``$PSR_OSV_DB``) names a folder of OSV records, indexed
    once into ``cache_dir`` (default ``~/.cache/psr-engine/osv/``). ``online=True`` asks the
    OSV API at ``api_url`` instead. ``unscored_as``: the severity of an advisory whose record
    gives none (no CVSS vector, no named severity): high by default, so that the default
    ``failOn: high`` does not wave it through. After each scan, ``notes`` says what was not
    checked and ``unscored`` lists the advisories that had no severity of their own.
    """

    def __init__(
        self,
        *,
        osv_db: str | None = None,
        online: bool = False,
        api_url: str = "https://api.osv.dev",
        cache_dir: str | os.PathLike[str] | None = None,
        timeout: float = 30,
        unscored_as: Severity = "high",
    ) -> None:
        if unscored_as not in SEVERITIES:
            raise DiagnosedError(
                f"unscored_as must be one of {', '.join(SEVERITIES)}, not {unscored_as!r}"
            )
        self.osv_db = osv_db or os.environ.get("PSR_OSV_DB") or None
        self.online = online
        self.api_url = api_url
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.timeout = timeout
        self.unscored_as: Severity = unscored_as
        self.notes: list[Note] = []
        self.unscored: list[str] = []  # ids of the last scan's advisories that had no severity
        self._index: OsvIndex | None = None
        self._api: OsvApi | None = None

    # --- the advisory source -------------------------------------------------------------------

    @property
    def index(self) -> OsvIndex:
        """The offline index, opened on first use (from the cache when it is fresh)."""
        if self._index is None:
            if not self.osv_db:
                raise DiagnosedError(
                    Diagnostic(
                        file="",
                        line=0,
                        column=0,
                        message="no OSV database to scan dependencies against",
                        hint="set osv_db or $PSR_OSV_DB to a folder of OSV records (e.g. a"
                        " checkout of pypa/advisory-database), or scan online",
                    )
                )
            self._index = open_index(self.osv_db, cache_dir=self.cache_dir)
        return self._index

    @property
    def api(self) -> OsvApi:
        if self._api is None:
            self._api = OsvApi(self.api_url, timeout=self.timeout)
        return self._api

    def check_cves(self, name: str, version: str) -> list[Advisory]:
        """The advisories affecting ``name==version`` (withdrawn ones excluded), sorted by id."""
        return self._lookup([(name, version)])[0]

    def _lookup(self, pins: list[tuple[str, str]]) -> list[list[Advisory]]:
        if not pins:
            return []
        if self.online:
            found = self.api.affecting(pins)
            return [sorted((a for a in hits if not a.withdrawn), key=_by_id) for hits in found]
        index = self.index
        return [
            sorted(
                (a for a in index.advisories_for(canonicalize_name(n)) if a.affects(n, v)),
                key=_by_id,
            )
            for n, v in pins
        ]

    # --- scans ---------------------------------------------------------------------------------

    def scan_requirements(
        self, file: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
    ) -> list[Finding]:
        """Findings for one dependency file (requirements, pyproject, poetry/uv/Pipfile lock)."""
        self.notes = []
        return self._scan_set(read_dependencies(file), root=root)

    def scan_environment(self, *, paths: list[str] | None = None) -> list[Finding]:
        """Findings for the distributions installed here (or on ``paths``, like sys.path)."""
        self.notes = []
        return self._scan_set(read_environment(paths), root=None)

    def scan(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        root: str | os.PathLike[str] | None = None,
    ) -> list[Finding]:
        """Findings for files, and for the dependency files at the top of folders.

        A folder contributes pyproject.toml, poetry.lock, uv.lock, Pipfile.lock and
        requirements*.txt found directly in it (not below: virtualenvs live there).
        """
        self.notes = []
        combined = DependencySet()
        for path in paths:
            files = _dependency_files(Path(path))
            kept = [f for f in files if f == Path(path) or inside(f, path)]
            if len(kept) < len(files):
                left = [str(f.relative_to(path)) for f in files if f not in kept]
                self.notes.append(Note("skipped", skipped_links_note("dependency scan", left)))
            within = root if root is not None else (path if Path(path).is_dir() else None)
            for file in kept:
                combined.extend(read_dependencies(file, root=within or file.parent))
        return self._scan_set(combined, root=root)

    def _scan_set(
        self, found: DependencySet, *, root: str | os.PathLike[str] | None
    ) -> list[Finding]:
        base = Path(root) if root is not None else Path.cwd()
        # Notes name files the way findings do: relative to the root.
        self.notes.extend(replace(n, source=_relative(n.source, base)) for n in found.notes)
        checkable: list[Dependency] = []
        for dep in found.dependencies:
            if dep.version is None:
                continue  # noted as unpinned by the reader
            if parse_version(dep.version) is None:
                self.notes.append(
                    Note(
                        "skipped",
                        f"{dep.name}: {dep.version!r} is not a PEP 440 version",
                        _relative(dep.source, base),
                        dep.line,
                    )
                )
                continue
            checkable.append(dep)
        hits = self._lookup([(d.name, d.version or "") for d in checkable])
        findings = [
            _finding(dep, advisory, base, self.unscored_as)
            for dep, advisories in zip(checkable, hits, strict=True)
            for advisory in advisories
        ]
        self.unscored = sorted({f.rule_id for f in findings if f.properties.get("unscored")})
        return sorted(findings, key=lambda f: (f.file, f.line, f.rule_id))


def _finding(dep: Dependency, advisory: Advisory, base: Path, unscored_as: Severity) -> Finding:
    version = dep.version or ""
    fixed = advisory.first_fix_above(dep.name, version)
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    remedy = f"fixed in {fixed}" if fixed else "no fixed version known"
    unscored = advisory.severity is None
    # Said in the message itself, first, so the console table (which clips messages), SARIF
    # and JSON all carry it.
    why = f" (unscored: counted as {unscored_as})" if unscored else ""
    return Finding(
        tool=TOOL,
        rule_id=advisory.id,
        severity=advisory.severity or unscored_as,
        message=f"{dep.name}=={version}{why}: {advisory.summary}{aliases}; {remedy}",
        file=_relative(dep.source, base),
        line=dep.line,
        confidence="high",  # an exact version inside an advisory's affected set
        rule_name=advisory.summary,
        help_uri=advisory.url,
        properties={
            "package": dep.name,
            "version": version,
            "aliases": list(advisory.aliases),
            "fixed": fixed,
            "advisory_url": advisory.url,
            "severity_source": advisory.severity_source,
            "unscored": unscored,
            "suggestion": f"upgrade to >= {fixed}" if fixed else "",
            # Findings.fingerprint keys on this, so moving the line keeps a baseline valid.
            "fingerprint_anchor": f"{dep.name}=={version}",
        },
    )


def _relative(source: str, base: Path) -> str:
    if not source:
        return ""
    path = Path(source).resolve()
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return Path(source).as_posix()


def _dependency_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]  # read_dependencies reports a missing file
    found = [path / name for name in DEPENDENCY_FILES if (path / name).is_file()]
    found += sorted(p for p in path.glob("requirements*.txt") if p.is_file())
    return found


def _by_id(advisory: Advisory) -> str:
    return advisory.id
