"""The loader: plain data with positions, and a clean error for every kind of bad file."""

from __future__ import annotations

import json
import os
import re

import pytest

from psr_engine.errors import ManifestError
from psr_engine.manifest import loader
from psr_engine.manifest.loader import load_document, load_text
from psr_engine.manifest.model import Position


def only_error(excinfo: pytest.ExceptionInfo[ManifestError]):
    (diagnostic,) = excinfo.value.diagnostics
    return diagnostic


def test_positions_point_at_nested_keys_and_list_items() -> None:
    doc = load_text(
        "spec:\n"
        "  tasks:\n"
        "    extract:\n"
        "      retries: {limit: 2, on: [75, 111]}\n"
        "      args:\n"
        "        - --date\n"
        "        - today\n"
    )
    assert doc.positions[("spec", "tasks", "extract")] == Position(3, 5)
    assert doc.positions[("spec", "tasks", "extract", "retries", "limit")] == Position(4, 17)
    assert doc.positions[("spec", "tasks", "extract", "retries", "on", 1)] == Position(4, 36)
    assert doc.positions[("spec", "tasks", "extract", "args", 1)] == Position(7, 11)


def test_data_is_plain_python_with_yaml_1_2_scalars() -> None:
    doc = load_text(
        "on: yes\nn: 0x1F\nf: 1.5\nnothing: ~\nflag: true\nday: 2026-11-25\nq: '12'\n1: one\n"
    )
    assert doc.data == {
        "on": "yes",  # YAML 1.2: not a boolean, and `on` stays a key
        "n": 31,
        "f": 1.5,
        "nothing": None,
        "flag": True,
        "day": "2026-11-25",  # dates stay text
        "q": "12",
        "1": "one",  # keys are names
    }
    assert type(doc.data) is dict
    assert all(type(v) in (str, int, float, bool, type(None)) for v in doc.data.values())


def test_json_round_trips_through_plain_data() -> None:
    doc = load_text('{"a": {"b": [1, 2.5, null, true]}}', format="json")
    assert json.loads(json.dumps(doc.data)) == {"a": {"b": [1, 2.5, None, True]}}
    assert doc.positions[("a", "b")] == Position(1, 8)


def test_merge_keys_let_written_keys_win() -> None:
    doc = load_text("base: &base {timeout: 1m, retries: 2}\ntask:\n  <<: *base\n  timeout: 5m\n")
    assert doc.data["task"] == {"timeout": "5m", "retries": 2}


def test_aliases_share_their_anchor_value() -> None:
    doc = load_text("a: &x [1, 2]\nb: *x\n")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_flow_plain_scalars_with_colons_parse_as_yaml_1_2_says() -> None:
    # libyaml refuses these; the loader falls back to the pure-Python parser.
    doc = load_text("brokers: [localhost:9092, http://x]\n")
    assert doc.data == {"brokers": ["localhost:9092", "http://x"]}


def test_digest_is_the_sha256_of_the_bytes(tmp_path) -> None:
    import hashlib

    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\n")
    assert load_document(path).digest == hashlib.sha256(b"a: 1\n").hexdigest()


@pytest.mark.parametrize(
    ("text", "line", "column", "pattern"),
    [
        ("a: 1\nb:\n  c: [1, 2\n", 4, 1, r"invalid YAML"),
        ("a:\n\tb: 1\n", 2, 1, r"invalid YAML"),
        ("a: 1\nb: 2\na: 3\n", 3, 1, r"duplicate key 'a' \(first at line 1, column 1\)"),
        ("- a\n- b\n", 1, 1, r"must be a mapping.*a list"),
        ("just text\n", 1, 1, r"must be a mapping.*single value"),
        ("", 1, 1, r"the file is empty"),
        ("# only a comment\n", 1, 1, r"the file is empty"),
        ("a: 1\n---\nb: 2\n", 2, 1, r"more than one YAML document"),
        ("a: !custom x\n", 1, 4, r"unsupported YAML tag '!custom'"),
        ("a: &a [*a]\n", 1, 4, r"cycle"),
        ("? [x]\n: 1\n", 1, 3, r"a key must be a plain name"),
    ],
)
def test_bad_yaml_is_one_clean_diagnostic(text, line, column, pattern) -> None:
    with pytest.raises(ManifestError) as caught:
        load_text(text, path="w.yaml")
    diagnostic = only_error(caught)
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("w.yaml", line, column)
    assert re.search(pattern, diagnostic.message), diagnostic.message


def test_tabs_get_a_hint_about_indentation() -> None:
    with pytest.raises(ManifestError) as caught:
        load_text("a:\n\tb: 1\n")
    assert "tabs" in only_error(caught).hint


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefghi", "bcdefghij", strict=False):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(ManifestError, match="alias bomb"):
        load_text("\n".join(lines) + "\n")


def test_too_many_alias_uses_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(loader, "MAX_ALIASES", 10)
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 11) + "]\n"
    with pytest.raises(ManifestError, match="alias"):
        load_text(text)


def test_binary_file_is_refused(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\n\x00\x01\x02")
    with pytest.raises(ManifestError) as caught:
        load_document(path)
    diagnostic = only_error(caught)
    assert "binary" in diagnostic.message
    assert (diagnostic.line, diagnostic.column) == (2, 1)


def test_non_utf8_file_says_where_the_bad_byte_is(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(ManifestError) as caught:
        load_document(path)
    diagnostic = only_error(caught)
    assert "UTF-8" in diagnostic.message and "0xe9" in diagnostic.message
    assert (diagnostic.line, diagnostic.column) == (2, 10)


def test_utf8_bom_is_accepted() -> None:
    assert load_text(b"\xef\xbb\xbfa: 1\n").data == {"a": 1}


def test_missing_file_is_a_clean_error(tmp_path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_document(tmp_path / "nope.yaml")


def test_folder_is_a_clean_error(tmp_path) -> None:
    with pytest.raises(ManifestError, match="folder"):
        load_document(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_clean_error(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    with pytest.raises(ManifestError, match="permission denied"):
        load_document(path)


def test_oversized_file_is_refused_before_parsing(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(loader, "MAX_BYTES", 100)
    path = tmp_path / "w.yaml"
    path.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(ManifestError, match="larger than"):
        load_document(path)


def test_json_syntax_errors_are_reported_in_json_terms(tmp_path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{\n  "a": 1,\n  "b": [1, 2,]\n}\n')
    with pytest.raises(ManifestError) as caught:
        load_document(path)
    diagnostic = only_error(caught)
    assert diagnostic.message.startswith("invalid JSON")
    assert diagnostic.line == 3


def test_json_duplicate_keys_are_refused() -> None:
    with pytest.raises(ManifestError, match="duplicate key 'a'"):
        load_text('{"a": 1, "a": 2}', format="json")


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(ManifestError, match=r"nested more than 100 levels deep"):
        load_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
