"""Tree scans: ignore files, skipped files, baselines, the process pool and bad input."""

from __future__ import annotations

import json
import os

import pytest

import psr_engine.gates.secrets as secrets_module
from psr_engine.errors import DiagnosedError
from psr_engine.gates.secrets import SecretScanner

TOKEN = "ghp_R8fK2nQ7xW4mZ1vB6tY9cL3dH5jS0aPeUiOk"


def write(path, text: str | bytes = f"t = '{TOKEN}'\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def files_of(findings) -> list[str]:
    return sorted({f.file for f in findings})


def test_gitignore_files_are_honoured_nested_ones_too(tmp_path, scanner):
    write(tmp_path / ".gitignore", "build/\n*.log\n!keep.log\n/only_top.py\n")
    write(tmp_path / "src" / ".gitignore", "local_*.py\n")
    for rel in [
        "app.py",
        "build/out.py",
        "debug.log",
        "keep.log",
        "only_top.py",
        "sub/only_top.py",
        "src/local_settings.py",
        "src/main.py",
        "other/local_settings.py",
    ]:
        write(tmp_path / rel)
    assert files_of(scanner.scan_directory(tmp_path)) == [
        "app.py",
        "keep.log",
        "other/local_settings.py",
        "src/main.py",
        "sub/only_top.py",
    ]


def test_psrignore_uses_the_same_syntax_and_can_override_gitignore(tmp_path, scanner):
    write(tmp_path / ".gitignore", "*.env\n")
    write(tmp_path / ".psrignore", "fixtures/\n!prod.env\n")
    for rel in ["fixtures/a.py", "dev.env", "prod.env", "main.py"]:
        write(tmp_path / rel)
    assert files_of(scanner.scan_directory(tmp_path)) == ["main.py", "prod.env"]


def test_exclude_patterns_act_like_a_root_ignore_file(tmp_path):
    for rel in ["test/a.py", "lib/b.py"]:
        write(tmp_path / rel)
    scanner = SecretScanner(workers=1, exclude=["test/"])
    assert files_of(scanner.scan_directory(tmp_path)) == ["lib/b.py"]


def test_git_folders_binaries_oversized_files_and_symlinks_are_skipped(tmp_path):
    write(tmp_path / ".git" / "config")
    write(tmp_path / "blob.bin", b"\x00\x01" + f"t='{TOKEN}'".encode())
    write(tmp_path / "big.py", f"t = '{TOKEN}'\n" + "#" * 2000)
    write(tmp_path / "ok.py")
    os.symlink(tmp_path / "ok.py", tmp_path / "link.py")
    report = SecretScanner(workers=1, max_file_bytes=1000).scan_tree(tmp_path)
    assert files_of(report.findings) == ["ok.py"]
    assert report.skipped == {"binary": 1, "too_large": 1}
    assert report.files_scanned == 1 and report.lines_scanned == 1


def test_scan_file_reports_paths_relative_to_the_root(tmp_path, scanner):
    path = write(tmp_path / "cfg" / "app.py")
    (finding,) = scanner.scan_file(path, root=tmp_path)
    assert finding.file == "cfg/app.py"
    assert scanner.scan_file(write(tmp_path / "x.bin", b"\x00" + TOKEN.encode())) == []


def test_missing_paths_are_user_errors_naming_the_path(tmp_path, scanner):
    with pytest.raises(DiagnosedError, match="nope"):
        scanner.scan_directory(tmp_path / "nope")
    with pytest.raises(DiagnosedError, match=r"nope\.py"):
        scanner.scan_file(tmp_path / "nope.py")


def test_a_baseline_drops_accepted_findings_even_after_lines_move(tmp_path, scanner):
    write(tmp_path / "a.py")
    baseline = tmp_path / "baseline.json"
    SecretScanner.write_baseline(scanner.scan_directory(tmp_path), baseline)
    assert len(json.loads(baseline.read_text())) == 1
    assert TOKEN not in baseline.read_text()
    write(tmp_path / "a.py", f"import os\n\n\nt = '{TOKEN}'\n")  # the secret moved down
    new_token = TOKEN[:-4] + "Zz9Q"
    write(tmp_path / "b.py", f"t = '{new_token}'\n")
    rescanned = SecretScanner(workers=1, baseline=baseline).scan_directory(tmp_path)
    assert files_of(rescanned) == ["b.py"]


def test_a_baseline_may_also_be_given_as_fingerprints(tmp_path, scanner):
    (finding,) = scanner.scan_text(f"t = '{TOKEN}'", file="a.py")
    quiet = SecretScanner(workers=1, baseline=[finding.fingerprint])
    assert quiet.scan_text(f"t = '{TOKEN}'", file="a.py") == []
    assert quiet.scan_text(f"t = '{TOKEN}'", file="b.py")  # same secret, other file


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not JSON"), ('{"a": 1}', "JSON list of fingerprints")],
)
def test_a_broken_baseline_is_a_user_error_naming_the_file(tmp_path, content, message):
    path = write(tmp_path / "baseline.json", content)
    with pytest.raises(DiagnosedError, match=message) as info:
        SecretScanner(baseline=path)
    assert info.value.diagnostics[0].file == str(path)
    with pytest.raises(DiagnosedError, match="not found"):
        SecretScanner(baseline=tmp_path / "missing.json")


def test_the_process_pool_finds_what_the_plain_loop_finds(tmp_path, monkeypatch):
    for i in range(12):
        write(tmp_path / f"pkg{i % 3}" / f"m{i}.py", f"x = {i}\nt = '{TOKEN[:-2]}{i:02d}'\n")
    monkeypatch.setattr(secrets_module, "PARALLEL_MIN_FILES", 4)
    monkeypatch.setattr(secrets_module, "PARALLEL_MIN_BYTES", 0)
    pooled = SecretScanner(workers=2).scan_tree(tmp_path)
    plain = SecretScanner(workers=1).scan_tree(tmp_path)
    assert pooled == plain
    assert len(pooled.findings) == 12 and pooled.lines_scanned == 24


def test_the_scanner_repr_shows_settings_not_baseline_contents():
    text = repr(SecretScanner(baseline=["f" * 32], workers=1))
    assert "1 entries" in text and "f" * 32 not in text


def test_files_over_the_size_limit_are_named_in_the_report_and_its_note(tmp_path):
    (tmp_path / "small.txt").write_text("nothing here\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dump.sql").write_text("x" * 1_200_000)
    (tmp_path / "data" / "blob.bin").write_bytes(b"\0" * 1_200_000)  # a binary: not "too large"
    report = SecretScanner(workers=1).scan_tree(tmp_path)
    assert report.too_large == ("data/dump.sql",)
    assert report.skipped == {"too_large": 1, "binary": 1}
    assert report.skipped_note() == "1 file over 1 MB not scanned for secrets: data/dump.sql"


def test_the_note_names_a_few_and_counts_the_rest(tmp_path):
    for i in range(5):
        (tmp_path / f"big{i}.log").write_text("y" * 2_000)
    report = SecretScanner(workers=1, max_file_bytes=1_000).scan_tree(tmp_path)
    assert report.skipped_note() == (
        "5 files over 0.001 MB not scanned for secrets: big0.log, big1.log, big2.log and 2 more"
    )
    assert SecretScanner(workers=1).scan_tree(tmp_path).skipped_note() is None
