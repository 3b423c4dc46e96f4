"""OSV advisories and whether a PyPI version is affected by one, with PEP 440 semantics.

An advisory lists, per affected package, ECOSYSTEM ranges (ordered events ``introduced``,
``fixed``, ``last_affected``, ``limit``) and explicit ``versions``; a version is affected when a
range admits it or the list names it. GIT ranges speak of commits, not releases, and are ignored.
Versions the data spells invalidly are skipped, never raised: one bad advisory must not stop a
scan. See https://ossf.github.io/osv-schema/ for the format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from psr_engine.gates.cvss import base_score, severity_of_score
from psr_engine.gates.findings import SEVERITIES, Severity

ECOSYSTEM = "PyPI"
ADVISORY_URL = "https://osv.dev/vulnerability/{id}"
# Named severities (GitHub's database_specific, ecosystem_specific, Ubuntu's) onto our scale.
_NAMED_SEVERITIES: dict[str, Severity] = {
    "critical": "critical",
    "important": "high",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
}
# Weaknesses that mean running the attacker's code: with no score anywhere in the record, such
# a CWE says "high" by itself (command, code, template and expression injection, deserialization).
CODE_EXECUTION_CWES = frozenset(
    {"CWE-77", "CWE-78", "CWE-94", "CWE-95", "CWE-502", "CWE-917", "CWE-1336"}
)
UNSCORED = "unscored"


def parse_version(text: object) -> Version | None:
    """A PEP 440 version, or None for anything that is not one."""
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # introduced | fixed | last_affected | limit
    version: str


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One ``affected[]`` entry for a PyPI package: its ECOSYSTEM ranges and listed versions."""

    name: str  # PEP 503 normalised
    ranges: tuple[tuple[Event, ...], ...]
    versions: tuple[str, ...]

    def affects(self, version: Version) -> bool:
        if any(v == version for v in _valid(self.versions)):
            return True
        return any(_range_admits(events, version) for events in self.ranges)

    def fixed_versions(self) -> list[Version]:
        return sorted(_valid(e.version for r in self.ranges for e in r if e.kind == "fixed"))


def _valid(texts: Iterable[str]) -> list[Version]:
    return [v for v in map(parse_version, texts) if v is not None]


