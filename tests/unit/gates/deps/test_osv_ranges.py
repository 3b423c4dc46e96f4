"""OSV range semantics on small synthetic databases, one advisory per rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine.gates.cvss import base_score, severity_of_score
from psr_engine.gates.dependencies import DependencyVulnerabilityScanner


def _advisory(advisory_id: str, *, ranges=(), versions=(), name="demo", **extra) -> dict:
    return {
        "id": advisory_id,
        "summary": f"problem {advisory_id}",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": list(r)} for r in ranges],
                "versions": list(versions),
            }
        ],
        **extra,
    }


ADVISORIES = [
    _advisory("T-FIXED", ranges=[[{"introduced": "0"}, {"fixed": "1.5"}]]),
    _advisory("T-LAST", ranges=[[{"introduced": "2.0"}, {"last_affected": "2.3"}]]),
    _advisory(
        "T-TWO-SPANS",
        ranges=[[{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "3.0"}, {"fixed": "3.1"}]],
    ),
    # Events out of order in the file: evaluation sorts them by version first.
    _advisory("T-UNSORTED", ranges=[[{"fixed": "9.5"}, {"introduced": "9.0"}]]),
    _advisory("T-LIST", versions=["4.0"]),
    _advisory("T-WITHDRAWN", ranges=[[{"introduced": "0"}]], withdrawn="2024-01-01T00:00:00Z"),
    _advisory("T-OPEN", ranges=[[{"introduced": "7.0"}]]),
    _advisory("T-LIMIT", ranges=[[{"introduced": "0"}, {"limit": "0.5"}]]),
    _advisory(
        "T-BAD-DATA",
        ranges=[[{"introduced": "0"}, {"fixed": "not a version"}], [{"introduced": "bogus"}]],
        versions=["also bad", "6.0"],
        name="bad",
    ),
    {
        "id": "T-GIT",
        "affected": [
            {
                "package": {"name": "demo", "ecosystem": "PyPI"},
                "ranges": [{"type": "GIT", "repo": "x", "events": [{"introduced": "0"}]}],
            }
        ],
    },
    _advisory("T-NPM", ranges=[[{"introduced": "0"}]], name="demo"),
]
ADVISORIES[-1]["affected"][0]["package"]["ecosystem"] = "npm"

YAML_RECORD = """\
id: T-YAML
details: Unquoted versions must stay strings. A second sentence.
affected:
- package: {name: Demo_Pkg, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: 1.9
    - fixed: 1.10
"""


@pytest.fixture
def synthetic_db(tmp_path: Path) -> Path:
    db = tmp_path / "db"
    (db / "deep" / "er").mkdir(parents=True)
    for advisory in ADVISORIES:
        (db / f"{advisory['id']}.json").write_text(json.dumps(advisory))
    (db / "deep" / "er" / "T-YAML.yaml").write_text(YAML_RECORD)
    (db / "broken.json").write_text("{not json")
    return db


@pytest.fixture
def scan(synthetic_db: Path, tmp_path: Path) -> DependencyVulnerabilityScanner:
    return DependencyVulnerabilityScanner(osv_db=str(synthetic_db), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1", {"T-FIXED", "T-LIMIT"}),
        ("0.5", {"T-FIXED"}),  # limit is exclusive
        ("1.0", {"T-FIXED", "T-TWO-SPANS"}),
        ("1.4.9", {"T-FIXED"}),
        ("1.5", set()),  # fixed is exclusive
        ("1.5.0", set()),
        ("2.0", {"T-LAST"}),
        ("2.3", {"T-LAST"}),  # last_affected is inclusive
        ("2.3.post1", set()),
        ("3.0.5", {"T-TWO-SPANS"}),
        ("3.1", set()),
        ("4.0.0", {"T-LIST"}),  # listed "4.0" == 4.0.0 under PEP 440
        ("4.0.1", set()),
        ("7.0rc1", set()),  # a pre-release sorts before 7.0
        ("8.0", {"T-OPEN"}),
        ("9.2", {"T-OPEN", "T-UNSORTED"}),
    ],
)
def test_range_events_follow_pep440_order(scan, version, expected):
    assert {a.id for a in scan.check_cves("demo", version)} == expected


def test_invalid_versions_in_data_are_skipped_not_raised(scan):
    # The unparseable "fixed" event is dropped, leaving the range open from "0" (reporting too
    # much beats missing a vulnerable version); the valid "6.0" in the list still counts.
    assert [a.id for a in scan.check_cves("bad", "6.0")] == ["T-BAD-DATA"]
    assert [a.id for a in scan.check_cves("bad", "0.1")] == ["T-BAD-DATA"]
    assert scan.check_cves("demo", "not-a-version") == []


def test_unreadable_records_are_reported_and_the_rest_indexed(scan):
    assert len(scan.index) == len(ADVISORIES) - 1 + 1  # the npm-only one has no PyPI package
    assert [p.split(":")[0] for p in scan.index.problems] == ["broken.json"]


def test_yaml_records_at_any_depth_keep_versions_as_strings(scan):
    # "fixed: 1.10" read as a float would be 1.1, and 1.9.5 would wrongly be unaffected.
    assert [a.id for a in scan.check_cves("demo-pkg", "1.9.5")] == ["T-YAML"]
    assert [a.id for a in scan.check_cves("Demo.Pkg", "1.9.5")] == ["T-YAML"]
    assert scan.check_cves("demo-pkg", "1.10") == []
    (advisory,) = scan.check_cves("demo_pkg", "1.9")
    assert advisory.summary == "Unquoted versions must stay strings. A second sentence"


def test_first_fix_above_the_installed_version_is_suggested(scan):
    (two_spans,) = [a for a in scan.check_cves("demo", "1.1") if a.id == "T-TWO-SPANS"]
    assert two_spans.first_fix_above("demo", "1.1") == "1.2"
    assert two_spans.first_fix_above("demo", "3.0.5") == "3.1"
    (last,) = [a for a in scan.check_cves("demo", "2.1") if a.id == "T-LAST"]
    assert last.first_fix_above("demo", "2.1") is None


def test_message_without_fix_or_aliases(scan, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo==2.1\n")
    (finding,) = [f for f in scan.scan_requirements(requirements, root=tmp_path)]
    assert finding.rule_id == "T-LAST"
    assert finding.message == (
        "demo==2.1 (unscored: counted as high): problem T-LAST; no fixed version known"
    )
    assert finding.file == "requirements.txt" and finding.line == 1


def test_changed_database_rebuilds_the_cache(synthetic_db, tmp_path):
    cache = tmp_path / "cache"
    first = DependencyVulnerabilityScanner(osv_db=str(synthetic_db), cache_dir=cache)
    assert not first.index.from_cache
    assert DependencyVulnerabilityScanner(
        osv_db=str(synthetic_db), cache_dir=cache
    ).index.from_cache

    (synthetic_db / "T-NEW.json").write_text(
        json.dumps(_advisory("T-NEW", ranges=[[{"introduced": "0"}]], name="other"))
    )
    third = DependencyVulnerabilityScanner(osv_db=str(synthetic_db), cache_dir=cache)
    assert not third.index.from_cache
    assert [a.id for a in third.check_cves("other", "1.0")] == ["T-NEW"]


def test_unwritable_cache_dir_still_scans(synthetic_db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    scanner = DependencyVulnerabilityScanner(osv_db=str(synthetic_db), cache_dir=blocker / "sub")
    assert {a.id for a in scanner.check_cves("demo", "2.0")} == {"T-LAST"}
    assert not scanner.index.from_cache


# --- severity ------------------------------------------------------------------------------------


V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


@pytest.mark.parametrize(
    ("vector", "scored"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", (9.8, "CVSS_V3")),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", (9.9, "CVSS_V3")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", (6.1, "CVSS_V3")),
        ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", (1.8, "CVSS_V3")),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", (5.9, "CVSS_V3")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", (0.0, "CVSS_V3")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O", (9.8, "CVSS_V3")),  # temporal
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", (7.5, "CVSS_V2")),  # how OSV writes a v2 vector
        (V4_CRITICAL, (9.3, "CVSS_V4")),
        ("CVSS:3.1/AV:N/AC:L", None),
        ("CVSS:4.0/AV:N", None),
        ("garbage", None),
    ],
)
def test_cvss_base_scores_of_every_version_match_first_calculator(vector, scored):
    assert base_score(vector) == scored


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10.0, "critical"),
        (9.0, "critical"),
        (8.9, "high"),
        (7.0, "high"),
        (6.9, "medium"),
        (4.0, "medium"),
        (3.9, "low"),
        (0.0, "low"),
    ],
)
def test_cvss_score_bands(score, severity):
    assert severity_of_score(score) == severity


def _affected_with(**fields) -> list[dict]:
    return [{"package": {"name": "demo", "ecosystem": "PyPI"}, "versions": ["1.0"], **fields}]


HIGH_V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5


@pytest.mark.parametrize(
    ("extra", "severity", "source"),
    [
        (
            {
                "severity": [
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
                ]
            },
            "critical",
            "CVSS_V3 9.8",
        ),
        ({"severity": [{"type": "CVSS_V4", "score": V4_CRITICAL}]}, "critical", "CVSS_V4 9.3"),
        (
            {"severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}]},
            "high",
            "CVSS_V2 7.5",
        ),
        (
            {
                "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}],  # invalid: skipped
                "database_specific": {"severity": "MODERATE"},
            },
            "medium",
            "database_specific MODERATE",
        ),
        ({"database_specific": {"severity": "HIGH"}}, "high", "database_specific HIGH"),
        # Every source counts, and the worst wins: a high vector beside a "low" label is high.
        (
            {
                "severity": [{"type": "CVSS_V3", "score": HIGH_V3}],
                "database_specific": {"severity": "LOW"},
            },
            "high",
            "CVSS_V3 7.5",
        ),
        (
            {"affected": _affected_with(severity=[{"type": "CVSS_V3", "score": HIGH_V3}])},
            "high",
            "CVSS_V3 7.5",
        ),
        (
            {"affected": _affected_with(ecosystem_specific={"severity": "critical"})},
            "critical",
            "ecosystem_specific CRITICAL",
        ),
        ({"severity": [{"type": "Ubuntu", "score": "medium"}]}, "medium", "Ubuntu MEDIUM"),
        # No score anywhere: a code-execution weakness decides; anything else is unscored.
        ({"database_specific": {"cwe_ids": ["CWE-20", "CWE-502"]}}, "high", "CWE-502"),
        ({"database_specific": {"cwe_ids": ["CWE-79"]}}, None, "unscored"),
        ({}, None, "unscored"),
    ],
)
def test_severity_is_the_worst_any_source_gives_else_unscored(tmp_path, extra, severity, source):
    db = tmp_path / "db"
    db.mkdir()
    (db / "S.json").write_text(json.dumps(_advisory("S", versions=["1.0"], **extra)))
    scanner = DependencyVulnerabilityScanner(osv_db=str(db), cache_dir=tmp_path / "c")
    (advisory,) = scanner.check_cves("demo", "1.0")
    assert (advisory.severity, advisory.severity_source) == (severity, source)
