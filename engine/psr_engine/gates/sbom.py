"""A CycloneDX 1.6 SBOM (JSON) of a project's dependency file, a folder, or an environment.

Built with cyclonedx-python-lib and checked with its own strict JSON validator before it is
returned: an SBOM that does not validate is a bug, reported as an error, never written.

What it describes:
- **The project.** Given a folder, the project's own dependency file is read whatever its
  kind (a lock first: uv.lock, poetry.lock, Pipfile.lock; then requirements.txt; then
  pyproject.toml); the root component is the project pyproject.toml names, when there is one.
- **The graph.** Every component has its `dependsOn`: from the lock file where it records it,
  else from the installed distributions' Requires-Dist (the way `cyclonedx-py environment`
  draws it, markers evaluated for this interpreter), for dependencies installed here at the
  stated version. A dependency not installed is listed with what the file says of it.
- **Purls as the spec writes them.** `pkg:pypi/NAME@VERSION` with NAME as the package spells
  it, lower-cased and `_` -> `-` by packageurl, dots kept (`pkg:pypi/ruamel.yaml`). A package
  from a VCS keeps a purl with a `vcs_url` qualifier; one from a local folder or installed
  editable gets none (nothing on PyPI is that code), only a `psr-engine:location` property.
- URL, VCS and editable requirements are components too, not silently dropped.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from psr_engine._version import __version__
from psr_engine.errors import DiagnosedError, Diagnostic, ExecutionError
from psr_engine.gates.installed import Installed, Origin, installed_distributions
from psr_engine.gates.installed import requirement_edges as _installed_edges
from psr_engine.gates.requirements import (
    Dependency,
    DependencySet,
    DirectReference,
    read_dependencies,
)

ROOT_NAME = "psr-engine scan target"
ROOT_REF = "root-component"
LOCATION_PROPERTY = "psr-engine:location"
# A folder's dependency file, most precise first: a lock pins everything, pyproject.toml ranges.
PROJECT_FILES = ("uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt", "pyproject.toml")


@dataclass(frozen=True, slots=True)
class Package:
    """One component of the SBOM."""

    key: str  # identity in the graph: the normalised name, or the location when unnamed
    name: str
    version: str | None
    origin: Origin = field(default_factory=Origin)
    licence: str = ""


@dataclass(slots=True)
class _Graph:
    packages: dict[str, Package] = field(default_factory=dict)
    edges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)  # what the root component depends on


def project_dependency_file(folder: str | os.PathLike[str]) -> Path:
    """The file a folder's SBOM is made from (PROJECT_FILES order); exit 2 when none."""
    base = Path(folder)
    for name in PROJECT_FILES:
        if (base / name).is_file():
            return base / name
    raise DiagnosedError(
        Diagnostic(
            str(base),
            0,
            0,
            f"no dependency file here (looked for {', '.join(PROJECT_FILES)})",
            hint="pass the file with --from, or run sbom without --from for the environment",
        )
    )


def generate_sbom(
    environment: str | os.PathLike[str] | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    paths: list[str] | None = None,
) -> str:
    """CycloneDX 1.6 JSON for the running environment (None), a dependency file or a folder.

    ``paths`` (like sys.path) is the environment dependencies are looked up in (default: this
    interpreter's). Writes the document to ``output`` too when given. Raises ExecutionError
    when the library's validator rejects the document.
    """
    installed = installed_distributions(paths)
    project: tuple[str, str | None] | None = None
    if environment is None:
        graph = _environment_graph(installed)
        description = "python environment"
    else:
        source = Path(environment)
        if source.is_dir():
            source = project_dependency_file(source)
        found = read_dependencies(source)
        project = _project_of(source.parent / "pyproject.toml") or _locked_project(found)
        graph = _file_graph(found, installed, project=project)
        description = f"dependencies of {source.as_posix()}"
    text = _bom_json(graph, project=project, description=description)
    _validate(text)
    if output is not None:
        Path(output).write_text(text + "\n", encoding="utf-8")
    return text


# --- the graph --------------------------------------------------------------------------------