def _range_admits(events: tuple[Event, ...], version: Version) -> bool:
    """Whether one ECOSYSTEM range contains ``version``.

    Events are taken in version order (``introduced: "0"`` first); each ``introduced`` opens an
    interval that the next ``fixed`` (exclusive) or ``last_affected`` (inclusive) closes; an
    interval left open runs to the end. ``limit`` caps the whole range (exclusive).
    """
    ordered: list[tuple[Version | None, str]] = []
    for event in events:
        if event.kind == "introduced" and event.version == "0":
            ordered.append((None, event.kind))
            continue
        parsed = parse_version(event.version)
        if parsed is not None:
            ordered.append((parsed, event.kind))
    # None (the beginning) sorts first; the sort is stable, so ties keep the data's order.
    ordered.sort(key=lambda item: (item[0] is not None, item[0] or Version("0")))
    for bound, kind in ordered:
        if kind == "limit" and bound is not None and version >= bound:
            return False
    start: Version | None = None
    is_open = False
    for bound, kind in ordered:
        if kind == "introduced":
            if not is_open:
                start, is_open = bound, True
        elif kind in ("fixed", "last_affected") and is_open:
            above_start = start is None or version >= start
            if kind == "fixed" and bound is not None and above_start and version < bound:
                return True
            if kind == "last_affected" and bound is not None and above_start and version <= bound:
                return True
            is_open = False
    return is_open and (start is None or version >= start)


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV advisory, reduced to what the scanner reports."""

    id: str
    summary: str
    aliases: tuple[str, ...]
    severity: Severity | None  # None: the record says nothing (the scanner's unscoredAs applies)
    severity_source: str  # "CVSS_V3 9.8", "database_specific HIGH", "CWE-502" or "unscored"
    affected: tuple[AffectedPackage, ...]
    withdrawn: str = ""
    url: str = ""

    def affects(self, name: str, version: str | Version) -> bool:
        """Whether ``name==version`` is affected (False for an invalid version)."""
        parsed = version if isinstance(version, Version) else parse_version(version)
        if parsed is None or self.withdrawn:
            return False
        wanted = canonicalize_name(name)
        return any(a.name == wanted and a.affects(parsed) for a in self.affected)

    def first_fix_above(self, name: str, version: str | Version) -> str | None:
        """The lowest fixed version above ``version`` for this package, if the data names one."""
        parsed = version if isinstance(version, Version) else parse_version(version)
        if parsed is None:
            return None
        wanted = canonicalize_name(name)
        fixes = [
            fix
            for a in self.affected
            if a.name == wanted
            for fix in a.fixed_versions()
            if fix > parsed
        ]
        return str(min(fixes)) if fixes else None

    def package_names(self) -> set[str]:
        return {a.name for a in self.affected}


def advisory_from_osv(raw: Mapping[str, Any]) -> Advisory:
    """Build an Advisory from one OSV record (parsed JSON, or YAML loaded as strings).

    Raises KeyError/TypeError/ValueError on a record without an id; the index reports those.
    """
    advisory_id = str(raw["id"])
    affected = tuple(
        _affected_from_osv(entry)
        for entry in raw.get("affected") or ()
        if isinstance(entry, Mapping)
        and (entry.get("package") or {}).get("ecosystem") == ECOSYSTEM
        and (entry.get("package") or {}).get("name")
    )
    severity, source = _severity_from_osv(raw)
    return Advisory(
        id=advisory_id,
        summary=_summary(raw),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        severity=severity,
        severity_source=source,
        affected=affected,
        withdrawn=str(raw.get("withdrawn") or ""),
        url=ADVISORY_URL.format(id=advisory_id),
    )


def _affected_from_osv(entry: Mapping[str, Any]) -> AffectedPackage:
    ranges = []
    for rng in entry.get("ranges") or ():
        if not isinstance(rng, Mapping) or rng.get("type") != "ECOSYSTEM":
            continue  # GIT ranges name commits; SEMVER is not how PyPI versions compare
        events = tuple(
            Event(kind=str(kind), version=str(value))
            for event in rng.get("events") or ()
            if isinstance(event, Mapping)
            for kind, value in event.items()
            if kind in ("introduced", "fixed", "last_affected", "limit")
        )
        ranges.append(events)
    return AffectedPackage(
        name=canonicalize_name(str(entry["package"]["name"])),
        ranges=tuple(ranges),
        versions=tuple(str(v) for v in entry.get("versions") or ()),
    )


def _severity_from_osv(raw: Mapping[str, Any]) -> tuple[Severity | None, str]:
    """The worst severity any source in the record gives, and which source that was.

    Sources: ``severity[]`` at the top and in each ``affected[]`` entry (CVSS v2, v3 and v4
    vectors, or a named level such as Ubuntu's), ``database_specific.severity`` (GitHub's) at
    both levels, and ``affected[].ecosystem_specific.severity``. With none of these, a
    code-execution CWE (``database_specific.cwe_ids``) says high; otherwise the advisory is
    unscored (None) and the scanner's ``unscored_as`` decides.
    """
    found: list[tuple[Severity, str]] = []
    affected = [a for a in raw.get("affected") or () if isinstance(a, Mapping)]
    for holder in (raw, *affected):
        for entry in holder.get("severity") or ():
            if isinstance(entry, Mapping):
                found.extend(_scored(entry))
        for key in ("database_specific", "ecosystem_specific"):
            block = holder.get(key)
            named = block.get("severity") if isinstance(block, Mapping) else None
            if isinstance(named, str) and named.lower() in _NAMED_SEVERITIES:
                found.append((_NAMED_SEVERITIES[named.lower()], f"{key} {named.upper()}"))
    if found:
        return max(found, key=lambda item: SEVERITIES.index(item[0]))
    specific = raw.get("database_specific")
    cwes = specific.get("cwe_ids") if isinstance(specific, Mapping) else None
    for cwe in cwes if isinstance(cwes, list) else ():
        if str(cwe).upper() in CODE_EXECUTION_CWES:
            return "high", str(cwe).upper()
    return None, UNSCORED


def _scored(entry: Mapping[str, Any]) -> list[tuple[Severity, str]]:
    """One ``severity[]`` entry: a CVSS vector's base score, or a named level."""
    kind, score = str(entry.get("type", "")), str(entry.get("score", ""))
    if kind.startswith("CVSS"):
        scored = base_score(score)
        if scored is None:
            return []
        value, version = scored
        return [(severity_of_score(value), f"{version} {value}")]
    if score.lower() in _NAMED_SEVERITIES:
        return [(_NAMED_SEVERITIES[score.lower()], f"{kind} {score.upper()}")]
    return []


def _summary(raw: Mapping[str, Any]) -> str:
    """The advisory's summary, or the first sentence of its details (PYSEC entries have none)."""
    summary = str(raw.get("summary") or "").strip()
    if summary:
        return summary
    details = " ".join(str(raw.get("details") or "").split())
    # The first sentence, or two when the first only names the project ("X is a library.").
    sentences = details.split(". ")
    text = sentences[0]
    if len(text) < 60 and len(sentences) > 1:
        text += ". " + sentences[1]
    text = text.rstrip(".")
    return text if len(text) <= 160 else text[:157].rstrip() + "..."
