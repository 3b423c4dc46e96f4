"""make's trick: a ``run:`` command that is one simple command of plain words needs no shell.

``bash -c 'pytest -q tests'`` does nothing but look ``pytest`` up in PATH and exec it with those
words (bash execs the last command of ``-c`` in place of itself). Starting bash for that costs a
process image and its start-up, about half of what a short task costs in all. GNU make skips
the shell for recipes without shell syntax; ``plain_words`` is that rule for bash, on the
project's own scanner (``shell_syntax``), so what counts as shell syntax is decided in one place.

A command is plain when it is a single simple command whose words are each literal characters
(``[A-Za-z0-9_./:,+=@%^-]``), possibly inside single or double quotes that hold no ``$``,
backquote or backslash (``'a b'`` is one word ``a b``): no expansion, glob, brace, tilde,
comment, operator, redirection, pipe, list, subshell or here-document. Its first word is not
an assignment, a job (``%1``), a reserved word or a builtin of bash (``true`` and ``false``
without arguments excepted: they do the same as the programs). Anything else runs through the
shell.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PLAIN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:,+=@%^-"
)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
# `compgen -k` and `compgen -b` of bash 5.2.
_RESERVED = frozenset(
    {
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "{",
        "}",
        "!",
        "[[",
        "]]",
        "coproc",
    }
)
_BUILTINS = frozenset(
    {
        ".",
        ":",
        "[",
        "alias",
        "bg",
        "bind",
        "break",
        "builtin",
        "caller",
        "cd",
        "command",
        "compgen",
        "complete",
        "compopt",
        "continue",
        "declare",
        "dirs",
        "disown",
        "echo",
        "enable",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "fc",
        "fg",
        "getopts",
        "hash",
        "help",
        "history",
        "jobs",
        "kill",
        "let",
        "local",
        "logout",
        "mapfile",
        "popd",
        "printf",
        "pushd",
        "pwd",
        "read",
        "readarray",
        "readonly",
        "return",
        "set",
        "shift",
        "shopt",
        "source",
        "suspend",
        "test",
        "times",
        "trap",
        "true",
        "type",
        "typeset",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "wait",
    }
)
_SAME_AS_PROGRAM = frozenset({"true", "false"})  # as the builtin, when given no argument


@lru_cache(maxsize=512)
def plain_words(command: str) -> tuple[str, ...] | None:
    """The argv bash would exec for ``command``, or None when it needs the shell."""
    if _PLAIN_CHARS.issuperset(command.replace(" ", "").replace("\t", "").rstrip("\n")):
        # Plain characters and blanks only (the common case): the words are what is between
        # the blanks, and the scanner (a second of thought for bash, ms of imports here) can
        # stay unloaded.
        texts = command.split()
        argv = tuple(texts)
    else:
        from psr_engine.expressions.shell_syntax import scan

        if "\x00" in command:
            return None
        script = scan(command)
        if script.slots or len(script.commands) != 1:
            return None
        if any(t.kind != "word" for t in script.tokens if t.kind != "newline"):
            return None
        words = script.commands[0]
        texts = [command[w.start : w.end] for w in words]
        if any(
            w.literal is None or w.role != "arg" or not _plain(t)
            for w, t in zip(words, texts, strict=True)
        ):
            return None
        argv = tuple(w.literal for w in words if w.literal is not None)
    if not argv:
        return None
    first = argv[0]
    if _ASSIGNMENT.match(texts[0]) or first in _RESERVED or first.startswith("%"):  # %1: fg
        return None
    if first in _BUILTINS and not (first in _SAME_AS_PROGRAM and len(argv) == 1):
        return None
    return argv


def _plain(word: str) -> bool:
    """Plain characters, or quotes around anything but `$`, backquote and backslash."""
    if "$" in word or "`" in word or "\\" in word:
        return False
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c in "'\"":
            end = word.find(c, i + 1)
            if end < 0:
                return False
            i = end + 1
        elif c in _PLAIN_CHARS:
            i += 1
        else:
            return False
    return True