def _environment_graph(installed: Mapping[str, Installed]) -> _Graph:
    graph = _Graph()
    for key, dist in sorted(installed.items()):
        graph.packages[key] = _installed_package(dist)
        graph.edges[key] = _installed_edges(dist, installed)
    needed = {k for needs in graph.edges.values() for k in needs}
    graph.roots = [k for k in graph.packages if k not in needed]
    return graph


def _file_graph(
    found: DependencySet,
    installed: Mapping[str, Installed],
    *,
    project: tuple[str, str | None] | None,
) -> _Graph:
    graph = _Graph()
    own = canonicalize_name(project[0]) if project else ""
    from_env: list[str] = []
    for dep in _unique(found.dependencies):
        dist = installed.get(dep.name)
        if dist is not None and _installed_matches(dep, dist):
            graph.packages.setdefault(dep.name, _installed_package(dist))
            from_env.append(dep.name)
        else:
            graph.packages.setdefault(dep.name, _stated_package(dep))
    for ref in found.direct:
        package = _direct_package(ref, installed)
        if package.key == own or (ref.location in (".", "./") and ref.editable):
            own = own or package.key  # uv.lock lists the project itself: it is the root
            continue
        graph.packages.setdefault(package.key, package)
    if found.graph:  # a lock file: its own record of who requires whom
        for key in graph.packages:
            graph.edges[key] = tuple(k for k in found.graph.get(key, ()) if k in graph.packages)
    # Dependencies installed here at the stated version: their closure, from their metadata.
    stack = list(from_env)
    while stack:
        key = stack.pop()
        if key in graph.edges and found.graph:
            continue
        needs = _installed_edges(installed[key], installed)
        graph.edges[key] = needs
        for need in needs:
            if need not in graph.packages:
                graph.packages[need] = _installed_package(installed[need])
                stack.append(need)
    for key in graph.packages:
        graph.edges.setdefault(key, ())
    if own and own in found.graph:
        graph.roots = [k for k in found.graph[own] if k in graph.packages]
    else:
        stated = {d.name for d in found.dependencies} | {
            _direct_key(r) for r in found.direct if _direct_key(r) != own
        }
        if found.graph:  # a lock lists the closure: the root needs what nothing else does
            needed = {k for needs in graph.edges.values() for k in needs}
            stated = {k for k in stated if k not in needed} or stated
        graph.roots = sorted(k for k in stated if k in graph.packages)
    return graph


def _installed_matches(dep: Dependency, dist: Installed) -> bool:
    if dep.version is not None:
        return dep.version == dist.version
    try:
        return SpecifierSet(dep.specifier).contains(dist.version, prereleases=True)
    except InvalidSpecifier:  # poetry's ^1.2 and ~1.2: not PEP 440, trust what is installed
        return True


def _installed_package(dist: Installed) -> Package:
    return Package(
        key=dist.key, name=dist.name, version=dist.version, origin=dist.origin, licence=dist.licence
    )


def _stated_package(dep: Dependency) -> Package:
    return Package(key=dep.name, name=dep.written_name, version=dep.version)


def _direct_key(ref: DirectReference) -> str:
    return canonicalize_name(ref.name) if ref.name else ref.location


def _direct_package(ref: DirectReference, installed: Mapping[str, Installed]) -> Package:
    name, version = ref.name, ref.version
    location = ref.location
    local_dir = _local_folder(location, ref.source)
    if not name and local_dir is not None:
        stated = _project_of(local_dir / "pyproject.toml")
        if stated is not None:
            name, version = stated[0], version or stated[1]
    key = canonicalize_name(name) if name else location
    dist = installed.get(key) if name else None
    if version is None and dist is not None:
        version = dist.version
    vcs = location.split("+", 1)[0] if "+" in location.split("://", 1)[0] else ""
    is_path = "://" not in location and not vcs  # ./pkg, ../lib.whl, /opt/wheels/x.whl
    if ref.editable or is_path or location.startswith("file:"):
        origin = Origin(kind="local", url=location, editable=ref.editable)
    elif vcs:
        origin = Origin(kind="vcs", url=location.split("+", 1)[1], vcs=vcs)
    else:
        origin = Origin(kind="archive", url=location)
    return Package(key=key, name=name or location, version=version, origin=origin)


