"""Where dependencies come from: requirements files, pyproject.toml, lock files, the environment.

Every source becomes a list of :class:`Dependency` (name normalised per PEP 503, the pinned
version when there is exactly one) plus :class:`Note` records for what was skipped or could not
be checked. ``packaging`` parses requirement strings and markers; this module only handles the
requirements-file syntax around them (options, includes, continuations, comments), which
``packaging`` does not.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.boundary import inside


@dataclass(frozen=True, slots=True)
class Dependency:
    """One required distribution, as a dependency file (or the environment) states it."""

    name: str  # PEP 503 normalised
    version: str | None  # the exact version when pinned (==, === or a lock file), else None
    specifier: str = ""  # as written: ">=2.0,<3", "==1.2.3", poetry's "^1.2"
    extras: tuple[str, ...] = ()
    marker: str = ""
    source: str = ""  # the file it was read from ("" for the installed environment)
    line: int = 0  # 1-based line in ``source``; 0 when unknown
    spelled: str = ""  # the name as the source writes it ("ruamel.yaml"); "" when ``name``

    @property
    def written_name(self) -> str:
        """The name as written: what a purl keeps (dots stay dots, per the purl spec)."""
        return self.spelled or self.name


@dataclass(frozen=True, slots=True)
class DirectReference:
    """A requirement installed from a URL, a VCS or a local path rather than an index.

    The vulnerability scan cannot check it (a note says so), but it is part of the project:
    the SBOM lists it, without a PyPI purl."""

    name: str  # as written; "" when neither the line nor the file name says it
    location: str  # the URL or path as written
    editable: bool = False
    version: str | None = None  # when the location says it (a wheel's or sdist's file name)
    source: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Note:
    """Something a reader should know about a dependency source: not a vulnerability."""

    kind: str  # unpinned | skipped | marker | constraint
    message: str
    source: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.source and self.line else ""
        return f"{where}{self.kind}: {self.message}"


@dataclass(slots=True)
class DependencySet:
    dependencies: list[Dependency] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    direct: list[DirectReference] = field(default_factory=list)
    # What each package requires (normalised names), when the source records it (lock files).
    graph: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def extend(self, other: DependencySet) -> None:
        self.dependencies.extend(other.dependencies)
        self.notes.extend(other.notes)
        self.direct.extend(other.direct)
        for name, needs in other.graph.items():
            self.graph[name] = tuple(dict.fromkeys((*self.graph.get(name, ()), *needs)))


def pinned_version(specifier: SpecifierSet | str) -> str | None:
    """The version a specifier pins (one ``==`` without wildcard, or ``===``), else None."""
    spec = specifier if isinstance(specifier, SpecifierSet) else SpecifierSet(specifier)
    pins = {
        s.version
        for s in spec
        if s.operator == "===" or (s.operator == "==" and "*" not in s.version)
    }
    return pins.pop() if len(pins) == 1 else None


def marker_holds(requirement: Requirement, extra: str = "") -> bool:
    """Whether the requirement's environment marker holds for this interpreter."""
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({"extra": extra})


def dependency_from_requirement(requirement: Requirement, *, source: str, line: int) -> Dependency:
    return Dependency(
        name=canonicalize_name(requirement.name),
        version=pinned_version(requirement.specifier),
        specifier=str(requirement.specifier),
        extras=tuple(sorted(requirement.extras)),
        marker=str(requirement.marker or ""),
        source=source,
        line=line,
        spelled=requirement.name if requirement.name != canonicalize_name(requirement.name) else "",
    )


