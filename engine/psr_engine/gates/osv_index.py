"""An offline OSV database, indexed once into a JSON cache so later scans parse no YAML.

The database is a folder of OSV records (``*.json``, ``*.yaml``, ``*.yml``, any depth), such as
a checkout of pypa/advisory-database. Parsing its 2,661 YAML files takes seconds; reading the
cache takes milliseconds. The cache is keyed by the folder's real path and a digest of every
record's name, size and modification time, so editing, adding or removing a record rebuilds it.
JSON rather than pickle: a cache file must never be able to run code when read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from psr_engine.errors import DiagnosedError, Diagnostic
from psr_engine.gates.osv import Advisory, AffectedPackage, Event, advisory_from_osv

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: severity may be None (unscored), more severity sources
_SUFFIXES = (".json", ".yaml", ".yml")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "psr-engine" / "osv"


@dataclass
class OsvIndex:
    """Package name -> advisories, from an offline database. Build with :func:`open_index`."""

    root: Path
    digest: str
    from_cache: bool  # True when this index was read from the cache, not parsed from records
    records: dict[str, dict[str, Any]]  # advisory id -> serialised Advisory
    by_package: dict[str, list[str]]  # PEP 503 name -> advisory ids
    problems: list[str] = field(default_factory=list)  # records that could not be read
    _built: dict[str, Advisory] = field(default_factory=dict, repr=False)

    def advisories_for(self, name: str) -> list[Advisory]:
        """Every advisory naming this (normalised) package, withdrawn ones included."""
        return [self._advisory(i) for i in self.by_package.get(name, ())]

    def _advisory(self, advisory_id: str) -> Advisory:
        if advisory_id not in self._built:
            self._built[advisory_id] = _advisory_from_record(self.records[advisory_id])
        return self._built[advisory_id]

    def __len__(self) -> int:
        return len(self.records)


def open_index(database: str | os.PathLike[str], *, cache_dir: Path | None = None) -> OsvIndex:
    """Read the index of ``database`` from the cache, building (and caching) it when stale."""
    root = Path(database).expanduser().resolve()
    if not root.is_dir():
        raise DiagnosedError(
            Diagnostic(
                file=str(database),
                line=0,
                column=0,
                message="the OSV database folder does not exist",
                hint="point osv_db (or $PSR_OSV_DB) at a folder of OSV records, e.g. a checkout"
                " of https://github.com/pypa/advisory-database, or use online mode",
            )
        )
    files = sorted(_record_files(root))
    digest = _digest(root, files)
    cache_file = (cache_dir or default_cache_dir()) / (
        hashlib.sha256(str(root).encode()).hexdigest()[:24] + ".json"
    )
    cached = _read_cache(cache_file, digest)
    if cached is not None:
        records, by_package = cached
        return OsvIndex(root, digest, True, records, by_package)
    index = _build(root, files, digest)
    _write_cache(cache_file, index)
    return index


def _record_files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .git and friends
        for name in names:
            if name.endswith(_SUFFIXES) and not name.startswith("."):
                yield Path(folder, name)


def _digest(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256(f"{CACHE_FORMAT}\0{root}\0".encode())
    for path in files:
        st = path.stat()
        h.update(f"{path.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _build(root: Path, files: list[Path], digest: str) -> OsvIndex:
    records: dict[str, dict[str, Any]] = {}
    by_package: dict[str, list[str]] = {}
    problems: list[str] = []
    yaml_loader = None
    for path in files:
        try:
            if path.suffix == ".json":
                raw = json.loads(path.read_text(encoding="utf-8"))
            else:
                yaml_loader = yaml_loader or _yaml_loader()
                raw = _load_yaml(path, yaml_loader)
            advisory = advisory_from_osv(raw)
        except Exception as exc:  # one unreadable record must not stop the whole database
            problems.append(f"{path.relative_to(root).as_posix()}: {type(exc).__name__}: {exc}")
            continue
        if not advisory.affected:
            continue  # no PyPI package in it
        records[advisory.id] = asdict(advisory)
        for name in sorted(advisory.package_names()):
            by_package.setdefault(name, []).append(advisory.id)
    for problem in problems:
        log.warning("skipped an unreadable OSV record: %s", problem)
    return OsvIndex(root, digest, False, records, by_package, problems)


def _yaml_loader() -> Any:
    try:
        import yaml
    except ImportError:
        raise DiagnosedError(
            "reading OSV records written in YAML needs PyYAML: pip install 'psr-engine[security]'"
        ) from None
    # The Base loader keeps every scalar a string: an unquoted version such as 1.10 must not
    # become the float 1.1. The C variant is ~8x faster than the pure Python one.
    return getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _load_yaml(path: Path, loader: Any) -> Any:
    import yaml

    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=loader)


def _advisory_from_record(record: dict[str, Any]) -> Advisory:
    affected = tuple(
        AffectedPackage(
            name=a["name"],
            ranges=tuple(tuple(Event(**e) for e in events) for events in a["ranges"]),
            versions=tuple(a["versions"]),
        )
        for a in record["affected"]
    )
    return Advisory(**{**record, "aliases": tuple(record["aliases"]), "affected": affected})


def _read_cache(
    cache_file: Path, digest: str
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]] | None:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    if data.get("digest") != digest:
        return None
    return data["records"], data["byPackage"]


def _write_cache(cache_file: Path, index: OsvIndex) -> None:
    payload = {
        "format": CACHE_FORMAT,
        "root": str(index.root),
        "digest": index.digest,
        "records": index.records,
        "byPackage": index.by_package,
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a concurrent reader sees the old cache or the new, never half.
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
    except OSError as exc:  # a read-only home must not stop a scan; it only makes it slower
        log.warning("could not write the OSV index cache %s: %s", cache_file, exc)
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, separators=(",", ":"))
        os.replace(tmp, cache_file)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        log.warning("could not write the OSV index cache %s: %s", cache_file, exc)