def _local_folder(location: str, source: str) -> Path | None:
    if "://" in location or location.startswith(("git+", "hg+", "svn+", "bzr+")):
        return None
    base = Path(source).parent if source else Path.cwd()
    folder = (base / location).resolve()
    return folder if folder.is_dir() else None


def _project_of(pyproject: Path) -> tuple[str, str | None] | None:
    """(name, version) of the project a pyproject.toml describes, when it names one."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    table = data.get("project") or data.get("tool", {}).get("poetry") or {}
    name = table.get("name") if isinstance(table, dict) else None
    if not isinstance(name, str) or not name:
        return None
    version = table.get("version")
    return name, version if isinstance(version, str) else None


def _locked_project(found: DependencySet) -> tuple[str, str | None] | None:
    """The project a lock records as itself (uv.lock: the package whose source is `.`)."""
    for ref in found.direct:
        if ref.editable and ref.location in (".", "./") and ref.name:
            return ref.name, ref.version
    return None


def _unique(dependencies: Iterable[Dependency]) -> list[Dependency]:
    """One per name, pinned versions first, in name order (a file may list a name twice)."""
    chosen: dict[str, Dependency] = {}
    for dep in dependencies:
        if dep.name not in chosen or (chosen[dep.name].version is None and dep.version):
            chosen[dep.name] = dep
    return [chosen[name] for name in sorted(chosen)]


# --- the document -----------------------------------------------------------------------------


def _bom_json(graph: _Graph, *, project: tuple[str, str | None] | None, description: str) -> str:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    bom = Bom()
    bom.metadata.component = root = Component(
        name=project[0] if project else ROOT_NAME,
        version=project[1] if project else None,
        type=ComponentType.APPLICATION,
        bom_ref=ROOT_REF,
        description=description,
    )
    bom.metadata.tools.components.add(
        Component(name="psr-engine", version=__version__, type=ComponentType.APPLICATION)
    )
    components = {key: _component(p) for key, p in sorted(graph.packages.items())}
    for component in components.values():
        bom.components.add(component)
    bom.register_dependency(root, [components[k] for k in graph.roots])
    for key, component in components.items():
        bom.register_dependency(component, [components[k] for k in graph.edges.get(key, ())])
    return JsonV1Dot6(bom).output_as_string(indent=2)


def _component(package: Package) -> Any:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentType

    purl = _purl(package)
    properties = []
    if package.origin.is_local and package.origin.url:
        properties.append(Property(name=LOCATION_PROPERTY, value=package.origin.url))
    ref = purl.to_string() if purl is not None else f"local:{package.key}@{package.version or ''}"
    return Component(
        name=package.name,
        version=package.version,
        type=ComponentType.LIBRARY,
        purl=purl,
        bom_ref=ref,
        licenses=[_licence_factory().make_from_string(package.licence)]
        if package.licence
        else None,
        properties=properties or None,
    )


def _purl(package: Package) -> Any:
    """The purl cyclonedx-py would give: none for local code, a VCS or download qualifier."""
    from packageurl import PackageURL

    origin = package.origin
    if origin.is_local:
        return None
    qualifiers: dict[str, str] = {}
    if origin.kind == "vcs":
        qualifiers["vcs_url"] = f"{origin.vcs}+{origin.url}" + (
            f"@{origin.commit}" if origin.commit else ""
        )
    elif origin.kind == "archive" and "://files.pythonhosted.org/" not in origin.url:
        qualifiers["download_url"] = origin.url
    return PackageURL(
        type="pypi", name=package.name, version=package.version, qualifiers=qualifiers or None
    )


def _licence_factory() -> Any:
    try:  # its home since cyclonedx-python-lib 11; the old path still works, with a warning
        from cyclonedx.contrib.license.factories import LicenseFactory
    except ImportError:
        from cyclonedx.factory.license import LicenseFactory
    return LicenseFactory()


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ExecutionError(f"the generated CycloneDX 1.6 SBOM does not validate: {error}")
