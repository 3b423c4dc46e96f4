"""Text fit for one line of a terminal or a table: the one helper for "printable".

Names and values a user (or an attacker) chose reach the console and every table: task ids
built from matrix values, params, file names found by a scan, scanners' messages. A newline in
one forges a line ("✓ deploy succeeded"), an ESC sequence rewrites the screen or the title, a
bidi override reorders what is read. Such characters are shown escaped, as Python writes them
(``\\n``, ``\\x1b``, ``\\u202e``); everything else, any script, is left as it is.
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls, and the bidirectional overrides and isolates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_BUT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character escaped: one line, drawing nothing."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


def printable_lines(text: str) -> str:
    """Like printable, but the text's own line breaks stay breaks: for messages the engine
    writes over several lines, each of which may quote a user's value."""
    if not _UNPRINTABLE_BUT_NEWLINE.search(text):
        return text
    return "\n".join(printable(line) for line in text.split("\n"))


__all__ = ["printable", "printable_lines"]
