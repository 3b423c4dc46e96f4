"""Dependencies from project files: pyproject.toml, poetry.lock, uv.lock and Pipfile.lock.

Lock files pin every version, so everything in them is checked. pyproject.toml states ranges;
only its exact pins are checked, the rest are noted as unpinned. TOML carries no positions, so
each dependency's line is found by looking for its entry in the text (0 when not found).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.osv import parse_version
from psr_engine.gates.requirements import (
    Dependency,
    DependencySet,
    DirectReference,
    Note,
    dependency_from_requirement,
    direct_reference,
    marker_holds,
)

_NOT_FROM_AN_INDEX = ("git", "path", "url", "file", "directory", "editable", "virtual")


class _Lines:
    """Finds the line of an entry in a text file, searching forward from a section."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, pattern: str, *, after: int = 0) -> int:
        """1-based number of the first line at or after ``after`` matching ``pattern``, or 0."""
        compiled = re.compile(pattern)
        for number in range(max(after, 1), len(self.lines) + 1):
            if compiled.search(self.lines[number - 1]):
                return number
        return 0


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise DiagnosedError(
            Diagnostic(str(path), 0, 0, f"not valid TOML: {exc}", hint="fix the TOML syntax")
        ) from None


def _table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pep508_entries(
    entries: object, *, source: Path, lines: _Lines, section: int, extra: str, out: DependencySet
) -> None:
    """[project] dependencies / optional-dependencies / dependency-groups: PEP 508 strings."""
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, str):
            continue  # {include-group = "..."}: its members are listed under their own group
        line = lines.find(re.escape(json.dumps(entry)[1:-1]), after=section)
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as exc:
            raise DiagnosedError(
                Diagnostic(str(source), line, 0, f"not a valid requirement: {entry!r} ({exc})")
            ) from None
        if requirement.url:
            out.notes.append(
                Note("skipped", f"not checked (direct reference): {entry}", str(source), line)
            )
            if marker_holds(requirement, extra):
                out.direct.append(direct_reference(entry, source=str(source), line=line))
        elif not marker_holds(requirement, extra):
            out.notes.append(Note("marker", f"{entry}: marker false here", str(source), line))
        else:
            out.dependencies.append(
                dependency_from_requirement(requirement, source=str(source), line=line)
            )


def _marker_false(name: str, markers: str) -> bool:
    """Whether a lock's marker string is false here; an unparseable one counts as true."""
    if not markers:
        return False
    try:
        return not marker_holds(Requirement(f"{name}; {markers}"))
    except InvalidRequirement:
        return False  # tools accept markers packaging does not: check the dependency anyway


def _poetry_pin(constraint: str) -> str | None:
    """Poetry's exact versions: ``1.2.3`` or ``==1.2.3``; carets, tildes and ranges are not."""
    text = constraint.strip().removeprefix("==").strip()
    return text if parse_version(text) is not None else None


def _poetry_entries(
    table: Mapping[str, Any], *, source: Path, lines: _Lines, section: int, out: DependencySet
) -> None:
    for name, spec in table.items():
        if canonicalize_name(name) == "python":
            continue
        line = lines.find(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=", after=section)
        for one in spec if isinstance(spec, list) else [spec]:
            details = one if isinstance(one, Mapping) else {"version": one}
            if any(key in details for key in _NOT_FROM_AN_INDEX):
                out.notes.append(
                    Note("skipped", f"not checked (not from an index): {name}", str(source), line)
                )
                out.direct.append(_direct_entry(name, details, source=str(source), line=line))
                continue
            constraint = str(details.get("version", "*"))
            markers = str(details.get("markers", ""))
            if _marker_false(name, markers):
                out.notes.append(Note("marker", f"{name}: marker false here", str(source), line))
                continue
            out.dependencies.append(
                Dependency(
                    name=canonicalize_name(name),
                    version=_poetry_pin(constraint),
                    specifier=constraint,
                    extras=tuple(sorted(details.get("extras", ()))),
                    marker=markers,
                    source=str(source),
                    line=line,
                    spelled=_spelled(name),
                )
            )


def read_pyproject(path: Path) -> DependencySet:
    """[project] dependencies and optional-dependencies, [dependency-groups], and poetry's."""
    data, text = _load_toml(path)
    lines = _Lines(text)
    out = DependencySet()
    project = _table(data.get("project"))
    start = lines.find(r"^\s*\[project\]")
    _pep508_entries(
        project.get("dependencies"), source=path, lines=lines, section=start, extra="", out=out
    )
    optional_start = lines.find(r"^\s*\[project\.optional-dependencies\]") or start
    for extra, entries in _table(project.get("optional-dependencies")).items():
        section = lines.find(rf"^\s*[\"']?{re.escape(extra)}[\"']?\s*=", after=optional_start)
        _pep508_entries(entries, source=path, lines=lines, section=section, extra=extra, out=out)
    groups_start = lines.find(r"^\s*\[dependency-groups\]")
    for group, entries in _table(data.get("dependency-groups")).items():
        section = lines.find(rf"^\s*[\"']?{re.escape(group)}[\"']?\s*=", after=groups_start)
        _pep508_entries(entries, source=path, lines=lines, section=section, extra="", out=out)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    tables = [("tool.poetry.dependencies", poetry.get("dependencies"))]
    tables.append(("tool.poetry.dev-dependencies", poetry.get("dev-dependencies")))
    for group, body in _table(poetry.get("group")).items():
        tables.append((f"tool.poetry.group.{group}.dependencies", _table(body).get("dependencies")))
    for header, table in tables:
        section = lines.find(rf"^\s*\[{re.escape(header)}\]")
        _poetry_entries(_table(table), source=path, lines=lines, section=section, out=out)
    for dep in out.dependencies:
        if dep.version is None:
            out.notes.append(
                Note(
                    "unpinned",
                    f"{dep.name} {dep.specifier or '(any)'}: not pinned, not checked",
                    dep.source,
                    dep.line,
                )
            )
    return out


def _locked_packages(path: Path, *, kind: str) -> DependencySet:
    """poetry.lock and uv.lock: [[package]] tables with name, version and source."""
    data, text = _load_toml(path)
    lines = _Lines(text)
    out = DependencySet()
    cursor = 0  # packages appear in file order; a name may repeat with another version
    for package in data.get("package") or ():
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str):
            continue
        line = lines.find(rf"^\s*name\s*=\s*\"{re.escape(name)}\"", after=cursor + 1)
        cursor = line or cursor
        source = _table(package.get("source"))
        source_kind = str(source.get("type", "")) if kind == "poetry" else next(iter(source), "")
        out.graph[canonicalize_name(name)] = _locked_needs(package, kind=kind)
        if source_kind in _NOT_FROM_AN_INDEX:
            out.notes.append(
                Note("skipped", f"not checked ({source_kind} source): {name}", str(path), line)
            )
            out.direct.append(
                DirectReference(
                    name=name,
                    location=_source_location(source, source_kind),
                    editable=source_kind in ("editable", "virtual") or bool(package.get("develop")),
                    version=version if isinstance(version, str) else None,
                    source=str(path),
                    line=line,
                )
            )
            continue
        if not isinstance(version, str):
            out.notes.append(Note("unpinned", f"{name}: no version in the lock", str(path), line))
            continue
        out.dependencies.append(
            Dependency(
                name=canonicalize_name(name),
                version=version,
                specifier=f"=={version}",
                source=str(path),
                line=line,
                spelled=_spelled(name),
            )
        )
    return out


