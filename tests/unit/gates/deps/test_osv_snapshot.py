"""Scanning real old pins against the OSV snapshot finds exactly what the data says."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from psr_engine.gates import osv_index
from psr_engine.gates.dependencies import DependencyVulnerabilityScanner

DATA = Path(__file__).resolve().parents[3] / "data"
OSV_DB = DATA / "osv-pypi"
DEPS = DATA / "deps"
OLD_PINS = DEPS / "requirements-old-pins.txt"


def _expected(path: Path, ref) -> set[tuple[int, str]]:
    """(line, advisory id) for every pin in the file, from the reference matcher."""
    expected = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        (spec,) = requirement.specifier
        for raw in ref.records(name):
            if ref.affected(raw, name, spec.version):
                expected.add((number, raw["id"]))
    return expected


def test_old_pins_get_exactly_the_advisories_the_data_lists(scanner, ref):
    findings = scanner.scan_requirements(OLD_PINS, root=DEPS)

    expected = _expected(OLD_PINS, ref)
    assert {(f.line, f.rule_id) for f in findings} == expected
    # Every one of the twenty pins is old enough to be hit; the test would be weak otherwise.
    assert len({line for line, _ in expected}) == 20
    assert len(findings) == len(expected)  # no duplicates
    assert all(f.file == "requirements-old-pins.txt" and f.tool == "osv" for f in findings)


def test_second_scan_reads_the_index_cache_and_parses_no_yaml(osv_cache_dir, monkeypatch, ref):
    warm = DependencyVulnerabilityScanner(osv_db=str(OSV_DB), cache_dir=osv_cache_dir)
    assert len(warm.index) == 2661  # built (or read) once for the session

    def no_yaml(*args: object) -> None:
        raise AssertionError("YAML parsed although the index cache is fresh")

    monkeypatch.setattr(osv_index, "_load_yaml", no_yaml)
    monkeypatch.setattr(osv_index, "_yaml_loader", no_yaml)
    started = time.perf_counter()
    second = DependencyVulnerabilityScanner(osv_db=str(OSV_DB), cache_dir=osv_cache_dir)
    findings = second.scan_requirements(OLD_PINS, root=DEPS)
    elapsed = time.perf_counter() - started

    print(f"second scan (index from cache): {elapsed:.3f}s, {len(findings)} findings")
    assert second.index.from_cache
    assert len(second.index) == 2661
    assert len(findings) == len(_expected(OLD_PINS, ref))


def test_finding_names_package_aliases_and_first_fix_above(scanner):
    findings = scanner.scan_requirements(OLD_PINS, root=DEPS)
    by_rule = {f.rule_id: f for f in findings if f.properties["package"] == "jinja2"}

    sandbox = by_rule["PYSEC-2019-217"]
    assert sandbox.message.startswith(
        "jinja2==2.10 (unscored: counted as high): In Pallets Jinja before 2.10.1"
    )
    assert "(CVE-2019-10906, GHSA-462w-v97r-4m45)" in sandbox.message
    assert sandbox.message.endswith("; fixed in 2.10.1")
    assert sandbox.severity == "high"  # the record has no vector and no named severity
    assert sandbox.line == 2
    assert sandbox.properties == {
        "package": "jinja2",
        "version": "2.10",
        "aliases": ["CVE-2019-10906", "GHSA-462w-v97r-4m45"],
        "fixed": "2.10.1",
        "advisory_url": "https://osv.dev/vulnerability/PYSEC-2019-217",
        "severity_source": "unscored",
        "unscored": True,
        "suggestion": "upgrade to >= 2.10.1",
        "fingerprint_anchor": "jinja2==2.10",
    }


def test_fingerprint_survives_the_requirement_moving(scanner, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("jinja2==2.10\n")
    before = {f.rule_id: f.fingerprint for f in scanner.scan_requirements(req, root=tmp_path)}
    req.write_text("# a new first line\nsix==1.16.0\njinja2==2.10\n")
    after = scanner.scan_requirements(req, root=tmp_path)
    assert {f.line for f in after} == {3}
    assert {f.rule_id: f.fingerprint for f in after} == before


def test_cvss_vectors_in_the_data_set_the_severity(scanner):
    # PYSEC-2023-192 (urllib3, CVE-2023-43804) carries CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N
    # in the snapshot: base score 8.1, high.
    (advisory,) = [a for a in scanner.check_cves("urllib3", "1.24.1") if a.id == "PYSEC-2023-192"]
    assert advisory.severity == "high"
    assert advisory.severity_source == "CVSS_V3 8.1"


def test_check_cves_normalises_names_and_versions(scanner):
    assert [a.id for a in scanner.check_cves("Jinja2", "2.10.0")] == [
        a.id for a in scanner.check_cves("jinja2", "2.10")
    ]
    assert scanner.check_cves("jinja2", "3.1.4") == []
    assert scanner.check_cves("no-such-package-here", "1.0") == []


def test_withdrawn_advisories_are_never_reported(scanner, ref):
    # PYSEC-2023-73 (redis) is withdrawn in the snapshot, though its ranges still match.
    (raw,) = [r for r in ref.records("redis") if r["id"] == "PYSEC-2023-73"]
    assert raw["withdrawn"]
    version = next(str(v) for a in raw["affected"] for v in a.get("versions", []))
    assert "PYSEC-2023-73" not in {a.id for a in scanner.check_cves("redis", version)}


def test_missing_database_is_a_clear_error(tmp_path):
    from psr_engine.errors import DiagnosedError

    with pytest.raises(DiagnosedError, match="OSV database folder does not exist"):
        DependencyVulnerabilityScanner(osv_db=str(tmp_path / "nope")).check_cves("x", "1")


def test_no_database_configured_says_how_to_fix(monkeypatch):
    from psr_engine.errors import DiagnosedError

    monkeypatch.delenv("PSR_OSV_DB", raising=False)
    with pytest.raises(DiagnosedError, match=r"PSR_OSV_DB"):
        DependencyVulnerabilityScanner().check_cves("jinja2", "2.10")


def test_database_path_comes_from_the_environment(monkeypatch, osv_cache_dir):
    monkeypatch.setenv("PSR_OSV_DB", str(OSV_DB))
    scanner = DependencyVulnerabilityScanner(cache_dir=osv_cache_dir)
    assert "PYSEC-2019-217" in {a.id for a in scanner.check_cves("jinja2", "2.10")}
