"""Splitting text into literal runs and ``${{ ... }}`` expressions.

We find the expressions ourselves rather than letting Jinja lex a whole template: text in a
manifest is mostly shell, and shell is full of ``{%``, ``{#`` and ``{{`` that Jinja would try to
read as its own syntax. Only ``${{`` starts an expression. The end is the first ``}}`` that is
outside string literals and outside brackets, the same rule Jinja's lexer uses, so
``${{ {'a': {'b': 1}} }}`` and ``${{ '}}' }}`` work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from psr_engine.errors import Diagnostic, ExpressionError

OPEN = "${{"
CLOSE = "}}"
_PAIRS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class Expr:
    """One ``${{ source }}`` found in a text; ``start`` is the offset of its ``$``."""

    source: str  # what is between the delimiters, as written
    start: int

    @property
    def display(self) -> str:
        """The expression as a user would recognise it in error messages."""
        return f"{OPEN} {self.source.strip()} {CLOSE}"


Part = str | Expr


def contains_expression(text: str) -> bool:
    """True if ``text`` holds at least one ``${{``."""
    return OPEN in text


def is_whole_expression(text: str) -> bool:
    """True if ``text`` is one ``${{ }}`` and nothing else but blanks: its value is then the
    expression's native value (a list, a number), not text."""
    if OPEN not in text:
        return False
    parts = split(text)
    exprs = [p for p in parts if isinstance(p, Expr)]
    return len(exprs) == 1 and not any(isinstance(p, str) and p.strip() for p in parts)


@lru_cache(maxsize=16384)
def split(text: str) -> tuple[Part, ...]:
    """The text as literal strings and Expr items, in order. Raises ExpressionError if an
    expression is not closed."""
    parts: list[Part] = []
    pos = 0
    while True:
        start = text.find(OPEN, pos)
        if start < 0:
            break
        if start > pos:
            parts.append(text[pos:start])
        end = _find_close(text, start + len(OPEN))
        if end < 0:
            raise error(
                text,
                start,
                f"unterminated expression {text[start : start + 40]!r}: no closing '{CLOSE}'",
                hint="close it with '}}', or check quotes and brackets inside it",
            )
        parts.append(Expr(text[start + len(OPEN) : end], start))
        pos = end + len(CLOSE)
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _find_close(text: str, pos: int) -> int:
    """Offset of the ``}}`` closing an expression whose source starts at ``pos``, or -1."""
    stack: list[str] = []
    quote = ""
    n = len(text)
    i = pos
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
        elif not stack and text.startswith(CLOSE, i):
            return i
        i += 1
    return -1


def error(text: str, offset: int, message: str, *, hint: str = "") -> ExpressionError:
    """An ExpressionError for a problem at ``offset`` of ``text``.

    The diagnostic's column is the 1-based offset in ``text`` (line stays 0: only the caller
    knows where the text sits in its file and adds file and line).
    """
    return ExpressionError(
        Diagnostic(file="", line=0, column=offset + 1, message=message, hint=hint)
    )