def _direct_entry(
    name: str, details: Mapping[str, Any], *, source: str, line: int
) -> DirectReference:
    """A poetry or Pipfile.lock entry with `git`, `path`, `url`... instead of a version."""
    location = _source_location(details, "local")
    version = str(details.get("version", "")).removeprefix("==") or None
    return DirectReference(
        name=name,
        location=location,
        editable=bool(details.get("editable") or details.get("develop")),
        version=version if version and parse_version(version) is not None else None,
        source=source,
        line=line,
    )


def _spelled(name: str) -> str:
    """The name as written when it differs from its normalised form ("" otherwise)."""
    return name if name != canonicalize_name(name) else ""


def _locked_needs(package: Mapping[str, Any], *, kind: str) -> tuple[str, ...]:
    """The names a locked package requires: uv's `dependencies` (and optional ones), poetry's
    `[package.dependencies]` table (and `extras`' members)."""
    names: list[str] = []
    if kind == "uv":
        groups = [package.get("dependencies") or ()]
        groups += list(_table(package.get("optional-dependencies")).values())
        groups += list(_table(package.get("dev-dependencies")).values())
        for group in groups:
            names += [str(d["name"]) for d in group if isinstance(d, Mapping) and "name" in d]
    else:
        names += [str(n) for n in _table(package.get("dependencies"))]
    return tuple(dict.fromkeys(canonicalize_name(n) for n in names if n != "python"))


def _source_location(source: Mapping[str, Any], kind: str) -> str:
    """Where a non-index package comes from, as the lock says it."""
    for key in ("url", "git", "path", "editable", "virtual", "directory", "file"):
        value = source.get(key)
        if isinstance(value, str) and value:
            is_git = "git" in (key, kind, source.get("type"))
            return f"git+{value}" if is_git and not value.startswith("git+") else value
    return kind


def read_poetry_lock(path: Path) -> DependencySet:
    """Every package poetry.lock pins (all groups: the lock does not say which get installed)."""
    return _locked_packages(path, kind="poetry")


def read_uv_lock(path: Path) -> DependencySet:
    """Every package uv.lock pins from an index; the project itself (editable/virtual) is not."""
    return _locked_packages(path, kind="uv")


def read_pipfile_lock(path: Path) -> DependencySet:
    """The default and develop sections of Pipfile.lock, markers evaluated for this interpreter."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DiagnosedError(Diagnostic(str(path), 0, 0, f"not valid JSON: {exc}")) from None
    lines = _Lines(text)
    out = DependencySet()
    for section in ("default", "develop"):
        start = lines.find(rf"^\s*\"{section}\"\s*:")
        for name, entry in _table(data.get(section)).items():
            line = lines.find(rf"^\s*\"{re.escape(name)}\"\s*:", after=start)
            entry = _table(entry)
            if any(key in entry for key in _NOT_FROM_AN_INDEX):
                out.notes.append(
                    Note("skipped", f"not checked (not from an index): {name}", str(path), line)
                )
                out.direct.append(_direct_entry(name, entry, source=str(path), line=line))
                continue
            markers = str(entry.get("markers", ""))
            if _marker_false(name, markers):
                out.notes.append(Note("marker", f"{name}: marker false here", str(path), line))
                continue
            version = str(entry.get("version", "")).removeprefix("==")
            if parse_version(version) is None:
                out.notes.append(Note("unpinned", f"{name}: no exact version", str(path), line))
                continue
            out.dependencies.append(
                Dependency(
                    name=canonicalize_name(name),
                    version=version,
                    specifier=f"=={version}",
                    marker=markers,
                    source=str(path),
                    line=line,
                    spelled=_spelled(name),
                )
            )
    return out
