"""Advisories whose records carry no severity count as high unless the gate says otherwise.

Most PyPA records have no CVSS vector and no named severity; scored as medium, they let the
default ``failOn: high`` pass PyYAML 5.1, Django 2.2.0, Jinja2 2.10 and Pillow 6.0.0 (70
advisories in the snapshot, one arbitrary code execution).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anyio
import pytest

from psr_engine.errors import DiagnosedError, ManifestError
from psr_engine.gates.dependencies import DependencyVulnerabilityScanner
from psr_engine.gates.runner import run_gate
from psr_engine.manifest import load_manifest
from psr_engine.plan.model import PlannedGate

DATA = Path(__file__).resolve().parents[3] / "data"
OSV_DB = DATA / "osv-pypi"
FOUR_OLD_PINS = "PyYAML==5.1\nDjango==2.2.0\nJinja2==2.10\nPillow==6.0.0\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(FOUR_OLD_PINS)
    for package in ("pyyaml", "django", "jinja2", "pillow"):  # indexes in well under a second
        shutil.copytree(OSV_DB / "vulns" / package, root / "osv" / package)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return root


def _run(project: Path, **options: str):
    gate = PlannedGate(
        name="deps",
        type="dependencies",
        paths=(str(project),),
        options={"osvDb": str(project / "osv"), **options},
    )
    return anyio.run(lambda: run_gate(gate, base_dir=str(project)))


def test_the_four_old_pins_block_at_the_default_threshold(project):
    report = _run(project)
    assert report.status == "blocked"
    assert report.counts["high"] >= 60
    summary = report.message.splitlines()
    assert summary[0].endswith("blocking at high")
    assert "counted as high (unscoredAs)" in summary[1]
    assert "(unscored: counted as high)" in report.message  # in the table's clipped rows too
    packages = {f["message"].split("==")[0] for f in report.findings}
    assert packages == {"pyyaml", "django", "jinja2", "pillow"}


def test_each_unscored_finding_says_so_in_its_message_and_properties(project):
    scanner = DependencyVulnerabilityScanner(osv_db=str(project / "osv"))
    findings = scanner.scan([project / "requirements.txt"], root=project)
    unscored = [f for f in findings if f.properties["unscored"]]
    assert unscored and set(scanner.unscored) == {f.rule_id for f in unscored}
    for finding in unscored:
        assert finding.severity == "high"
        assert finding.properties["severity_source"] == "unscored"
        assert " (unscored: counted as high): " in finding.message
    # The YAML arbitrary code execution (CVE-2019-20477) is among them.
    assert "PYSEC-2020-176" in scanner.unscored


def test_unscored_as_medium_lets_them_pass_and_the_report_still_says_so(project):
    report = _run(project, unscoredAs="medium")
    assert report.status == "passed"
    assert "counted as medium (unscoredAs)" in report.message


def test_the_sarif_carries_the_unscored_word_in_each_result(project):
    sarif = project / "deps.sarif"
    gate = PlannedGate(
        name="deps",
        type="dependencies",
        paths=(str(project),),
        sarif=str(sarif),
        options={"osvDb": str(project / "osv")},
    )
    anyio.run(lambda: run_gate(gate, base_dir=str(project)))
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert results and all("(unscored: counted as high)" in r["message"]["text"] for r in results)
    assert {r["level"] for r in results} == {"error"}


def test_a_bad_unscored_as_is_refused(project):
    with pytest.raises(DiagnosedError, match="unscored_as must be one of"):
        DependencyVulnerabilityScanner(osv_db=str(project / "osv"), unscored_as="severe")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("{name: g, type: secrets, unscoredAs: medium}", "unscoredAs only applies to dependencies"),
        ("{name: g, type: dependencies, unscoredAs: severe}", "severe"),
    ],
)
def test_the_manifest_checks_unscored_as(tmp_path, gate, message):
    path = tmp_path / "workflow.yaml"
    path.write_text(
        "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: demo}\nspec:\n"
        f"  gates:\n    - {gate}\n  tasks:\n    a: {{run: echo}}\n"
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    (diagnostic,) = caught.value.diagnostics
    assert message in diagnostic.message and diagnostic.line == 6
