"""Online mode against a real HTTP server on 127.0.0.1 speaking the OSV API (see conftest)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from psr_engine.errors import ExecutionError, PsrError
from psr_engine.gates import osv_api
from psr_engine.gates.dependencies import DependencyVulnerabilityScanner

DEPS = Path(__file__).resolve().parents[3] / "data" / "deps"
OLD_PINS = DEPS / "requirements-old-pins.txt"


def _keys(findings):
    return [(f.file, f.line, f.rule_id, f.severity, f.message, f.properties) for f in findings]


def test_online_scan_finds_what_the_offline_scan_finds(osv_server, scanner):
    url, fake = osv_server
    online = DependencyVulnerabilityScanner(online=True, api_url=url, timeout=5)

    found_online = online.scan_requirements(OLD_PINS, root=DEPS)
    found_offline = scanner.scan_requirements(OLD_PINS, root=DEPS)

    assert _keys(found_online) == _keys(found_offline)
    assert fake.first_pages == [20]  # one querybatch for all twenty pins
    assert len(fake.batches) > 1  # ... then follow-ups for the pins with more than a page
    # Each advisory's details fetched once, however many pins it matched.
    assert sorted(fake.detail_requests) == sorted({f.rule_id for f in found_online})


def test_online_queries_go_in_batches_of_the_api_limit(osv_server, monkeypatch):
    url, fake = osv_server
    monkeypatch.setattr(osv_api, "BATCH_SIZE", 8)  # 1000 in the product; 20 pins here
    online = DependencyVulnerabilityScanner(online=True, api_url=url, timeout=5)
    online.scan_requirements(OLD_PINS, root=DEPS)
    assert fake.first_pages == [8, 8, 4]
    assert max(fake.batches) <= 8


def test_online_check_cves(osv_server):
    url, _ = osv_server
    online = DependencyVulnerabilityScanner(online=True, api_url=url, timeout=5)
    ids = [a.id for a in online.check_cves("jinja2", "2.10")]
    assert ids == ["PYSEC-2019-217", "PYSEC-2021-66"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_api_is_a_clear_psr_error(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    online = DependencyVulnerabilityScanner(online=True, api_url=url, timeout=2)
    with pytest.raises(PsrError) as raised:
        online.scan_requirements(OLD_PINS, root=DEPS)
    message = str(raised.value)
    assert message.startswith(f"cannot reach the OSV API at {url}/v1/querybatch")
    assert "scan offline with osv_db" in message
    assert raised.value.__suppress_context__  # no chained traceback for the CLI to show


def test_api_error_status_is_a_clear_psr_error(osv_server):
    url, _ = osv_server
    online = DependencyVulnerabilityScanner(online=True, api_url=url + "/wrong", timeout=5)
    with pytest.raises(ExecutionError, match=r"refused POST .*/wrong/v1/querybatch: HTTP 404"):
        online.check_cves("jinja2", "2.10")


def test_unreadable_advisory_from_the_api_is_a_clear_psr_error(osv_server):
    url, fake = osv_server
    fake.overrides["PYSEC-2019-217"] = {"no": "id"}
    online = DependencyVulnerabilityScanner(online=True, api_url=url, timeout=5)
    with pytest.raises(ExecutionError, match="unreadable advisory PYSEC-2019-217"):
        online.check_cves("jinja2", "2.10")
