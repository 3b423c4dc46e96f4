"""Fixtures for the dependency gate: the OSV snapshot, a shared index cache, a local OSV API.

The reference matcher below is deliberately separate from psr_engine's: it follows the OSV
specification's own pseudo-code (walk the sorted events, toggling "vulnerable"), while the
product closes intervals. Tests derive their expectations from the data with it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from psr_engine.gates.dependencies import DependencyVulnerabilityScanner

DATA = Path(__file__).resolve().parents[3] / "data"
OSV_DB = DATA / "osv-pypi"
DEPS = DATA / "deps"


# --- the reference matcher ---------------------------------------------------------------------


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _event_key(event: tuple[str, str]) -> tuple[int, Version]:
    kind, value = event
    if kind == "introduced" and value == "0":
        return (0, Version("0"))
    return (1, _version(value) or Version("0"))


def reference_affected(raw: dict[str, Any], name: str, version: str) -> bool:
    """The OSV spec's evaluation, written straight from https://ossf.github.io/osv-schema/."""
    if raw.get("withdrawn"):
        return False
    v = Version(version)
    for affected in raw.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonicalize_name(package["name"]) != name:
            continue
        if any(_version(str(s)) == v for s in affected.get("versions", [])):
            return True
        for rng in affected.get("ranges", []):
            if rng.get("type") != "ECOSYSTEM":
                continue
            events = [
                (kind, str(value))
                for event in rng["events"]
                for kind, value in event.items()
                if (kind == "introduced" and str(value) == "0") or _version(str(value))
            ]
            vulnerable = False
            limited = False
            for kind, value in sorted(events, key=_event_key):
                bound = None if value == "0" and kind == "introduced" else Version(str(value))
                if kind == "introduced" and (bound is None or v >= bound):
                    vulnerable = True
                elif (kind == "fixed" and v >= bound) or (kind == "last_affected" and v > bound):
                    vulnerable = False
                elif kind == "limit" and v >= bound:
                    limited = True
            if vulnerable and not limited:
                return True
    return False


def load_package_records(name: str) -> list[dict[str, Any]]:
    """Every advisory the snapshot files under this package's folder (folder names vary)."""
    records = []
    for folder in (OSV_DB / "vulns").iterdir():
        if folder.is_dir() and canonicalize_name(folder.name) == name:
            for path in sorted(folder.glob("*.yaml")):
                records.append(yaml.load(path.read_text(), Loader=yaml.CSafeLoader))
    return records


# --- the scanner over the real snapshot ----------------------------------------------------------


@pytest.fixture(scope="session")
def osv_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index cache for the session: the snapshot is indexed (YAML parsed) once.

    Laid out as $XDG_CACHE_HOME/psr-engine/osv so tests of the default location share it.
    """
    return tmp_path_factory.mktemp("xdg-cache") / "psr-engine" / "osv"


@pytest.fixture
def scanner(osv_cache_dir: Path) -> DependencyVulnerabilityScanner:
    return DependencyVulnerabilityScanner(osv_db=str(OSV_DB), cache_dir=osv_cache_dir)


# --- a local OSV API -----------------------------------------------------------------------------


class FakeOsv:
    """Answers /v1/querybatch and /v1/vulns/{id} from the snapshot, as api.osv.dev would."""

    page_size = 3  # small, so the client's page-token loop is exercised

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.batches: list[int] = []  # number of queries in each querybatch request
        self.first_pages: list[int] = []  # the same, for requests carrying no page token
        self.detail_requests: list[str] = []
        self._by_package: dict[str, list[dict[str, Any]]] = {}
        self.overrides: dict[str, object] = {}  # advisory id -> the body GET answers instead

    def matches(self, name: str, version: str) -> list[str]:
        name = canonicalize_name(name)
        if name not in self._by_package:
            self._by_package[name] = load_package_records(name)
        hits = []
        for raw in self._by_package[name]:
            self.records[raw["id"]] = raw
            if reference_affected(raw, name, version):
                hits.append(raw["id"])
        return sorted(hits)

    def querybatch(self, body: dict[str, Any]) -> dict[str, Any]:
        self.batches.append(len(body["queries"]))
        if not any("page_token" in q for q in body["queries"]):
            self.first_pages.append(len(body["queries"]))
        results = []
        for query in body["queries"]:
            ids = self.matches(query["package"]["name"], query["version"])
            offset = int(query.get("page_token") or 0)
            page = ids[offset : offset + self.page_size]
            row: dict[str, Any] = {
                "vulns": [{"id": i, "modified": "2024-10-10T00:00:00Z"} for i in page]
            }
            if offset + self.page_size < len(ids):
                row["next_page_token"] = str(offset + self.page_size)
            results.append(row)
        return {"results": results}


@pytest.fixture
def osv_server() -> Iterator[tuple[str, FakeOsv]]:
    fake = FakeOsv()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path != "/v1/querybatch":
                self._send(404, {"message": "not found"})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(200, fake.querybatch(body))

        def do_GET(self) -> None:
            advisory_id = self.path.removeprefix("/v1/vulns/")
            fake.detail_requests.append(advisory_id)
            if advisory_id in fake.overrides:
                self._send(200, fake.overrides[advisory_id])
            elif advisory_id in fake.records:
                self._send(200, fake.records[advisory_id])
            else:
                self._send(404, {"message": "Bug not found."})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


class OsvReference:
    """The reference matcher and data paths, handed to tests as a fixture (conftest modules
    are not importable under --import-mode=importlib)."""

    db = OSV_DB
    deps = DEPS
    affected = staticmethod(reference_affected)
    records = staticmethod(load_package_records)


@pytest.fixture(scope="session")
def ref() -> OsvReference:
    return OsvReference()
