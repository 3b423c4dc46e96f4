"""Reading quotes and expansions: the part of the scan (``shell_syntax``) that follows
``'…'``, ``"…"``, ``$'…'``, ``$name``, ``${…}``, ``$(…)``, ``$((…))`` and backticks.

Slots inside an expansion are refused (``nest`` names the construct); the scan only finds
where the construct ends, and where bash and dash could disagree on that it gives up (``_lose``).
"""

from __future__ import annotations

import re

from psr_engine.expressions.shell_tokens import SLOT, Context, Slot, Token, TokenKind, positions

_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ExpansionReader:
    """The scan's state, its bookkeeping, and the readers of quotes and expansions. Each reader
    starts at ``self.i`` and leaves it just after what it read."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.slots: list[Slot] = []
        self.tokens: list[Token] = []
        self.nest: list[str] = []  # the constructs we are inside, outermost first
        self.in_array = False  # inside an array assignment `a=(…)`
        self.depth = 0  # nested scripts: $( ), <( ), >( )
        self.command_start = 0  # offset of the current top-level command
        self.lost_from: int | None = None
        self.lost_reason = ""

    def script(self, *, closing: bool) -> None:
        raise NotImplementedError  # the command reader (shell_syntax) provides it

    # -- bookkeeping ---------------------------------------------------------------------

    def _slot(self, offset: int, context: Context, reason: str = "") -> int:
        if self.nest:
            context, reason = "refused", f"it is inside {self.nest[0]}"
        elif reason:
            context = "refused"
        self.slots.append(Slot(offset, context, reason))
        return len(self.slots) - 1

    def _lose(self, reason: str) -> None:
        """From the current top-level command on, the scan no longer follows the shell."""
        if self.lost_from is None:
            self.lost_from = self.command_start
            self.lost_reason = f"psr-engine cannot follow the shell's quoting after {reason}"

    def _token(self, kind: TokenKind, start: int, end: int, plain: bool = False) -> None:
        if self.depth == 0:
            self.tokens.append(Token(kind, start, end, plain))

    # -- quotes --------------------------------------------------------------------------

    def _backslash(self, slots: list[int], mode: str) -> str | None:
        """A backslash outside quotes: escapes the next character (a newline: joins lines)."""
        s, i = self.s, self.i
        nxt = s[i + 1] if i + 1 < self.n else ""
        self.i += 2 if nxt else 1
        if nxt == SLOT:
            slots.append(self._slot(i + 1, "refused", "it is right after a backslash"))
            return None
        if nxt == "\n":
            return ""
        return nxt or "\\"

    def _single(self, slots: list[int]) -> str:
        start = self.i + 1
        end = self.s.find("'", start)
        if end < 0:
            self._lose("a `'` that is not closed")
            end = self.n
        for at in positions(self.s, SLOT, start, end):
            slots.append(self._slot(at, "single"))
        self.i = min(end + 1, self.n)
        return self.s[start:end]

    def _double(self, slots: list[int], *, locale: bool) -> str | None:
        """From just after an opening ``"`` to just after its closing one."""
        s = self.s
        out: list[str] | None = []
        while self.i < self.n:
            c = s[self.i]
            piece: str | None
            if c == '"':
                self.i += 1
                return None if out is None else "".join(out)
            if c == "\\":
                nxt = s[self.i + 1] if self.i + 1 < self.n else ""
                if nxt == SLOT:
                    slots.append(self._slot(self.i + 1, "refused", "it is right after a backslash"))
                    self.i += 2
                    piece = None
                elif nxt and nxt in '$`"\\\n':
                    self.i += 2
                    piece = "" if nxt == "\n" else nxt
                else:
                    self.i += 1
                    piece = "\\"
            elif c == "$":
                piece = self._dollar(slots, "double")
            elif c == "`":
                self._backtick()
                piece = None
            elif c == SLOT:
                if locale:
                    slots.append(self._slot(self.i, "refused", 'it is inside `$"…"`'))
                else:
                    # bash adds a byte before \x01 and \x7f in "…" inside `a=(…)`.
                    context: Context = "double-array" if self.in_array else "double"
                    slots.append(self._slot(self.i, context))
                self.i += 1
                piece = None
            else:
                self.i += 1
                piece = c
            if piece is None:
                out = None
            elif out is not None:
                out.append(piece)
        self._lose('a `"` that is not closed')
        return None

    def _dollar(self, slots: list[int], mode: str) -> str | None:
        """A ``$`` and what it starts; the literal text when it starts nothing."""
        s, i = self.s, self.i
        nxt = s[i + 1] if i + 1 < self.n else ""
        if nxt == "(":
            if s.startswith("(", i + 2):
                self.i = i + 3
                self._arithmetic("`$((…))`", "))")
            else:
                self.i = i + 2
                self._nested_script("`$(…)`")
            return None
        if nxt == "{":
            self.i = i + 2
            self._parameter(quoted=mode != "word")
            return None
        if nxt == "[":
            self.i = i + 2
            self._arithmetic("`$[…]`", "]")
            return None
        if nxt == "'" and mode == "word":
            self.i = i + 2
            self._ansi_c(slots)
            return None
        if nxt == '"' and mode == "word":
            self.i = i + 2
            self._double(slots, locale=True)
            return None
        if nxt == SLOT:
            slots.append(self._slot(i + 1, "refused", "it is right after `$`"))
            self.i = i + 2
            return None
        if _NAME_START.match(nxt):
            name = _NAME.match(s, i + 1)
            assert name is not None
            self.i = name.end()
            if mode != "word" and s.startswith(SLOT, self.i):
                why = (
                    f"it is right after `${name.group()}`, whose name would read on into the value"
                )
                slots.append(self._slot(self.i, "refused", why))
                self.i += 1
            return None
        if nxt and nxt in "@*#?-$!0123456789":
            self.i = i + 2
            return None
        self.i = i + 1
        return "$"

    def _ansi_c(self, slots: list[int]) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c == "'":
                self.i += 1
                return
            if c == "\\":
                # bash reads \' as a quote inside $'…', dash does not: the end is in doubt.
                self._lose("a `$'…'` holding a backslash")
                self.i += 2
                continue
            if c == SLOT:
                slots.append(self._slot(self.i, "refused", "it is inside `$'…'`"))
            self.i += 1
        self.i = self.n
        self._lose("a `$'` that is not closed")

    # -- nested constructs: their slots are refused, the scan only finds where they end ----

    def _nested_script(self, what: str) -> None:
        self.nest.append(what)
        self.depth += 1
        try:
            self.script(closing=True)
        finally:
            self.depth -= 1
            self.nest.pop()

    def _backtick(self) -> None:
        self.nest.append("backticks")
        try:
            self.i += 1
            while self.i < self.n:
                c = self.s[self.i]
                if c == "`":
                    self.i += 1
                    return
                if c == "\\":
                    if self.s.startswith(SLOT, self.i + 1):
                        self._slot(self.i + 1, "refused")
                    self.i += 2
                    continue
                if c == SLOT:
                    self._slot(self.i, "refused")
                self.i += 1
            self.i = self.n
            self._lose("a backtick that is not closed")
        finally:
            self.nest.pop()

    def _parameter(self, *, quoted: bool) -> None:
        """From just after ``${`` to just after its ``}``."""
        self.nest.append("`${…}`")
        # In "${x:-'}'}" bash reads the quotes, dash does not.
        single = "a `'` inside `${…}` within double quotes" if quoted else None
        try:
            depth = 1
            while self.i < self.n:
                c = self.s[self.i]
                if c == "}":
                    depth -= 1
                    self.i += 1
                    if depth == 0:
                        return
                elif c == "{":
                    depth += 1
                    self.i += 1
                else:
                    self._inner(c, single)
            self._lose("a `${` that is not closed")
        finally:
            self.nest.pop()

    def _arithmetic(self, what: str, close: str) -> None:
        """From just after ``$((``, ``((`` or ``$[`` to just after ``close``."""
        self.nest.append(what)
        opening = "(" if close == "))" else "["
        closing = close[0]
        try:
            depth = 0
            while self.i < self.n:
                c = self.s[self.i]
                if c == opening:
                    depth += 1
                    self.i += 1
                elif c == closing:
                    if depth == 0:
                        if self.s.startswith(close, self.i):
                            self.i += len(close)
                        else:  # `((a); b)`: a subshell in a subshell after all
                            self._lose(f"{what} that does not end in `{close}`")
                            self.i += 1
                        return
                    depth -= 1
                    self.i += 1
                else:
                    self._inner(c, f"a `'` inside {what}")
            self._lose(f"{what} that is not closed")
        finally:
            self.nest.pop()

    def _inner(self, c: str, single: str | None) -> None:
        """One character (or quote, or expansion) inside ``${…}`` or arithmetic; ``single``
        says why a ``'`` there loses the scan (None: it is an ordinary quote)."""
        ignored: list[int] = []
        if c == "\\":
            if self.s.startswith(SLOT, self.i + 1):
                self._slot(self.i + 1, "refused")
            self.i = min(self.i + 2, self.n)
        elif c == "'":
            if single is not None:
                self._lose(single)
            self._single(ignored)
        elif c == '"':
            self.i += 1
            self._double(ignored, locale=False)
        elif c == "$":
            self._dollar(ignored, "word")
        elif c == "`":
            self._backtick()
        else:
            if c == SLOT:
                self._slot(self.i, "refused")
            self.i += 1
