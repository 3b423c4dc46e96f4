"""The records a scan of a ``run:`` command gives: tokens, words, here-documents and the
place of each ``${{ }}`` (a ``SLOT``), plus the here-document end rule shared by the scan and by
the run-time check of rendered values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SLOT = "\x00"  # stands for one ${{ }}: a NUL cannot reach a shell through argv anyway

Context = Literal[
    "word", "double", "double-array", "single", "heredoc", "heredoc-quoted", "refused"
]
TokenKind = Literal["word", "operator", "newline", "comment", "heredoc"]
WordRole = Literal["arg", "redirect", "test"]


@dataclass(frozen=True, slots=True)
class Token:
    """One top-level token: a word, an operator, a newline, a comment or a here-document body.
    ``plain`` words hold literal characters only (no quoting, expansion, glob or slot)."""

    kind: TokenKind
    start: int
    end: int
    plain: bool = False


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document body: ``text[start:end]``, ended by a line equal to ``delimiter`` (after
    leading tabs are stripped when ``strip_tabs``, for ``<<-``)."""

    delimiter: str
    quoted: bool  # <<'EOF': nothing in the body is expanded
    strip_tabs: bool
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Slot:
    """Where one ``${{ }}`` sits: its offset in the scanned text and what surrounds it."""

    offset: int
    context: Context
    reason: str = ""  # why it is refused, when context == "refused"
    heredoc: Heredoc | None = None


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a simple command. ``literal`` is its text after quote removal when it has no
    expansion and no slot (None otherwise); ``slots`` index Script.slots."""

    start: int
    end: int
    literal: str | None
    slots: tuple[int, ...] = ()
    role: WordRole = "arg"


@dataclass(frozen=True, slots=True)
class Script:
    text: str
    tokens: tuple[Token, ...]
    slots: tuple[Slot, ...]
    commands: tuple[tuple[Word, ...], ...]  # top-level simple commands, in order


def body_end(
    s: str, start: int, delimiter: str, *, quoted: bool, strip_tabs: bool
) -> tuple[int, int]:
    """(end of the body, offset after the delimiter line) of a here-document starting at
    ``start``. In an unquoted body a backslash-newline joins lines before the comparison, as
    bash and dash do (``E\\⏎OF`` ends a body delimited by EOF)."""
    pos = start
    n = len(s)
    while pos < n:
        line_end = s.find("\n", pos)
        line_end = n if line_end < 0 else line_end
        line = s[pos:line_end]
        while not quoted and _continues(line) and line_end < n:
            nxt = s.find("\n", line_end + 1)
            nxt = n if nxt < 0 else nxt
            line = line[:-1] + s[line_end + 1 : nxt]
            line_end = nxt
        if (line.lstrip("\t") if strip_tabs else line) == delimiter:
            return pos, min(line_end + 1, n)
        pos = line_end + 1
    return n, n


def _continues(line: str) -> bool:
    """True if the line ends in an unescaped backslash."""
    stripped = line.rstrip("\\")
    return (len(line) - len(stripped)) % 2 == 1


def positions(s: str, char: str, start: int, end: int) -> list[int]:
    """Offsets of ``char`` in ``s[start:end]``."""
    out = []
    at = s.find(char, start, end)
    while at >= 0:
        out.append(at)
        at = s.find(char, at + 1, end)
    return out
