"""The shell scan: the quoting context of each slot, refusals where no context is safe, the
places where the scan gives up (and so refuses), the words of each command, the tokens.

`S` stands for one ${{ }}. Each row is (command, contexts of its slots in order); a refused
slot is written "refused:<words of the reason>".
"""

from __future__ import annotations

import pytest

from psr_engine.expressions.shell_syntax import scan
from psr_engine.expressions.shell_tokens import SLOT as S


def contexts(text: str) -> list[str]:
    return [
        f"refused:{slot.reason}" if slot.context == "refused" else slot.context
        for slot in scan(text).slots
    ]


def assert_contexts(text: str, expected: list[str]) -> None:
    found = contexts(text)
    assert len(found) == len(expected), (text, found)
    for got, want in zip(found, expected, strict=True):
        if want.startswith("refused:"):
            assert got.startswith("refused:") and want[8:] in got, (text, found)
        else:
            assert got == want, (text, found)


QUOTABLE = [
    (f"echo {S}", ["word"]),
    (f"echo a{S}b", ["word"]),
    (f"echo {S}{S}", ["word", "word"]),
    (f'echo "{S}"', ["double"]),
    (f'echo "x={S} y={S}"', ["double", "double"]),
    (f"echo '{S}'", ["single"]),
    (f"echo 'a{S}b' \"{S}\" {S}", ["single", "double", "word"]),
    (f"""echo "a'{S}'b" """, ["double"]),
    (f"""echo 'a"{S}"b'""", ["single"]),
    (f'echo "a\\"{S}"', ["double"]),
    (f"echo 'a'\\''{S}'", ["single"]),
    (f"echo \\'{S}'x'", ["word"]),
    (f"echo $x{S}", ["word"]),
    (f'echo "${{x}}{S}"', ["double"]),
    (f'echo "$1{S}" "$?{S}" "$${S}"', ["double", "double", "double"]),
    (f"X={S} cmd", ["word"]),
    (f"export X={S}", ["word"]),
    (f"cmd > {S}", ["word"]),
    (f"cmd <<< {S}", ["word"]),
    (f"a && echo {S} || echo {S}; echo {S} | cat &", ["word", "word", "word"]),
    (f"if true; then echo {S}; fi", ["word"]),
    (f"for i in {S} {S}; do echo $i; done", ["word", "word"]),
    (f"case {S} in {S}) echo;; esac", ["word", "word"]),
    (f"f() {{ echo {S}; }}", ["word"]),
    (f"( echo {S} )", ["word"]),
    (f"echo $(date) {S}", ["word"]),
    (f'echo "$(date)" "{S}"', ["double"]),
    (f"echo `date` {S}", ["word"]),
    (f"echo ${{x:-a}} {S}", ["word"]),
    (f"echo $((1 + 2)) {S}", ["word"]),
    (f"echo # no slot here\necho {S}", ["word"]),
    (f"echo a#b {S}", ["word"]),
    (f"echo a \\\n  {S}", ["word"]),
    (f"[[ $x == {S} ]]", ["word"]),
    (f"[[ $x =~ {S} ]]", ["word"]),
    (f"[[ -n {S} && {S} != x ]]", ["word", "word"]),
    (f"a=(1 {S} '{S}')", ["word", "single"]),
    (f"cat <<EOF\n{S}\nEOF\necho {S}", ["heredoc", "word"]),
    (f"cat <<EOF\nx {S} y \"{S}\" '{S}'\nEOF", ["heredoc", "heredoc", "heredoc"]),
    (f"cat <<'EOF'\n{S} $(x) `y`\nEOF", ["heredoc-quoted"]),
    (f'cat <<"EOF"\n{S}\nEOF', ["heredoc-quoted"]),
    (f"cat <<\\EOF\n{S}\nEOF", ["heredoc-quoted"]),
    (f"cat <<E'O'F\n{S}\nEOF", ["heredoc-quoted"]),
    (f"cat <<-EOF\n\t{S}\n\tEOF\necho {S}", ["heredoc", "word"]),
    (f"cat <<A <<'B'\n{S}\nA\n{S}\nB\necho {S}", ["heredoc", "heredoc-quoted", "word"]),
    (f"cat <<EOF; echo {S}\n{S}\nEOF", ["word", "heredoc"]),
    (f'cat <<EOF "a\nb" {S}\n{S}\nEOF', ["word", "heredoc"]),
    (f"cat <<EOF\nE\\\nOF\necho {S}", ["word"]),  # E\<newline>OF joins into the delimiter
    (f"cat <<<x {S}", ["word"]),
    (f"cat <<EOF\n$HOME ${{HOME}} {S}\nEOF", ["heredoc"]),
    (f"echo $(cat <<EOF\nx\nEOF\n) {S}", ["word"]),
    (f"diff <(ls) {S}", ["word"]),
    (f"echo $[1+1] {S}", ["word"]),
]


@pytest.mark.parametrize(("text", "expected"), QUOTABLE)
def test_each_slot_gets_the_context_the_shell_gives_it(text: str, expected: list[str]) -> None:
    assert_contexts(text, expected)


