"""Commands that read an argument as code or as a variable name: the slots there are refused;
the same commands' data arguments are not.

Most refused rows were seen to run code under bash 5.2 with a value quoted as one exact word
(`a[$(touch C)]`, `($(touch C))`, `system("touch C")`, `/;e touch C`, Python code). The others
are refused because a value there could be an option such as `-c…` of a program that runs code,
or because the command runs code in some modes only (alias, mapfile -C, ssh, su -c, watch).
"""

from __future__ import annotations

import pytest

from psr_engine.expressions.shell_commands import refusals
from psr_engine.expressions.shell_syntax import scan
from psr_engine.expressions.shell_tokens import SLOT as S


def refused(text: str) -> list[bool]:
    script = scan(text)
    found = refusals(script)
    return [i in found for i in range(len(script.slots))]


REFUSED = [
    f"eval echo {S}",
    f'eval "echo {S}"',
    f"trap {S} EXIT",
    f"let x={S}",
    f"ssh host ls {S}",
    f"watch ls {S}",
    f"alias x={S}",
    f"read {S}",
    f"read -r x {S}",
    f"mapfile -C {S} arr",
    f"bash -c {S}",
    f'bash -c "echo {S}"',
    f"sh -ec 'echo {S}'",
    f"bash -o pipefail -c {S}",
    f"bash -c -e {S}",
    f"sudo -u app bash -lc 'echo {S}'",
    f"env X=1 timeout 5 sh -c {S}",
    f"xargs -I{{}} sh -c 'echo {{}} {S}'",
    f"bash {S}",  # a value here could be `-c…`
    f"python3 -c 'print({S})'",
    f"python3 -c \"print('{S}')\"",
    f"python {S}",
    f"/usr/bin/python3.12 -Sc {S}",
    f"perl -ne 'print {S}'",
    f"node -e {S}",
    f"ruby -e {S}",
    f"awk '{{print \"{S}\"}}' file",
    f"awk -F, '{{print {S}}}'",
    f"sed 's/a/{S}/' file",
    f"sed -e 's/a/{S}/' file",
    f"su app -c {S}",
    f"declare {S}",
    f"declare {S}=1",
    f"declare -a x={S}",
    f"local -A m={S}",
    f"declare -i n={S}",
    f"typeset -n ref={S}",
    f"printf -v {S} %s x",
    f"printf -v'{S}' %s x",
    f"printf {S} %s x",  # before the format: could be -vNAME
    f"[ -v {S} ]",
    f"test -v {S}",
    f"[ {S} {S} ]",  # the first value could be -v
    f"[[ -v {S} ]]",
    f"[[ ! -v {S} ]]",
    f"[[ 1 -eq {S} ]]",
    f"[[ {S} -lt 3 ]]",
    f"[[ ( {S} -ge 1 ) ]]",
    f"a[{S}]=1",
    f"a[{S}+1]+=x",
    f"a=([{S}]=1)",
    f"declare -A m=([{S}]=1)",
]


@pytest.mark.parametrize("text", REFUSED)
def test_arguments_read_as_code_or_names_are_refused(text: str) -> None:
    assert any(refused(text)), text


ALLOWED = [
    f"echo {S}",
    f"bash -c 'echo \"$1\"' _ {S}",
    f"bash -c 'echo \"$@\"' bash {S} {S}",
    f"sh ./script.sh {S}",
    f"bash -x script.sh {S}",
    f"python3 script.py {S}",
    f"python3 -m http.server {S}",
    f"python3 -c 'import sys; print(sys.argv[1])' {S}",
    f"perl -e 'print $ARGV[0]' {S}",
    f"awk -v x={S} '{{print x}}' file",
    f"awk '{{print $1}}' {S}",
    f"awk -- '{{print}}' {S}",
    f"sed 's/a/b/' {S}",
    f"sed -e 's/a/b/' {S}",
    f"export X={S}",
    f"local x={S}",
    f"declare -r X={S}",
    f"readonly X={S}",
    f"X={S}",
    f"a=({S} {S})",
    f"a=([1]={S})",
    f"printf '%s\\n' {S}",
    f"printf -v out '%s' {S}",
    f"[ {S} = x ]",
    f"[ -n {S} ]",
    f"[ 1 -eq {S} ]",  # test's -eq does not evaluate arithmetic
    f"test -f {S}",
    f"[[ {S} == x ]]",
    f"[[ x =~ {S} ]]",
    f"[[ -f {S} && -n {S} ]]",
    f"unset {S}",
    f"cd {S}",
    "echo eval",
    f"case {S} in x) eval y;; esac",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_data_arguments_of_the_same_commands_are_allowed(text: str) -> None:
    assert not any(refused(text)), (text, refusals(scan(text)))


def test_only_the_code_word_of_a_shell_is_refused_not_its_positional_data() -> None:
    assert refused(f"bash -c 'echo {S}' _ {S}") == [True, False]


def test_reasons_name_the_command() -> None:
    script = scan(f"eval {S}")
    assert "`eval`" in refusals(script)[0]
    script = scan(f"python3 -c {S}")
    assert "`python3` runs this argument as code" in refusals(script)[0]
