"""`psr-engine scan` and `psr-engine sbom`: one gate, or an SBOM, from the command line."""

from __future__ import annotations

import json


def test_scan_secrets_exits_3_and_prints_a_table(planted) -> None:
    result = planted.cli("scan", "secrets", "config", "--fail-on", "low")
    assert result.code == 3
    assert "github-token" in result.stdout and "config/settings.env:1" in result.stdout
    assert "secrets: blocked: 1 finding (1 critical); blocking at low" in result.stdout
    assert "ghp_R8vKq2mT9xLw4ZpB7nYc3HdJ6sFa1GeU0oQi" not in result.stdout


def test_scan_exits_0_when_nothing_reaches_fail_on(planted) -> None:
    result = planted.cli(
        "scan", "deps", "requirements.txt", "--osv-db", "osv", "--unscored-as", "medium"
    )
    assert result.code == 0, result.stderr
    assert "2 findings (2 medium); none at or above high" in result.stdout


def test_scan_deps_blocks_on_unscored_advisories_by_default_and_names_them(planted) -> None:
    # requests 2.19.0's two PYSEC advisories carry no CVSS vector and no named severity.
    result = planted.cli("scan", "deps", "requirements.txt", "--osv-db", "osv")
    assert result.code == 3, result.stdout + result.stderr
    assert "2 findings (2 high); blocking at high" in result.stdout
    assert "requests==2.19.0 (unscored: counted as high): Requests is" in result.stdout
    assert (
        "note: 2 advisories carry no severity (no CVSS vector, no named level): counted as high"
        " (unscoredAs): PYSEC-2018-28, PYSEC-2023-74" in result.stderr
    )
    body = json.loads(planted.cli("scan", "deps", "--osv-db", "osv", "-o", "json").stdout)
    assert any("counted as high (unscoredAs)" in note for note in body["notes"])


def test_scan_secrets_says_which_files_were_too_large(planted) -> None:
    planted.write("config/huge.log", "line without secrets\n" * 60_000)  # 1.3 MB
    result = planted.cli("scan", "secrets", "config")
    assert result.code == 3
    assert "note: 1 file over 1 MB not scanned for secrets: config/huge.log" in result.stderr


def test_scan_json_output_and_sarif(planted, sarif_valid) -> None:
    result = planted.cli(
        "scan", "code", "src", "--tool", "bandit", "-o", "json", "--sarif", "out/code.sarif"
    )
    assert result.code == 3
    body = json.loads(result.stdout)
    assert body["status"] == "blocked" and body["failOn"] == "high"
    assert body["counts"]["high"] >= 1
    assert any(f["ruleId"] == "B602" and f["file"] == "src/app.py" for f in body["findings"])
    log = sarif_valid(planted.root / "out" / "code.sarif")
    assert [run["tool"]["driver"]["name"] for run in log["runs"]] == ["bandit"]


def test_scan_baseline_suppresses(planted) -> None:
    assert planted.cli("scan", "secrets", "--write-baseline", "b.json").code == 0
    result = planted.cli("scan", "secrets", "--baseline", "b.json", "--fail-on", "low")
    assert result.code == 0, result.stdout
    assert "1 more accepted by the baseline" in result.stdout


def test_scan_bad_input_exits_2(planted) -> None:
    missing = planted.cli("scan", "secrets", "no-such-dir")
    assert missing.code == 2 and "no such file or folder" in missing.stderr
    no_db = planted.cli("scan", "deps", "requirements.txt")
    assert no_db.code == 2 and "--osv-db" in no_db.stderr
    wrong_flag = planted.cli("scan", "secrets", "--osv-db", "osv")
    assert wrong_flag.code == 2 and "--osv-db does not apply" in wrong_flag.stderr
    bad_level = planted.cli("scan", "secrets", "--fail-on", "severe")
    assert bad_level.code == 2
    assert "Traceback" not in missing.stderr + no_db.stderr + wrong_flag.stderr


def test_sbom_of_a_requirements_file(planted) -> None:
    result = planted.cli("sbom", "--from", "requirements.txt")
    assert result.code == 0, result.stderr
    bom = json.loads(result.stdout)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    assert [c["purl"] for c in bom["components"]] == ["pkg:pypi/requests@2.19.0"]


def test_sbom_of_the_environment_to_a_file(planted) -> None:
    result = planted.cli("sbom", "--output", "out/sbom.json")
    assert result.code == 0, result.stderr
    bom = json.loads((planted.root / "out" / "sbom.json").read_text())
    names = {c["name"] for c in bom["components"]}
    assert "psr-engine" in names or "jsonschema" in names
    assert "CycloneDX 1.6 SBOM" in result.stderr


def test_sbom_of_a_missing_file_exits_2(planted) -> None:
    result = planted.cli("sbom", "--from", "nope.txt")
    assert result.code == 2 and "nope.txt" in result.stderr
