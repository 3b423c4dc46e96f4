"""Reading a ``run:`` command the way a POSIX shell reads it, far enough to know what the shell
will do with the text at each ``${{ }}``.

The command is scanned with every expression replaced by one ``SLOT`` character. The scan gives
each slot its quoting context (a bare word, inside ``"…"``, inside ``'…'``, in a here-document
body) and refuses the slots whose context no quoting makes safe (inside ``$(…)``, backticks,
``${…}``, arithmetic, comments, right after ``$`` or ``\\``). It also gives the words of each
simple command (``shell_commands`` reads those for ``eval``, ``bash -c`` and friends) and the
top-level tokens with their kinds, so a later change can tell a plain word list from shell code.

Why a lexer of our own: bashlex (the Python bash parser) rejects quoted here-documents, ``[[ ]]``,
``case`` and arithmetic; tree-sitter-bash recovers from errors by guessing and reads
``cat <<EOF; echo`` with ``EOF;`` as the delimiter. A quoting decision cannot rest on a guess.
The rule here: wherever the scan cannot follow the shell exactly (bash and dash included), it
says so (``lost``) and every slot from the start of that command on is refused, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from psr_engine.expressions.shell_expansions import ExpansionReader
from psr_engine.expressions.shell_tokens import (
    SLOT,
    Context,
    Heredoc,
    Script,
    Word,
    WordRole,
    body_end,
    positions,
)

_BLANK = " \t"
_META = " \t\n;&|<>()"
_OPERATORS = (  # longest first
    ";;&", "<<-", "<<<", "&>>",
    ";;", ";&", "&&", "||", "|&", "<<", ">>", "<&", ">&", "<>", ">|", "&>",
    ";", "&", "|", "<", ">", "(", ")",
)  # fmt: skip
_REDIRECTS = frozenset({"<", ">", ">>", "<>", ">|", "&>", "&>>", "<&", ">&", "<<<"})
_HEREDOC = frozenset({"<<", "<<-"})
# Reserved words after which a command has not started yet (`if [[ ... ]]`, `! ((...))`).
_LEADING = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})
_ARRAY_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_PLAIN = re.compile(r"[A-Za-z0-9_./:,+=@%^-]+")


def scan(text: str) -> Script:
    """The tokens, slot contexts and simple commands of ``text`` (``SLOT`` marks each slot)."""
    return _Scanner(text).run()


@dataclass
class _Command:
    words: list[Word] = field(default_factory=list)
    test: bool = False  # inside [[ ... ]]
    redirect_next: bool = False

    def started(self) -> bool:
        """True once a word other than a leading reserved word has been read."""
        return any(w.literal not in _LEADING for w in self.words)


@dataclass
class _Pending:
    delimiter: str
    quoted: bool
    strip_tabs: bool
    depth: int


class _Scanner(ExpansionReader):
    """Commands, words, operators and here-documents."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.commands: list[tuple[Word, ...]] = []
        self.pending: list[_Pending] = []

    def run(self) -> Script:
        self.script(closing=False)
        slots = self.slots
        if self.lost_from is not None:
            cut, why = self.lost_from, self.lost_reason
            slots = [
                s
                if s.offset < cut or s.context == "refused"
                else replace(s, context="refused", reason=why, heredoc=None)
                for s in slots
            ]
        return Script(self.s, tuple(self.tokens), tuple(slots), tuple(self.commands))

    def _end_command(self, cmd: _Command) -> None:
        if cmd.words and self.depth == 0:
            self.commands.append(tuple(cmd.words))
        cmd.words = []
        cmd.test = False
        cmd.redirect_next = False
        if self.depth == 0:
            self.command_start = self.i

    # -- scripts -------------------------------------------------------------------------

    def script(self, *, closing: bool) -> None:
        """Commands up to the end of the text or, when ``closing``, up to and including the
        ``)`` that closes a ``$(``, ``<(`` or ``>(``."""
        s = self.s
        cmd = _Command()
        parens = 0
        while self.i < self.n:
            c = s[self.i]
            if c in _BLANK:
                self.i += 1
            elif c == "\\" and s.startswith("\n", self.i + 1):
                self.i += 2  # a line continuation between words
            elif c == "\n":
                if cmd.test:
                    self.i += 1
                    continue
                self._end_command(cmd)
                self._token("newline", self.i, self.i + 1)
                self.i += 1
                self._heredoc_bodies()
                if self.depth == 0:
                    self.command_start = self.i
            elif c == "#":
                self._comment()
            elif cmd.test and c in "&|<>()":
                self._test_operator(cmd)
            elif c in "<>" and s.startswith("(", self.i + 1):
                self._word(cmd)  # process substitution
            elif c in _META:
                if c == "(" and s.startswith("((", self.i) and self._may_start(cmd):
                    self._arith_command(cmd)
                    continue
                if c == "(" and self._is_compound_assignment(cmd):
                    self._compound_assignment(cmd)
                    continue
                start = self.i
                op = next(o for o in _OPERATORS if s.startswith(o, start))
                self.i += len(op)
                self._token("operator", start, self.i)
                if op == ")" and closing:
                    if parens == 0:
                        self._end_command(cmd)
                        return
                    parens -= 1
                elif op == "(" and closing:
                    parens += 1
                if op in _REDIRECTS:
                    cmd.redirect_next = True
                elif op in _HEREDOC:
                    self._heredoc_operator(op, cmd)
                else:
                    self._end_command(cmd)
            else:
                self._word(cmd)
        if closing:
            self._lose("a `$(` that is not closed")
        self._end_command(cmd)

    def _may_start(self, cmd: _Command) -> bool:
        """``((`` here opens an arithmetic command (at a command's start, or after ``for``)."""
        last = cmd.words[-1].literal if cmd.words else None
        return not cmd.started() or last == "for"

    def _comment(self) -> None:
        start = self.i
        end = self.s.find("\n", start)
        end = self.n if end < 0 else end
        for at in positions(self.s, SLOT, start, end):
            self._slot(at, "refused", "it is in a comment")
        self._token("comment", start, end)
        self.i = end

    def _test_operator(self, cmd: _Command) -> None:
        """``&&``, ``||``, ``<``, ``>``, ``(``, ``)`` inside ``[[ ]]``: words of the test."""
        s, start = self.s, self.i
        if s.startswith(("&&", "||"), start):
            self.i += 2
        elif s.startswith(("<<", "<(", ">("), start) or s[start] in "&|":
            self._lose("an operator inside `[[ ]]` that psr-engine does not read")
            self.i += 1
        else:
            self.i += 1
        cmd.words.append(Word(start, self.i, s[start : self.i], role="test"))

    def _arith_command(self, cmd: _Command) -> None:
        start = self.i
        self.i += 2
        self._arithmetic("`((…))`", "))")
        cmd.words.append(Word(start, self.i, None))
        self._token("word", start, self.i)

    def _is_compound_assignment(self, cmd: _Command) -> bool:
        """``name=(`` (or ``name+=(``): an array assignment, not a subshell."""
        if not cmd.words or cmd.words[-1].end != self.i:
            return False
        last = cmd.words[-1]
        return _ARRAY_ASSIGNMENT.fullmatch(self.s[last.start : last.end]) is not None

    def _compound_assignment(self, cmd: _Command) -> None:
        self.in_array = True
        try:
            self._array_elements(cmd)
        finally:
            self.in_array = False

    def _array_elements(self, cmd: _Command) -> None:
        start = self.i
        self.i += 1
        while self.i < self.n:
            c = self.s[self.i]
            if c in _BLANK or c == "\n":
                self.i += 1
            elif c == "\\" and self.s.startswith("\n", self.i + 1):
                self.i += 2
            elif c == ")":
                self.i += 1
                self._token("word", start, self.i)
                return
            elif c == "#":
                self._comment()
            elif c in _META:
                self._lose("an operator inside an array assignment `(…)`")
                self.i += 1
            else:
                self._word(cmd, record=False)
        self._lose("an array assignment `(` that is not closed")

    # -- words ---------------------------------------------------------------------------

    def _word(self, cmd: _Command, *, record: bool = True) -> None:
        s = self.s
        start = self.i
        literal: list[str] | None = []
        slots: list[int] = []
        while self.i < self.n:
            c = s[self.i]
            if c in _META:
                if c in "<>" and self.i == start and s.startswith("(", self.i + 1):
                    self.i += 2
                    self._nested_script("a process substitution `<(…)`")
                    literal = None
                    continue
                break
            piece: str | None
            if c == "\\":
                piece = self._backslash(slots, "word")
            elif c == "'":
                piece = self._single(slots)
            elif c == '"':
                self.i += 1
                piece = self._double(slots, locale=False)
            elif c == "`":
                self._backtick()
                piece = None
            elif c == "$":
                piece = self._dollar(slots, "word")
            elif c == SLOT:
                slots.append(self._slot(self.i, "word"))
                self.i += 1
                piece = None
            else:
                if c in "@!+*?" and s.startswith("(", self.i + 1):
                    self._lose("an extended glob `" + c + "(…)`")
                piece = c
                self.i += 1
            if piece is None:
                literal = None
            elif literal is not None:
                literal.append(piece)
        text = s[start : self.i]
        word_literal = None if literal is None else "".join(literal)
        fresh = not cmd.started()
        role: WordRole = "test" if cmd.test else "arg"
        if cmd.redirect_next:
            role, cmd.redirect_next = "redirect", False
        word = Word(start, self.i, word_literal, tuple(slots), role)
        if record:
            self._token("word", start, self.i, _PLAIN.fullmatch(text) is not None)
        cmd.words.append(word)
        if word_literal == "[[" and not cmd.test and fresh:
            cmd.test = True
        elif word_literal == "]]" and cmd.test:
            cmd.test = False
        elif word_literal == "case" and self.depth > 0 and fresh:
            self._lose("a `case` inside `$(…)`")

    # -- here-documents --------------------------------------------------------------------

    def _heredoc_operator(self, op: str, cmd: _Command) -> None:
        s = self.s
        while self.i < self.n and s[self.i] in _BLANK:
            self.i += 1
        start = self.i
        delimiter: list[str] = []
        quoted = False
        while self.i < self.n and s[self.i] not in _META:
            c = s[self.i]
            if c == SLOT:
                self._slot(self.i, "refused", "it is in a here-document delimiter")
                self._lose("a here-document delimiter that holds an expression")
                self.i += 1
            elif c == "\\":
                quoted = True
                delimiter.append(s[self.i + 1 : self.i + 2])
                self.i += 2
            elif c == "'":
                quoted = True
                end = s.find("'", self.i + 1)
                if end < 0:
                    self._lose("a `'` that is not closed")
                    end = self.n
                delimiter.append(s[self.i + 1 : end])
                self.i = end + 1
            elif c == '"':
                quoted = True
                self.i += 1
                text = self._double([], locale=False)
                if text is None:
                    self._lose("a here-document delimiter with an expansion")
                delimiter.append(text or "")
            elif c == "`" or (c == "$" and s[self.i + 1 : self.i + 2] in ("'", '"', "(", "{", "[")):
                self._lose("a here-document delimiter with an expansion")
                self.i += 1
            else:
                delimiter.append(c)
                self.i += 1
        self.i = min(self.i, self.n)
        if self.i == start:
            self._lose(f"`{op}` without a delimiter")
        cmd.words.append(Word(start, self.i, None, role="redirect"))
        self._token("word", start, self.i)
        self.pending.append(_Pending("".join(delimiter), quoted, op == "<<-", self.depth))

    def _heredoc_bodies(self) -> None:
        """Read the bodies of the here-documents opened on the line that just ended."""
        pending, self.pending = self.pending, []
        if any(p.depth != self.depth for p in pending):
            self._lose("a here-document whose body starts inside a nested command")
            return
        for p in pending:
            start = self.i
            end, after = body_end(
                self.s, start, p.delimiter, quoted=p.quoted, strip_tabs=p.strip_tabs
            )
            body = Heredoc(p.delimiter, p.quoted, p.strip_tabs, start, end)
            if p.quoted:
                for at in positions(self.s, SLOT, start, end):
                    self._heredoc_slot(at, "heredoc-quoted", body)
            else:
                self._heredoc_text(body)
            self._token("heredoc", start, after)
            self.i = after

    def _heredoc_slot(self, at: int, context: Context, body: Heredoc) -> None:
        index = self._slot(at, context)
        if self.slots[index].context == context:
            self.slots[index] = replace(self.slots[index], heredoc=body)

    def _heredoc_text(self, body: Heredoc) -> None:
        """An unquoted body: expanded like the inside of double quotes, except that ``"``
        is an ordinary character."""
        s = self.s
        saved_n, self.n, self.i = self.n, body.end, body.start
        ignored: list[int] = []
        try:
            while self.i < self.n:
                c = s[self.i]
                if c == "\\":
                    nxt = s[self.i + 1] if self.i + 1 < self.n else ""
                    if nxt == SLOT:
                        self._slot(self.i + 1, "refused", "it is right after a backslash")
                    self.i += 2 if nxt and nxt in "$`\\\n" + SLOT else 1
                elif c == "$":
                    self._dollar(ignored, "heredoc")
                elif c == "`":
                    self._backtick()
                elif c == SLOT:
                    self._heredoc_slot(self.i, "heredoc", body)
                    self.i += 1
                else:
                    self.i += 1
        finally:
            self.n = saved_n
