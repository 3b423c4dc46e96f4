"""Task outputs in GitHub's $GITHUB_OUTPUT format: parsing, reading, and set_output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psr_engine.run.outputs import parse_outputs, read_outputs, set_output


def test_key_value_lines_later_keys_win_blank_lines_ignored():
    text = "rows=42\n\nurl=http://x/?a=b&c=d\n   \nrows=43\nempty=\n"
    assert parse_outputs(text) == {"rows": "43", "url": "http://x/?a=b&c=d", "empty": ""}


def test_heredoc_blocks_hold_several_lines():
    text = "report<<EOF\nline one\n\nline=three\nEOF\nafter=1\n"
    assert parse_outputs(text) == {"report": "line one\n\nline=three", "after": "1"}


def test_an_empty_heredoc_block_is_an_empty_string():
    assert parse_outputs("notes<<END\nEND\n") == {"notes": ""}


def test_whichever_marker_comes_first_decides_the_form():
    assert parse_outputs("a=b<<c\n") == {"a": "b<<c"}
    assert parse_outputs("a<<X=Y\nvalue\nX=Y\n") == {"a": "value"}


def test_crlf_line_endings_are_accepted():
    assert parse_outputs("a=1\r\nb<<E\r\nx\r\ny\r\nE\r\n") == {"a": "1", "b": "x\ny"}


def test_nothing_to_parse_gives_no_outputs():
    assert parse_outputs("") == {}
    assert parse_outputs("\n\n") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a=1\njust some text\n",
            r"^line 2: expected key=value or key<<DELIMITER, got a line of 14 ",
        ),
        ("=value\n", r"^line 1: an output needs a name"),
        ("a=1\n<<EOF\nx\nEOF\n", r"^line 2: an output needs a name"),
        ("a=1\nb<<\nx\n", r"^line 2: b<< needs a delimiter"),
        ("a=1\n\nbody<<EOF\nnever closed\n", r"^line 3: the block body<<EOF is never closed"),
    ],
)
def test_malformed_input_names_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_outputs(text)


def test_a_long_malformed_line_is_shortened_in_the_message():
    with pytest.raises(ValueError) as caught:
        parse_outputs("x" * 500)
    assert len(str(caught.value)) < 150


def test_read_outputs_of_a_missing_file_is_empty(tmp_path):
    assert read_outputs(str(tmp_path / "never-written")) == {}


def test_read_outputs_refuses_a_file_over_the_limit(tmp_path):
    path = tmp_path / "out"
    path.write_text("a=" + "x" * 100 + "\n")
    with pytest.raises(ValueError, match="larger than 64 bytes"):
        read_outputs(str(path), max_bytes=64)


def test_read_outputs_names_the_file_and_line_of_an_error(tmp_path):
    path = tmp_path / "out"
    path.write_text("ok=1\nbroken\n")
    with pytest.raises(ValueError, match=rf"^{path}: line 2: "):
        read_outputs(str(path))


def test_read_outputs_replaces_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "out"
    path.write_bytes(b"name=caf\xe9\n")
    assert read_outputs(str(path)) == {"name": "caf\ufffd"}


def test_set_output_from_a_real_python_task(tmp_path):
    out = tmp_path / "outputs"
    task = (
        "from psr_engine.run.outputs import set_output\n"
        "set_output('rows', 42)\n"
        "set_output('ok', True)\n"
        "set_output('report', 'first line\\nEOF\\nlast line')\n"
    )
    env = {**os.environ, "PSR_OUTPUT": str(out)}
    subprocess.run([sys.executable, "-c", task], env=env, check=True)
    assert read_outputs(str(out)) == {
        "rows": "42",
        "ok": "True",
        "report": "first line\nEOF\nlast line",
    }


def test_set_output_uses_a_fresh_random_delimiter_for_multiline_values(tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    monkeypatch.setenv("PSR_OUTPUT", str(out))
    set_output("a", "1\n2")
    set_output("b", "3\n4")
    openers = [line for line in out.read_text().splitlines() if "<<" in line]
    delimiters = {line.split("<<", 1)[1] for line in openers}
    assert len(openers) == 2 and len(delimiters) == 2
    assert all(len(d) >= 16 for d in delimiters)


def test_set_output_appends_to_what_the_task_already_wrote(tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    out.write_text("from_shell=yes\n")
    monkeypatch.setenv("PSR_OUTPUT", str(out))
    set_output("from_python", "yes")
    assert read_outputs(str(out)) == {"from_shell": "yes", "from_python": "yes"}


def test_set_output_outside_a_task_says_why(monkeypatch):
    monkeypatch.delenv("PSR_OUTPUT", raising=False)
    with pytest.raises(RuntimeError, match=r"needs \$PSR_OUTPUT"):
        set_output("rows", 1)


@pytest.mark.parametrize("key", ["", "a=b", "a<<b", "a\nb"])
def test_set_output_refuses_a_key_it_cannot_write(key, tmp_path, monkeypatch):
    monkeypatch.setenv("PSR_OUTPUT", str(tmp_path / "outputs"))
    with pytest.raises(ValueError, match="output key"):
        set_output(key, "v")


def test_set_output_replaces_what_utf8_cannot_hold(tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    monkeypatch.setenv("PSR_OUTPUT", str(out))
    set_output("name", "bad\ud800byte")
    assert read_outputs(str(out)) == {"name": "bad?byte"}


def test_the_module_imports_only_the_standard_library():
    probe = (
        "import sys; before = set(sys.modules)\n"
        "import psr_engine.run.outputs\n"
        "print(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] not in sys.stdlib_module_names and not m.startswith('psr_engine')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


# "\r" is left out: a trailing "\r" is read as part of a CRLF line ending. Surrogates (Cs) are
# left out: they are not UTF-8 (set_output writes "?" for them, see the test above).
_keys = st.text(
    st.characters(blacklist_characters="=<\r\n", blacklist_categories=("Cs",)), min_size=1
).filter(str.strip)
_values = st.text(st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)))


@given(st.dictionaries(_keys, _values, max_size=5))
def test_whatever_set_output_writes_reads_back_the_same(tmp_path_factory, outputs):
    path: Path = tmp_path_factory.mktemp("round-trip") / "outputs"
    os.environ["PSR_OUTPUT"] = str(path)
    try:
        for key, value in outputs.items():
            set_output(key, value)
    finally:
        del os.environ["PSR_OUTPUT"]
    assert read_outputs(str(path)) == outputs


def test_take_outputs_reads_then_removes_the_file_read_or_not_valid_or_not(tmp_path):
    from psr_engine.run.outputs import take_outputs

    path = tmp_path / "out"
    path.write_text("a=1\n")
    assert take_outputs(str(path)) == {"a": "1"} and not path.exists()
    path.write_text("a=1\n")
    assert take_outputs(str(path), read=False) == {} and not path.exists()
    path.write_text("no equals sign\n")
    with pytest.raises(ValueError):
        take_outputs(str(path))
    assert not path.exists()
    assert take_outputs(str(tmp_path / "never-written")) == {}
