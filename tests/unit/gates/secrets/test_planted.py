"""The planted set: every credential format, in many file types, found at its line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from psr_engine.gates.secrets import SecretScanner

PLANTED = Path(__file__).resolve().parents[3] / "data" / "secrets" / "planted"
FILE_TYPES = {
    ".py",
    ".env",
    ".yaml",
    ".json",
    ".ini",
    ".tf",
    ".sh",
    ".js",
    ".properties",
    ".pem",
    ".ipynb",
    ".key",
    "",
}


def test_the_planted_set_is_varied(expected):
    assert len(expected) >= 60
    assert {"." + e["file"].rsplit(".", 1)[1] if "." in e["file"] else "" for e in expected} >= (
        FILE_TYPES
    )
    assert len({e["rule_id"] for e in expected}) >= 25


def test_recall_is_at_least_95_percent_each_at_its_line(expected, planted_findings):
    found = {(f.file, f.line, f.rule_id) for f in planted_findings}
    wanted = [(e["file"], e["line"], e["rule_id"]) for e in expected]
    missed = [w for w in wanted if w not in found]
    recall = 1 - len(missed) / len(wanted)
    print(f"planted recall: {len(wanted) - len(missed)}/{len(wanted)} = {recall:.1%}")
    assert recall >= 0.95, f"missed: {missed}"


def test_nothing_is_reported_twice_or_off_the_planted_lines(expected, planted_findings):
    wanted = {(e["file"], e["line"]) for e in expected}
    places = Counter((f.file, f.line) for f in planted_findings)
    assert [p for p in places if p not in wanted] == []
    assert [p for p, n in places.items() if n > 1] == []


def test_no_output_contains_a_whole_planted_secret(expected, planted_findings):
    secrets = [str(e["secret"]) for e in expected]
    for finding in planted_findings:
        outputs = [
            str(finding),
            repr(finding),
            json.dumps(finding.to_dict()),
            finding.message,
            finding.snippet,
            json.dumps(finding.properties),
        ]
        for secret in secrets:
            assert not any(secret in text for text in outputs), (finding.file, finding.line)


def test_findings_carry_preview_fingerprint_anchor_and_relative_files(planted_findings):
    for finding in planted_findings:
        assert finding.tool == "psr-secrets"
        assert finding.preview.endswith("…") and 2 <= len(finding.preview) <= 5
        assert len(finding.properties["fingerprint_anchor"]) == 64
        assert not finding.file.startswith("/") and "\\" not in finding.file
        assert finding.line >= 1 and finding.column >= 1
        assert finding.rule_id == finding.rule_id.lower() and " " not in finding.rule_id
        assert finding.rule_name.lower().split()[0] in finding.message.lower()


def test_live_credentials_are_high_or_critical_and_generic_ones_medium(planted_findings):
    for finding in planted_findings:
        if finding.rule_id == "generic-secret":
            assert finding.severity == "medium"
        else:
            assert finding.severity in ("high", "critical"), finding.rule_id


def test_the_answer_key_is_not_scanned_thanks_to_psrignore(planted_findings):
    assert "EXPECTED.json" in (PLANTED / ".psrignore").read_text()
    assert not [f for f in planted_findings if f.file == "EXPECTED.json"]


def test_a_pem_finding_points_at_its_begin_line():
    findings = SecretScanner(workers=1).scan_file(PLANTED / "keys" / "server.pem", root=PLANTED)
    lines = (PLANTED / "keys" / "server.pem").read_text().splitlines()
    assert [f.file for f in findings] == ["keys/server.pem"] * 2
    for finding in findings:
        assert lines[finding.line - 1].startswith("-----BEGIN ")
        assert finding.snippet == lines[finding.line - 1]


def test_sarif_from_planted_findings_keeps_secrets_out(expected, planted_findings):
    from psr_engine.gates.sarif import ToolRun, sarif_log

    log = sarif_log([ToolRun("psr-secrets", "1.0.0", planted_findings)], base_dir=str(PLANTED))
    text = json.dumps(log)
    assert len(log["runs"][0]["results"]) == len(planted_findings)
    assert not [e["file"] for e in expected if str(e["secret"]) in text]
