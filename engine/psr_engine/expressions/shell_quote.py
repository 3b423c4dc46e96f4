"""Quoting a value for the place it takes in a ``run:`` command.

A value becomes exactly its text in the command, whatever it holds, by quoting it for the
context the scan (``shell_syntax``) finds around its ``${{ }}``:

- a bare word: one single-quoted word, always (``'2'`` before ``>`` stays data, ``'if'`` is no
  keyword, ``'a=b'`` no assignment, ``~'root'`` no home folder);
- inside ``"…"``: ``\\ $ ` "`` escaped, no quotes added. ``!`` is left alone: bash expands
  history only in lines typed at a prompt, never in ``bash -c`` text, even with ``-i`` or
  ``set -H``. In an array assignment ``a=("…")``, where bash corrupts ``\\x01`` and ``\\x7f``,
  the quotes are closed around a single-quoted value instead;
- inside ``'…'``: each ``'`` becomes ``'\\''`` (close, an escaped quote, reopen);
- in a here-document body: ``\\ $ ``` escaped (``"`` is an ordinary character there), or
  nothing when the delimiter is quoted; a value that would put a line equal to the delimiter
  in the body (ending it early: the rest would run as commands) fails the task instead.

Everywhere else (``$(…)``, backticks, ``${…}``, arithmetic, comments, code arguments such as
``eval``/``bash -c``, variable names) no quoting is safe: ``check_command`` reports those at
validate time and rendering refuses them. ``| raw`` values are spliced as written: the command
with them in is scanned again, so the other values are quoted for the contexts it really has.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from psr_engine.errors import ExpressionError
from psr_engine.expressions import simple
from psr_engine.expressions.scan import OPEN, Expr, split

if TYPE_CHECKING:
    from psr_engine.expressions.shell_tokens import Context, Heredoc, Slot

# The scanner (shell_syntax and friends) is imported on the first command scanned, not with
# this module: a run whose commands hold no ${{ }} never pays for it.

# Shells whose quoting is POSIX's (bash, dash, zsh and the Korn shells agree on every rule
# above). fish, csh, PowerShell, cmd and interpreters quote differently or not at all.
POSIX_SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "ash", "yash", "posh"}
)

_DOUBLE = str.maketrans({"\\": "\\\\", "$": "\\$", "`": "\\`", '"': '\\"'})
_HEREDOC = str.maketrans({"\\": "\\\\", "$": "\\$", "`": "\\`"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Problem:
    """An expression placed where its value cannot be made safe. ``offset`` is its ``${{``."""

    offset: int
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each expression of one command sits (in the order of ``split``), computed once
    per command text (and per set of ``| raw`` values) and reused by every attempt."""

    marked: str  # the command with each quoted expression as SLOT and raw values spliced in
    places: tuple[Slot | None, ...]  # None: a raw value, spliced as written
    offsets: tuple[int, ...]  # where each SLOT sits in ``marked`` (-1 for raw values)
    heredocs: tuple[tuple[Heredoc, tuple[int, ...]], ...]  # bodies holding expressions


@lru_cache(maxsize=256)
def is_posix_shell(shell: str | None) -> bool:
    """True for the shells whose quoting rules are POSIX's (None: the default, bash)."""
    if shell is None:
        return True
    try:
        words = shlex.split(shell)
    except ValueError:
        return False
    if words and os.path.basename(words[0]) == "env":  # shell: /usr/bin/env bash
        words = words[1:]
        while words and (words[0].startswith("-") or "=" in words[0]):
            words = words[1:]
    if words and os.path.basename(words[0]) == "busybox":  # shell: busybox sh
        words = words[1:]
    return bool(words) and os.path.basename(words[0]) in POSIX_SHELLS


def quote(context: Context, text: str) -> str:
    """``text`` written so that the shell reads it back exactly, in ``context``."""
    if context == "word":
        return "'" + text.replace("'", "'\\''") + "'"
    if context == "double":
        # Most values hold none of the four: skip the (slower) translate for them.
        if "\\" in text or "$" in text or "`" in text or '"' in text:
            return text.translate(_DOUBLE)
        return text
    if context == "double-array":  # close "…", a single-quoted word, reopen
        return "\"'" + text.replace("'", "'\\''") + "'\""
    if context == "single":
        return text.replace("'", "'\\''")
    if context == "heredoc":
        if "\\" in text or "$" in text or "`" in text:
            return text.translate(_HEREDOC)
        return text
    if context == "heredoc-quoted":
        return text
    raise ValueError(f"no quoting for context {context!r}")


def layout(text: str, raw: tuple[str | None, ...] | None, posix: bool) -> Layout:
    """The places of the expressions of ``text``; ``raw`` holds the text of the expressions
    whose value is ``| raw`` (None for the others), or is None when there are none. Cached:
    the same text is rendered for every instance and attempt of a task."""
    if raw is None:
        # A plain dict lookup: this runs per attempt, on the hot path.
        key = (text, posix)
        found = _LAYOUTS.get(key)
        if found is None:
            if len(_LAYOUTS) >= _LAYOUTS_MAX:
                _LAYOUTS.clear()
            found = _LAYOUTS[key] = _layout(text, None, posix)
        return found
    return _layout(text, raw, posix)


_LAYOUTS: dict[tuple[str, bool], Layout] = {}
_LAYOUTS_MAX = 4096


@lru_cache(maxsize=1024)
def _layout(text: str, raw: tuple[str | None, ...] | None, posix: bool) -> Layout:
    from psr_engine.expressions.shell_tokens import SLOT

    parts = split(text)
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    k = 0
    for part in parts:
        if isinstance(part, Expr):
            spliced = None if raw is None else raw[k]
            k += 1
            if spliced is not None:
                pieces.append(spliced)
                offsets.append(-1)
                at += len(spliced)
                continue
            pieces.append(SLOT)
            offsets.append(at)
            at += 1
        else:
            pieces.append(part)
            at += len(part)
    marked = "".join(pieces)
    nul = SLOT in text or any(SLOT in r for r in raw or () if r is not None)
    places = _places(marked, offsets, posix, nul=nul)
    heredocs: dict[Heredoc, list[int]] = {}
    for index, place in enumerate(places):
        if place is not None and place.heredoc is not None:
            heredocs.setdefault(place.heredoc, []).append(index)
    return Layout(
        marked,
        places,
        tuple(offsets),
        tuple((body, tuple(found)) for body, found in heredocs.items()),
    )


def _places(
    marked: str, offsets: Sequence[int], posix: bool, *, nul: bool
) -> tuple[Slot | None, ...]:
    from psr_engine.expressions.shell_commands import refusals
    from psr_engine.expressions.shell_syntax import scan
    from psr_engine.expressions.shell_tokens import Slot

    if nul:
        refused = Slot(0, "refused", "it is in a command that holds a NUL character")
        return tuple(None if at < 0 else refused for at in offsets)
    if not posix:
        refused = Slot(0, "refused", "it is in the command of a shell that is not a POSIX shell")
        return tuple(None if at < 0 else refused for at in offsets)
    script = scan(marked)
    found = refusals(script)
    by_offset = {}
    for index, slot in enumerate(script.slots):
        if index in found and slot.context != "refused":
            slot = Slot(slot.offset, "refused", found[index])
        by_offset[slot.offset] = slot
    lost = Slot(0, "refused", "psr-engine cannot tell how the shell reads this place")
    return tuple(None if at < 0 else by_offset.get(at, lost) for at in offsets)


@lru_cache(maxsize=4096)
def check_command(text: str, shell: str | None) -> tuple[Problem, ...]:
    """The expressions of a ``run:`` command that sit where no quoting is safe (those that end
    in ``| raw`` are the author's explicit choice and are not reported). An expression that
    does not parse is left to ``check``."""
    if OPEN not in text:
        return ()
    try:
        exprs = [p for p in split(text) if isinstance(p, Expr)]
    except ExpressionError:
        return ()
    raw = tuple("" if _is_raw(e.source) else None for e in exprs)
    posix = is_posix_shell(shell)
    found = layout(text, raw if any(r is not None for r in raw) else None, posix)
    problems = []
    for expr, place in zip(exprs, found.places, strict=True):
        if place is not None and place.context == "refused":
            problems.append(refusal(expr, place.reason, shell=shell, posix=posix))
    return tuple(problems)


def refusal(expr: Expr, reason: str, *, shell: str | None, posix: bool = True) -> Problem:
    """The problem of an expression refused for ``reason``, with the way to fix it."""
    var = _variable_for(expr.source)
    env = f'env: {{{var}: "{expr.display}"}}'
    if not posix:
        hint = (
            f"pass it through env: ({env}) and read {var} from the environment in the "
            f"command; psr-engine quotes values for POSIX shells only (shell: {shell})"
        )
    else:
        hint = f'pass it through env: ({env}) and write "${var}" in the command'
    return Problem(expr.start, f"{expr.display} cannot be quoted safely here: {reason}", hint)


def _variable_for(source: str) -> str:
    """A variable name to suggest for the value: the last key of the first name it reads
    (``params.date`` -> DATE, ``tasks.load.outputs.rows`` -> ROWS), or VALUE."""
    from psr_engine.expressions.environment import SyntaxProblem
    from psr_engine.expressions.references import references_of

    try:
        refs = references_of(source)
    except SyntaxProblem:
        return "VALUE"
    names = [n for r in refs[:1] for n in (r.root, *r.path) if _NAME.fullmatch(n)]
    return names[-1].upper() if names else "VALUE"


@lru_cache(maxsize=4096)
def _is_raw(source: str) -> bool:
    """The expression ends in ``| raw`` (its last filter), judged without evaluating it."""
    tree = simple.parse(source)
    if tree is not None:
        return simple.last_filter(tree) == "raw"
    return _is_raw_with_jinja(source)


def _is_raw_with_jinja(source: str) -> bool:
    from jinja2 import nodes

    from psr_engine.expressions.environment import SyntaxProblem, parse

    try:
        node = parse(source)
    except SyntaxProblem:
        return False
    return isinstance(node, nodes.Filter) and node.name == "raw"


def heredoc_problem(
    found: Layout, values: Sequence[str | None], *, shell: str | None = None
) -> tuple[int, str] | None:
    """(index of the expression at fault, why) if the rendered values would end a
    here-document early, lose their leading tabs to ``<<-``, or lose a byte to dash (see
    ``_dash_drops_a_byte``); None when all is well."""
    dash = _may_be_dash(shell)
    for body, indexes in found.heredocs:
        text = found.marked
        pieces: list[str] = []
        at = body.start
        for index in indexes:
            offset = found.offsets[index]
            value = values[index] or ""
            pieces.append(text[at:offset])
            pieces.append(value)
            at = offset + 1
            if body.strip_tabs and _loses_tabs(text, body, offset, value):
                return index, "would lose its leading tabs to `<<-`"
        pieces.append(text[at : body.end])
        rendered = "".join(pieces)
        if _ends_early(rendered, body):
            return indexes[0], (
                f"would put a line `{body.delimiter}` into the here-document, ending it "
                "early (the lines after it would run as commands)"
            )
        if dash and _dash_drops_a_byte(rendered, body):
            return indexes[0], (
                f"would start a line with the beginning of `{body.delimiter}` followed by a "
                "non-ASCII character, whose first byte dash's here-document reader drops"
            )
    return None


def _may_be_dash(shell: str | None) -> bool:
    """``sh`` is dash on Debian and Ubuntu, so it is judged as dash."""
    try:
        words = shlex.split(shell or "")
    except ValueError:
        return False
    if words and os.path.basename(words[0]) == "env":  # shell: /usr/bin/env sh
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    return bool(words) and os.path.basename(words[0]) in {"sh", "dash"}


def _dash_drops_a_byte(body_text: str, body: Heredoc) -> bool:
    """dash 0.5.12, checking each body line against the delimiter, pushes back the first
    byte that differs as a signed char: a line that starts with a non-empty prefix of the
    delimiter (``E``, ``EN``, ``END`` for END) followed by a byte >= 0x80 loses that byte
    (``Eé`` reads back as ``E`` and half a character). Found by hypothesis; bash is immune."""
    for line in body_text.split("\n"):
        if body.strip_tabs:
            line = line.lstrip("\t")
        for size in range(1, len(body.delimiter) + 1):
            if line.startswith(body.delimiter[:size]):
                if len(line) > size and ord(line[size]) >= 0x80:
                    return True
            else:
                break
    return False


def _loses_tabs(text: str, body: Heredoc, offset: int, value: str) -> bool:
    line_start = text.rfind("\n", body.start, offset) + 1 or body.start
    line_start = max(line_start, body.start)
    at_line_start = not text[line_start:offset].strip("\t")
    return "\n\t" in value or (at_line_start and value.startswith("\t"))


def _ends_early(rendered: str, body: Heredoc) -> bool:
    from psr_engine.expressions.shell_tokens import body_end

    end, _ = body_end(rendered, 0, body.delimiter, quoted=body.quoted, strip_tabs=body.strip_tabs)
    return end < len(rendered)