REFUSED = [
    (f"echo $(echo {S})", ["refused:inside `$(…)`"]),
    (f'echo "$(echo "{S}")"', ["refused:inside `$(…)`"]),
    (f"echo `echo {S}`", ["refused:inside backticks"]),
    (f'echo "`echo {S}`"', ["refused:inside backticks"]),
    (f"echo ${{x:-{S}}}", ["refused:inside `${…}`"]),
    (f'echo "${{x:-{S}}}"', ["refused:inside `${…}`"]),
    (f"echo $(({S} + 1))", ["refused:inside `$((…))`"]),
    (f"(( x = {S} ))", ["refused:inside `((…))`"]),
    (f"for (( i = 0; i < {S}; i++ )); do :; done", ["refused:inside `((…))`"]),
    (f"echo $[{S}]", ["refused:inside `$[…]`"]),
    (f"diff <(echo {S}) x", ["refused:inside a process substitution"]),
    (f"echo # {S}", ["refused:in a comment"]),
    (f"echo x\n# {S}\necho", ["refused:in a comment"]),
    (f"echo \\{S}", ["refused:right after a backslash"]),
    (f'echo "\\{S}"', ["refused:right after a backslash"]),
    (f"cat <<EOF\n\\{S}\nEOF", ["refused:right after a backslash"]),
    (f"echo ${S}", ["refused:right after `$`"]),
    (f'echo "${S}"', ["refused:right after `$`"]),
    (f"cat <<EOF\n${S}\nEOF", ["refused:right after `$`"]),
    (f'echo "$x{S}"', ["refused:right after `$x`"]),
    (f"cat <<EOF\n$HOME{S}\nEOF", ["refused:right after `$HOME`"]),
    (f"echo $'a{S}'", ["refused:inside `$'…'`"]),
    (f'echo $"a{S}"', ['refused:inside `$"…"`']),
    (f"cat <<EOF\n$(echo {S})\nEOF", ["refused:inside `$(…)`"]),
    (f"cat <<{S}\nx\n", ["refused:in a here-document delimiter"]),
]


@pytest.mark.parametrize(("text", "expected"), REFUSED)
def test_slots_where_no_quoting_is_safe_are_refused(text: str, expected: list[str]) -> None:
    assert_contexts(text, expected)


LOST = [
    # bash reads `\'` inside $'…' as a quote, dash does not: where the word ends is in doubt.
    f"echo $'a\\'b' {S}",
    f"echo \"${{x:-'}}'}}\" {S}",  # "${x:-'}'}": bash and dash disagree on the end
    f"x=$(case a in a) echo;; esac) {S}",  # a case pattern's `)` inside $( )
    f'echo "unclosed {S}',
    f"echo 'unclosed {S}",
    f"echo $(unclosed {S}",
    f"echo `unclosed {S}",
    f"echo ${{unclosed {S}",
    f"((a); b) {S}",  # `((` that turns out to be two subshells
    f"echo @(a|b) {S}",
    f"cat <<$(x)\n{S}\n",
    "cat <<EOF $(echo\n)\nbody\nEOF\n" + S,
    f"[[ a << b ]] {S}",
]


@pytest.mark.parametrize("text", LOST)
def test_where_the_scan_cannot_follow_the_shell_every_later_slot_is_refused(text: str) -> None:
    found = scan(text).slots
    assert found and all(s.context == "refused" for s in found), found


def test_slots_before_the_place_the_scan_gives_up_keep_their_context() -> None:
    found = scan(f"echo {S}\necho 'unclosed {S}").slots
    assert [s.context for s in found] == ["word", "refused"]


def test_a_heredoc_slot_knows_its_body_and_delimiter() -> None:
    text = f"cat <<-'END'\n\t{S}\n\tEND\n"
    (slot,) = scan(text).slots
    assert slot.heredoc is not None
    assert (slot.heredoc.delimiter, slot.heredoc.quoted, slot.heredoc.strip_tabs) == (
        "END",
        True,
        True,
    )
    assert text[slot.heredoc.start : slot.heredoc.end] == f"\t{S}\n"


def test_commands_list_their_words_with_literal_text_roles_and_slots() -> None:
    script = scan(f"FOO=1 bash -c 'echo \"$1\"' _ {S} > out; [[ -v x ]]")
    first, second = script.commands
    assert [w.literal for w in first] == ["FOO=1", "bash", "-c", 'echo "$1"', "_", None, "out"]
    assert [w.role for w in first][-1] == "redirect"
    assert first[5].slots == (0,)
    assert [w.role for w in second] == ["arg", "test", "test", "test"]


def test_tokens_have_kinds_and_plain_words_are_marked() -> None:
    text = 'ls -la /tmp | wc -l # count\ncat <<E\nbody\nE\necho "$x" a*'
    kinds = [(t.kind, text[t.start : t.end], t.plain) for t in scan(text).tokens]
    assert kinds == [
        ("word", "ls", True),
        ("word", "-la", True),
        ("word", "/tmp", True),
        ("operator", "|", False),
        ("word", "wc", True),
        ("word", "-l", True),
        ("comment", "# count", False),
        ("newline", "\n", False),
        ("word", "cat", True),
        ("operator", "<<", False),
        ("word", "E", False),
        ("newline", "\n", False),
        ("heredoc", "body\nE\n", False),
        ("word", "echo", True),
        ("word", '"$x"', False),
        ("word", "a*", False),
    ]


@pytest.mark.parametrize(
    "text",
    ["", "\\", "'", '"', "$", "$(", "${", "`", "<<", "cat <<", "((", "[[", "a=(", "\n\n", "#"],
)
def test_broken_scripts_scan_without_error(text: str) -> None:
    scan(text)
    scan(text + S)
