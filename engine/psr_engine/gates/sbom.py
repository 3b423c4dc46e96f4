"""A CycloneDX 1.6 SBOM (JSON) of an environment or a dependency file.

Built with cyclonedx-python-lib and checked with its own strict JSON validator before it is
returned: an SBOM that does not validate is a bug, reported as an error, never written.
Components carry ``pkg:pypi/NAME@VERSION`` purls (NAME normalised per PEP 503) and, where the
installed distribution's metadata names them, licences.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any

from psr_engine._version import __version__
from psr_engine.errors import ExecutionError
from psr_engine.gates.requirements import Dependency, read_dependencies, read_environment

ROOT_NAME = "psr-engine scan target"


def generate_sbom(
    environment: str | os.PathLike[str] | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
) -> str:
    """CycloneDX 1.6 JSON for the running environment (None) or a requirements/lock file.

    Writes it to ``output`` too when given. Raises ExecutionError when the library's validator
    rejects the document.
    """
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    if environment is None:
        dependencies = read_environment().dependencies
        target = "python environment"
    else:
        dependencies = read_dependencies(environment).dependencies
        target = Path(environment).as_posix()
    licences = _installed_licences()

    bom = Bom()
    bom.metadata.component = root = Component(
        name=ROOT_NAME,
        type=ComponentType.APPLICATION,
        bom_ref="psr-engine-scan-target",
        description=f"dependencies of {target}",
    )
    bom.metadata.tools.components.add(
        Component(name="psr-engine", version=__version__, type=ComponentType.APPLICATION)
    )
    components = []
    for dep in _unique(dependencies):
        component = _component(dep, licences.get((dep.name, dep.version or "")))
        bom.components.add(component)
        components.append(component)
    bom.register_dependency(root, components)

    text = JsonV1Dot6(bom).output_as_string(indent=2)
    _validate(text)
    if output is not None:
        Path(output).write_text(text + "\n", encoding="utf-8")
    return text


def _licence_factory() -> Any:
    try:  # its home since cyclonedx-python-lib 11; the old path still works, with a warning
        from cyclonedx.contrib.license.factories import LicenseFactory
    except ImportError:
        from cyclonedx.factory.license import LicenseFactory
    return LicenseFactory()


def _component(dep: Dependency, licence: str | None) -> Any:
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    purl = PackageURL(type="pypi", name=dep.name, version=dep.version)
    return Component(
        name=dep.name,
        version=dep.version,
        type=ComponentType.LIBRARY,
        purl=purl,
        bom_ref=purl.to_string(),
        licenses=[_licence_factory().make_from_string(licence)] if licence else None,
    )


def _unique(dependencies: list[Dependency]) -> list[Dependency]:
    """One component per (name, version), in name order: a lock may list a name twice."""
    seen: dict[tuple[str, str], Dependency] = {}
    for dep in dependencies:
        seen.setdefault((dep.name, dep.version or ""), dep)
    return [seen[key] for key in sorted(seen)]


def _installed_licences() -> dict[tuple[str, str], str]:
    """(name, version) -> licence, for distributions installed here whose metadata says one.

    PEP 639's License-Expression first, then the License field when it is short (some
    projects paste their whole licence text there), then OSI trove classifiers.
    """
    from packaging.utils import canonicalize_name

    found: dict[tuple[str, str], str] = {}
    for dist in metadata.distributions():
        meta = dist.metadata  # parsed on every access: read it once
        name, version = (meta["Name"], meta["Version"]) if meta else (None, None)
        if not name or not version:
            continue
        licence = _licence_of(meta)
        if licence:
            found.setdefault((canonicalize_name(name), version), licence)
    return found


def _licence_of(meta: Any) -> str:
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= 80 and field.upper() != "UNKNOWN":
        return field
    prefix = "License :: OSI Approved :: "
    classifiers = [
        c[len(prefix) :] for c in meta.get_all("Classifier") or () if c.startswith(prefix)
    ]
    return classifiers[0] if classifiers else ""


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ExecutionError(f"the generated CycloneDX 1.6 SBOM does not validate: {error}")
