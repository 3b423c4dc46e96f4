"""Commands that read an argument as code, or as a variable name.

Quoting makes a value one exact word; it cannot help when the command it is given to runs that
word as code (``eval``, ``bash -c``, ``python -c``, ``trap``), or uses it as a variable name or
arithmetic, where bash evaluates ``a[$(cmd)]`` (``read``, ``printf -v``, ``declare -a``,
``[[ -eq ]]``, ``test -v``, array subscripts). This module finds such places among the words of
each simple command, so that the slots there are refused. The tables are the one place to
extend: they cannot list every program that runs its arguments as code, and the docs say so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from psr_engine.expressions.shell_syntax import SLOT, Script, Word

# Every argument after these is code (or may be: `ssh host cmd` runs cmd in a remote shell).
_EVAL = frozenset(
    {
        "eval", "trap", "let", "alias", "ssh", "watch", "parallel", "su", "runuser", "flock",
        "script", "pwsh", "powershell", "cmd", "cmd.exe", "mapfile", "readarray", "read",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Program:
    """Where a program takes its code: the word after (or the rest of) an option in ``code``,
    or, when ``first_operand`` is set, its first operand unless an option in ``files`` gave a
    program file; ``arg`` options take the next word."""

    code: str = ""
    arg: str = ""
    first_operand: bool = False
    files: str = ""
    stops: str = ""  # options after which every word belongs to something else (python -m)
    shell: bool = False  # `bash -c CODE`: CODE is the first operand after the options


_SHELL = _Program(code="c", arg="oO", shell=True)
_PROGRAMS = {
    **dict.fromkeys(
        ("sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "ash", "yash", "posh", "fish"),
        _SHELL,
    ),
    **dict.fromkeys(("csh", "tcsh"), _SHELL),
    "perl": _Program(code="eE", arg="IMmx"),
    "ruby": _Program(code="e", arg="IrCE"),
    "node": _Program(code="ep", arg="r"),
    "nodejs": _Program(code="ep", arg="r"),
    "php": _Program(code="rBRFE", arg="cdz"),
    "Rscript": _Program(code="e"),
    "lua": _Program(code="e", arg="l"),
    **dict.fromkeys(
        ("awk", "gawk", "mawk", "nawk", "busybox-awk"),
        _Program(code="e", arg="Fvil", first_operand=True, files="f"),
    ),
    "sed": _Program(code="e", arg="l", first_operand=True, files="f"),
}
_PYTHON = re.compile(r"(python|pypy)[0-9.]*")
_PYTHON_PROGRAM = _Program(code="c", arg="WXQ", stops="m")
_DECLARE = frozenset({"declare", "typeset", "local", "export", "readonly"})
_DECLARE_EVALUATES = frozenset("aAin")  # array, associative, integer, nameref
_TEST_NAME_OPS = frozenset({"-v", "-R"})  # the operand is a variable name (subscripts evaluated)
_ARITH_OPS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_TEST_GROUPING = frozenset({"(", ")", "!"})
# A slot before the `]` of `name[` or `[` at a word's start: an array subscript, which bash
# evaluates as arithmetic (`a[$(cmd)]=1` runs cmd).
_SUBSCRIPT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)?\[[^\]]*")


def refusals(script: Script) -> dict[int, str]:
    """Slot index -> why the command holding it would treat the value as code or a name."""
    found: dict[int, str] = {}
    for words in script.commands:
        for index, reason in _command(words, script.text):
            found.setdefault(index, reason)
    return found


def _command(words: Sequence[Word], text: str) -> Iterator[tuple[int, str]]:
    for word in words:
        for index in word.slots:
            offset = script_offset(text, index, word)
            if _SUBSCRIPT.fullmatch(text[word.start : offset]):
                yield index, "inside an array subscript `[…]`, which bash evaluates as arithmetic"
    test = [w for w in words if w.role == "test"]
    if test:
        yield from _conditional(test)
    args = [w for w in words if w.role == "arg"]
    for at, word in enumerate(args):
        name = _program_name(word)
        if name is None:
            continue
        if name in _EVAL:
            why = f"`{name}` reads its arguments as code or as variable names"
            yield from ((i, why) for w in args[at + 1 :] for i in w.slots)
            return
        if name in _DECLARE:
            yield from _declaration(name, args[at + 1 :], text)
            return
        if name == "printf":
            yield from _printf(args[at + 1 :])
            return
        if name in ("test", "["):
            yield from _test(args[at + 1 :])
            return
        program = _PROGRAMS.get(name) or (_PYTHON_PROGRAM if _PYTHON.fullmatch(name) else None)
        if program is not None:
            yield from _code_argument(name, program, args[at + 1 :])
            return


def script_offset(text: str, index: int, word: Word) -> int:
    """The offset of slot ``index`` within ``word`` (the n-th SLOT of the word)."""
    at = word.start
    for slot in word.slots:
        at = text.index(SLOT, at)
        if slot == index:
            return at
        at += 1
    return word.start


def _program_name(word: Word) -> str | None:
    if word.literal is None or not word.literal:
        return None
    return os.path.basename(word.literal)


def _declaration(name: str, args: Sequence[Word], text: str) -> Iterator[tuple[int, str]]:
    evaluates = False
    for word in args:
        literal = word.literal
        if literal is not None and literal[:1] in "-+" and len(literal) > 1:
            evaluates = evaluates or bool(_DECLARE_EVALUATES & set(literal[1:]))
            continue
        if not word.slots:
            continue
        raw = text[word.start : word.end]
        equals = raw.find("=")
        for index in word.slots:
            offset = script_offset(text, index, word)
            if equals < 0 or offset < word.start + equals:
                yield index, f"it would be a variable name (or an option) of `{name}`"
            elif evaluates:
                yield index, f"`{name} -a/-A/-i/-n` evaluates the value it assigns"


def _printf(args: Sequence[Word]) -> Iterator[tuple[int, str]]:
    """``printf -v NAME``: NAME is a variable name. A value where options are still read may
    itself be ``-vNAME``, so slots before the format are refused."""
    why = "`printf -v` takes a variable name, and bash evaluates subscripts in it"
    for word in args:
        literal = word.literal
        if word.slots:
            yield from ((i, why) for i in word.slots)
        elif literal is None or literal == "-v" or literal.startswith("-"):
            continue  # an option, its name, or an expansion that may be one
        else:
            return  # the format: what follows is data


def _test(args: Sequence[Word]) -> Iterator[tuple[int, str]]:
    """``test``/``[``: the operand of ``-v`` is a variable name. An operator may itself come
    from a value, so an operand after a slot word is refused as well."""
    previous: Word | None = None
    for word in args:
        if (
            word.slots
            and previous is not None
            and (previous.literal in _TEST_NAME_OPS or previous.slots)
        ):
            why = "the operand of `test -v` is a variable name, whose subscript bash evaluates"
            yield from ((i, why) for i in word.slots)
        previous = word


def _conditional(words: Sequence[Word]) -> Iterator[tuple[int, str]]:
    """``[[ … ]]``: operands of ``-v``/``-R`` and of the arithmetic comparisons are evaluated."""
    meaningful = [w for w in words if w.literal not in _TEST_GROUPING]
    for at, word in enumerate(meaningful):
        if not word.slots:
            continue
        before = meaningful[at - 1].literal if at > 0 else None
        after = meaningful[at + 1].literal if at + 1 < len(meaningful) else None
        if before in _TEST_NAME_OPS:
            why = (
                f"the operand of `[[ {before} ]]` is a variable name (bash evaluates its subscript)"
            )
        elif before in _ARITH_OPS or after in _ARITH_OPS:
            op = before if before in _ARITH_OPS else after
            why = f"`[[ … {op} … ]]` evaluates its operands as arithmetic"
        else:
            continue
        yield from ((i, why) for i in word.slots)


def _code_argument(name: str, program: _Program, args: Sequence[Word]) -> Iterator[tuple[int, str]]:
    """The slots in the word ``name`` runs as code, and in words where it still reads options
    (a value such as ``-cCODE`` would be one). Words after the code are data
    (``bash -c 'echo "$1"' _ ${{ x }}``), and so are option values (``awk -v x=…``)."""
    code = f"`{name}` runs this argument as code"
    unsure = f"it stands where `{name}` reads options, and a value such as `-c…` would be one"
    code_next = False  # python -c CODE: the next word is code
    code_operand = False  # bash -c [options] CODE: the first operand is code
    program_file = False  # awk -f FILE: no program text among the operands
    skip = False
    words = iter(args)
    for word in words:
        if skip:
            skip = False
            continue
        if code_next:
            yield from _all(word, code)
            return
        literal = word.literal
        if literal == "--":
            operand = next(words, None)
            if operand is not None and (
                code_operand or (program.first_operand and not program_file)
            ):
                yield from _all(operand, code)
            return
        if word.slots or literal is None:
            yield from _all(word, code if code_operand else unsure)
            if not word.slots:  # an expansion that may be an option: nothing after is certain
                for later in words:
                    yield from _all(later, unsure)
                return
            continue
        if len(literal) > 1 and literal[0] in "-+" and not literal.startswith("--"):
            letters = literal[1:]
            for k, letter in enumerate(letters):
                last = k + 1 == len(letters)
                if letter in program.code and literal[0] == "-":
                    if program.shell:
                        code_operand = True
                    elif last:
                        code_next = True
                    else:
                        return  # -cCODE: the code is literal text
                    break
                if letter in program.stops:
                    return  # python -m MODULE: the rest belongs to the module
                if letter in program.files:
                    program_file = True
                    skip = last
                    break
                if letter in program.arg:
                    skip = last
                    break
            continue
        if literal.startswith("--"):
            continue
        return  # the first operand, literal: code or a script file; what follows is data


def _all(word: Word, why: str) -> Iterator[tuple[int, str]]:
    return ((i, why) for i in word.slots)
