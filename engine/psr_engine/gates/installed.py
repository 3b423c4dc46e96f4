"""The distributions installed in an environment, with what each requires and where it came from.

What the SBOM needs beyond name and version: the dependency graph (each distribution's
Requires-Dist, resolved against what is installed) and the origin PEP 610's
`direct_url.json` records (an index, a VCS, an archive URL, a local folder), which decides
whether the component gets a PyPI purl.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an installed distribution came from (PEP 610); an index when nothing says."""

    kind: str = "index"  # index | vcs | archive | local
    url: str = ""
    vcs: str = ""
    commit: str = ""
    editable: bool = False

    @property
    def is_local(self) -> bool:
        """Built from a folder or a file on this machine: nothing a PyPI purl could name."""
        return self.kind == "local" or self.editable or self.url.startswith("file:")


@dataclass(frozen=True, slots=True)
class Installed:
    key: str  # PEP 503 normalised
    name: str  # as its metadata spells it ("ruamel.yaml")
    version: str
    requires: tuple[str, ...]  # Requires-Dist, as written
    origin: Origin
    licence: str = ""


def installed_distributions(paths: list[str] | None = None) -> dict[str, Installed]:
    """Every distribution on ``paths`` (default sys.path), the first of a name winning."""
    found: dict[str, Installed] = {}
    dists = metadata.distributions() if paths is None else metadata.distributions(path=paths)
    for dist in dists:
        meta = dist.metadata  # parsed on every access: read it once
        name, version = (meta["Name"], meta["Version"]) if meta else (None, None)
        if not name or not version or canonicalize_name(name) in found:
            continue
        found[canonicalize_name(name)] = Installed(
            key=canonicalize_name(name),
            name=name,
            version=version,
            requires=tuple(dist.requires or ()),
            origin=_origin(dist.read_text("direct_url.json")),
            licence=licence_of(meta),
        )
    return found


def requirement_edges(dist: Installed, installed: Mapping[str, Installed]) -> tuple[str, ...]:
    """The installed distributions ``dist`` requires, by key, in Requires-Dist order.

    A requirement counts when its target is installed and its marker can hold here: for this
    interpreter and platform, with no extra or with one of the extras it names (an extra's
    requirement that is installed is what that extra brought). So `colorama; sys_platform ==
    "win32"` is no edge on Linux even when colorama is installed for another reason."""
    edges: dict[str, None] = {}
    for text in dist.requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        key = canonicalize_name(requirement.name)
        if key == dist.key or key not in installed or not marker_can_hold(requirement):
            continue
        edges[key] = None
    return tuple(edges)


def marker_can_hold(requirement: Requirement) -> bool:
    """Whether the marker holds here for no extra or for one of the extras it mentions."""
    if requirement.marker is None:
        return True
    extras = ["", *_EXTRA.findall(str(requirement.marker))]
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras)


def licence_of(meta: Any) -> str:
    """PEP 639's License-Expression, else a short License field, else an OSI classifier."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return str(expression)
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= 80 and field.upper() != "UNKNOWN":
        return str(field)
    prefix = "License :: OSI Approved :: "
    classifiers = [
        c[len(prefix) :] for c in meta.get_all("Classifier") or () if c.startswith(prefix)
    ]
    return classifiers[0] if classifiers else ""


def _origin(raw: str | None) -> Origin:
    if not raw:
        return Origin()
    try:
        data = json.loads(raw)
    except ValueError:
        return Origin()
    url = str(data.get("url") or "")
    if "vcs_info" in data:
        info = data["vcs_info"]
        return Origin(
            kind="vcs",
            url=url,
            vcs=str(info.get("vcs", "")),
            commit=str(info.get("commit_id", "")),
        )
    if "dir_info" in data:
        return Origin(kind="local", url=url, editable=bool(data["dir_info"].get("editable")))
    if "archive_info" in data:
        return Origin(kind="archive", url=url)
    return Origin()