def direct_reference(
    text: str, *, source: str, line: int, editable: bool = False
) -> DirectReference:
    """A URL, VCS or path requirement (``name @ url``, ``git+https://...#egg=name``,
    ``./pkg-1.0-py3-none-any.whl``, ``-e ./lib``), its name and version where it says them."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    name, version = "", None
    location = text.strip()
    if "@" in location and not _URL_OR_PATH.match(location):
        try:
            requirement = Requirement(location)
        except InvalidRequirement:
            requirement = None
        if requirement is not None and requirement.url:
            name, location = requirement.name, requirement.url
    egg = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", location)
    if not name and egg:
        name = egg.group(1)
    filename = location.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            parsed_name, parsed_version, *_ = parse_wheel_filename(filename)
            name, version = name or str(parsed_name), str(parsed_version)
        elif filename.endswith(_ARCHIVE):
            parsed_name, parsed_version = parse_sdist_filename(filename)
            name, version = name or str(parsed_name), str(parsed_version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return DirectReference(
        name=name, location=location, editable=editable, version=version, source=source, line=line
    )


# --- requirements files ------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")  # pip expands only this spelling
_URL_OR_PATH = re.compile(r"^([a-z][a-z0-9+.-]*://|(git|hg|svn|bzr)\+|file:|\.|/|~)", re.I)
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2")
_INCLUDE = {"-r": "requirement", "--requirement": "requirement"}
_CONSTRAIN = {"-c": "constraint", "--constraint": "constraint"}
_EDITABLE = {"-e", "--editable"}


def read_requirements_txt(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> DependencySet:
    """Dependencies of a pip requirements file, following ``-r`` includes and ``-c`` pins.

    ``root``: the scanned folder; an include that leaves it is not read (``-r /etc/shadow``
    would otherwise print the file's lines as invalid requirements). Raises DiagnosedError
    naming every line that is not a valid requirement.
    """
    parser = _RequirementsParser(root)
    parser.read(Path(path), via=None)
    if parser.diagnostics:
        raise DiagnosedError(parser.diagnostics)
    return parser.finish()


class _RequirementsParser:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = root
        self.result = DependencySet()
        self.constraints: dict[str, Dependency] = {}
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[Path] = set()

    def read(self, path: Path, *, via: Note | None, constraint: bool = False) -> None:
        real = path.resolve()
        if real in self._seen:
            return  # an include cycle, or the same file included twice: read it once
        self._seen.add(real)
        if via is not None and self.root is not None and not inside(path, self.root):
            self.diagnostics.append(
                Diagnostic(
                    file=via.source,
                    line=via.line,
                    column=0,
                    message=f"the include {path} leaves the scanned folder {self.root}: not read",
                    hint="a scan stays inside its folder: scan from a folder that holds both",
                )
            )
            return
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            where = Diagnostic(
                file=via.source if via else str(path),
                line=via.line if via else 0,
                column=0,
                message=f"cannot read requirements file {path}: {exc.strerror or exc}",
                hint="check the path; -r and -c paths are relative to the including file",
            )
            self.diagnostics.append(where)
            return
        for lineno, line in _logical_lines(text):
            self._line(path, lineno, line, constraint=constraint)

    def _line(self, path: Path, lineno: int, line: str, *, constraint: bool) -> None:
        source = str(path)
        tokens = line.split()
        args: list[str] = []
        for token in tokens:
            if token.startswith("-"):
                break
            args.append(token)
        options = tokens[len(args) :]
        if not args:
            self._option(path, lineno, options, constraint=constraint)
            return
        text = " ".join(args)  # per-requirement options (--hash=...) are dropped
        if _URL_OR_PATH.match(text) or text.lower().endswith(_ARCHIVE):
            self.result.notes.append(
                Note("skipped", f"not checked (URL or path): {text}", source, lineno)
            )
            if not constraint:
                self.result.direct.append(direct_reference(text, source=source, line=lineno))
            return
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            self.diagnostics.append(
                Diagnostic(
                    file=source,
                    line=lineno,
                    column=1,
                    message=f"not a valid requirement: {text!r} ({exc})",
                    hint="write NAME[extras] SPECIFIER ; MARKER, as PEP 508 says",
                )
            )
            return
        if requirement.url:
            self.result.notes.append(
                Note(
                    "skipped", f"not checked (direct reference): {requirement.name}", source, lineno
                )
            )
            if not constraint and marker_holds(requirement):
                self.result.direct.append(direct_reference(text, source=source, line=lineno))
            return
        if not marker_holds(requirement):
            self.result.notes.append(
                Note(
                    "marker",
                    f"{requirement.name}: marker false here ({requirement.marker})",
                    source,
                    lineno,
                )
            )
            return
        dependency = dependency_from_requirement(requirement, source=source, line=lineno)
        if constraint:
            if dependency.version is not None:
                self.constraints.setdefault(dependency.name, dependency)
        else:
            self.result.dependencies.append(dependency)

    def _option(self, path: Path, lineno: int, options: list[str], *, constraint: bool) -> None:
        try:
            words = shlex.split(" ".join(options))
        except ValueError:
            words = options
        if not words:
            return
        flag, _, value = words[0].partition("=")
        if not value and len(words) > 1:
            value = words[1]
        for short in ("-r", "-c", "-e"):
            if flag.startswith(short) and len(flag) > 2 and not flag.startswith("--"):
                flag, value = short, flag[2:]  # -rother.txt
        note = Note("constraint", "", str(path), lineno)
        if flag in _INCLUDE or flag in _CONSTRAIN:
            is_constraint = constraint or flag in _CONSTRAIN
            if is_constraint:
                self.result.notes.append(
                    replace(note, message=f"constraints read from {value}; they pin, not add")
                )
            self.read(path.parent / value, via=note, constraint=is_constraint)
        elif flag in _EDITABLE:
            self.result.notes.append(
                Note("skipped", f"not checked (editable install): {value}", str(path), lineno)
            )
            if not constraint:
                self.result.direct.append(
                    direct_reference(value, source=str(path), line=lineno, editable=True)
                )
        # Other options (--index-url, --find-links, --pre, ...) say where to get packages from,
        # not which ones: nothing to check.

    def finish(self) -> DependencySet:
        """Apply constraint pins to unpinned requirements; note those still unpinned."""
        final: list[Dependency] = []
        for dep in self.result.dependencies:
            pin = self.constraints.get(dep.name)
            if (
                dep.version is None
                and pin is not None
                and pin.version is not None
                and SpecifierSet(dep.specifier).contains(pin.version, prereleases=True)
            ):
                dep = replace(dep, version=pin.version)
            if dep.version is None:
                self.result.notes.append(
                    Note(
                        "unpinned",
                        f"{dep.name}{dep.specifier or ' (any version)'}: not pinned, not checked",
                        dep.source,
                        dep.line,
                    )
                )
            final.append(dep)
        self.result.dependencies = final
        return self.result


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, line) after joining continuations and dropping comments."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        is_comment = line.lstrip().startswith("#")  # a comment line ends a continuation
        if line.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(line[:-1])
            continue
        if pending:
            if not is_comment:
                pending.append(line)
            joined, first = " ".join(pending), start
            pending = []
        else:
            joined, first = line, number
        yield from _cleaned(first, joined)
    if pending:
        yield from _cleaned(start, " ".join(pending))


def _cleaned(number: int, line: str) -> Iterator[tuple[int, str]]:
    line = _COMMENT.sub("", line).strip()
    line = _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)
    if line:
        yield number, line


# --- dispatch ----------------------------------------------------------------------------------

DEPENDENCY_FILES = ("pyproject.toml", "poetry.lock", "uv.lock", "Pipfile.lock")


def read_dependencies(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> DependencySet:
    """Dependencies from any supported file, chosen by its name.

    pyproject.toml, poetry.lock, uv.lock and Pipfile.lock by name; anything else is read as a
    pip requirements file (requirements.txt, requirements-dev.in, constraints.txt, ...).
    """
    from psr_engine.gates import lockfiles

    p = Path(path)
    readers = {
        "pyproject.toml": lockfiles.read_pyproject,
        "poetry.lock": lockfiles.read_poetry_lock,
        "uv.lock": lockfiles.read_uv_lock,
        "Pipfile.lock": lockfiles.read_pipfile_lock,
    }
    if p.name == "Pipfile":
        raise DiagnosedError(
            Diagnostic(
                str(p), 0, 0, "a Pipfile states ranges, not versions", hint="scan Pipfile.lock"
            )
        )
    if not p.is_file():
        raise DiagnosedError(
            Diagnostic(str(p), 0, 0, "dependency file not found", hint="check the path")
        )
    reader = readers.get(p.name)
    return reader(p) if reader is not None else read_requirements_txt(p, root=root)


def read_environment(paths: list[str] | None = None) -> DependencySet:
    """The distributions installed in this interpreter (or on ``paths``, like sys.path)."""
    from importlib.metadata import distributions

    found: dict[str, Dependency] = {}
    for dist in distributions() if paths is None else distributions(path=paths):
        meta = dist.metadata  # parsed on every access: read it once
        name, version = (meta["Name"], meta["Version"]) if meta else (None, None)
        if not name or not version or canonicalize_name(name) in found:
            continue  # the first on the path wins, as it does for imports
        found[canonicalize_name(name)] = Dependency(
            name=canonicalize_name(name), version=version, specifier=f"=={version}"
        )
    return DependencySet(dependencies=sorted(found.values(), key=lambda d: d.name))
