"""printable(): the one rule for user-chosen text on a console line or in a table."""

from __future__ import annotations

from psr_engine.printable import printable, printable_lines


def test_control_characters_are_escaped_as_python_writes_them() -> None:
    assert printable("a\nb\r\tc\x1b[2J\x07\x7f\x9b\u202e") == (
        "a\\nb\\r\\tc\\x1b[2J\\x07\\x7f\\x9b\\u202e"
    )


def test_text_of_any_script_is_left_alone() -> None:
    text = "São Paulo, Zürich, 東京, ✓"
    assert printable(text) is text


def test_printable_lines_keeps_the_breaks_the_engine_wrote() -> None:
    assert printable_lines("first\nsecond \x1b[31mred") == "first\nsecond \\x1b[31mred"
