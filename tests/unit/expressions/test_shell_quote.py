"""render_command against the real shells: in every context it accepts, bash and dash read back
exactly the value (compared as bytes in a file the command writes) and run nothing else (no
file other than that one appears); in the contexts it refuses, it raises instead of rendering.

The commands of one value are run as one script, each in its own folder, to keep this fast.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psr_engine.errors import ExpressionError
from psr_engine.expressions import check_command, is_posix_shell, render, render_command

V = "${{ params.v }}"
SHELLS = [shell for shell in ("bash", "dash") if shutil.which(shell)]  # dash: Debian's /bin/sh
Expect = Callable[[str], str | None]  # the value -> what `out` holds, or None: refused

# (command writing ./out, expected content, POSIX: also run by dash)
CASES: list[tuple[str, Expect, bool]] = [
    (f"printf '%s' {V} > out", lambda v: v, True),
    (f"printf '%s' {V}>out", lambda v: v, True),  # a value "2" must not become a fd number
    (f"printf '%s' x{V}y > out", lambda v: f"x{v}y", True),
    (f"printf '%s' \"<{V}>\" > out", lambda v: f"<{v}>", True),
    (f"printf '%s' '<{V}>' > out", lambda v: f"<{v}>", True),
    (f"printf '%s' \"a'{V}'b\" > out", lambda v: f"a'{v}'b", True),
    (f"printf '%s' 'a\"{V}\"b' > out", lambda v: f'a"{v}"b', True),
    (f"printf '%s' x{V}\"{V}\"'{V}' > out", lambda v: "x" + v * 3, True),
    (f"X={V}; printf '%s' \"$X\" > out", lambda v: v, True),
    (f"printf '%s' \"${{HOME}}{V}\" > out", lambda v: "/h" + v, True),
    (f"printf '%s' $HOME{V} > out", lambda v: "/h" + v, True),
    (f"f() {{ printf '%s' \"$1\" > out; }}; f {V}", lambda v: v, True),
    (f"if true; then printf '%s' {V} | cat > out; fi", lambda v: v, True),
    (f"case {V} in {V}) printf ok > out;; esac", lambda v: "ok", True),
    (f'sh -c \'printf "%s" "$1" > out\' _ {V}', lambda v: v, True),
    (f"cat > out <<EOF\n<{V}>\nEOF", lambda v: None if _has_line(v, "EOF") else f"<{v}>\n", True),
    (
        f"cat > out <<'EOF'\n<{V}>\nEOF",
        lambda v: None if _has_line(v, "EOF") else f"<{v}>\n",
        True,
    ),
    (
        f'cat > out <<"END"\n{V}\nEND',
        lambda v: None if _has_line(v, "END") or v == "END" else f"{v}\n",
        True,
    ),
    (
        f"cat > out <<-EOF\n\t<{V}>\n\tEOF",
        lambda v: None if "\n\t" in v or _has_line(v.replace("\t", ""), "EOF") else f"<{v}>\n",
        True,
    ),
    (f"[[ {V} == {V} ]] && printf ok > out", lambda v: "ok", False),
    (f"[[ x{V} =~ ^x{V}$ ]] && printf ok > out", lambda v: "ok", False),
    (f'a=({V} "{V}"); printf \'%s|\' "${{a[@]}}" > out', lambda v: f"{v}|{v}|", False),
    (f"cat <<< {V} > out", lambda v: v + "\n", False),
]

NASTY = [
    "",
    " ",
    "two words",
    "$(touch CANARY)",
    "`touch CANARY`",
    "`",
    "; touch CANARY",
    "\ntouch CANARY",
    "${IFS}touch${IFS}CANARY",
    "a' ; touch CANARY ; '",
    'a" ; touch CANARY ; "',
    "${{ secrets.X }}",
    "{{ 7 * 7 }}",
    "!",
    "!!",
    "a!b",
    "\\",
    "a\\",
    "\\\\",
    "\\n",
    "\\$(touch CANARY)",
    "'",
    '"',
    "'\"'\"'",
    "$",
    "$HOME",
    "${HOME}",
    "$((1+1))",
    "*",
    "~",
    "~root",
    "a=b",
    "if",
    "2",
    "-n",
    "--",
    "%s",
    "Zürich ☃ 日本",
    "tab\there",
    "cr\rhere",
    "line1\nline2\n",
    "EOF",
    "x\nEOF\ntouch CANARY",
    "x\n\tEOF\ntouch CANARY",
    "E\\\nOF",
    "\n",
]


def _has_line(value: str, delimiter: str) -> bool:
    return delimiter in value.split("\n")[1:-1] or any(
        line == delimiter for line in value.split("\n")[1:]
    )


def _dash_drops(shell: str, command: str, want: str) -> bool:
    """dash (Debian's 0.5.12) drops the first byte >= 0x80 that follows a line-start prefix
    of a here-document's delimiter (`Eé` in a body ended by END reads back as `E` and half a
    character); render_command refuses such a value for dash, so the case expects a refusal."""
    found = re.search(r"<<-?['\"]?(\w+)", command)
    if shell != "dash" or found is None:
        return False
    delimiter = found.group(1)
    for line in want.split("\n"):
        size = 0
        while size < len(delimiter) and line[size : size + 1] == delimiter[size]:
            size += 1
            if len(line) > size and ord(line[size]) >= 0x80:
                return True
    return False


def run_cases(shell: str, value: str, tmp: Path) -> None:
    """Render every case for ``shell`` with ``value``, run them as one script, check each."""
    cases = [(i, c) for i, c in enumerate(CASES) if shell == "bash" or c[2]]
    script: list[str] = []
    expected: dict[int, str] = {}
    for i, (command, expect, _) in cases:
        want = expect(value)
        if want is not None and _dash_drops(shell, command, want):
            want = None
        try:
            rendered = render_command(command, {"params": {"v": value}}, shell=shell)
        except ExpressionError:
            assert want is None, f"case {i} {command!r} refused {value!r}"
            continue
        assert want is not None, f"case {i} {command!r} should have refused {value!r}"
        folder = tmp / f"c{i}"
        folder.mkdir()
        script.append(f"cd '{folder}' && {{ {rendered}\n}}\n")
        expected[i] = want
    done = subprocess.run(
        [shell, "-c", "".join(script)],
        cwd=tmp,
        env={"PATH": os.environ["PATH"], "HOME": "/h"},
        capture_output=True,
        timeout=30,
    )
    for i, want in expected.items():
        folder = tmp / f"c{i}"
        names = sorted(p.name for p in folder.iterdir())
        assert names == ["out"], (CASES[i][0], value, names, done.stderr[-500:])
        assert (folder / "out").read_bytes() == want.encode(), (CASES[i][0], value)
    assert sorted(p.name for p in tmp.iterdir()) == sorted(f"c{i}" for i in expected)


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_hostile_values_come_back_exactly_and_run_nothing(shell: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    for k, value in enumerate(NASTY):
        folder = tmp_path / f"v{k}"
        folder.mkdir()
        run_cases(shell, value, folder)


# Shells cannot receive NUL in argv; surrogates cannot be encoded.
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=texts)
def test_any_value_comes_back_exactly_in_every_accepted_context(value: str, tmp_path: Path) -> None:
    for shell in SHELLS:
        folder = tmp_path / shell
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        run_cases(shell, value, folder)


@pytest.mark.parametrize("shell", ["dash", "sh", "/usr/bin/env sh"])
@pytest.mark.parametrize("value", ["E\x80", "Eé", "ENDé", "x\nEN\u00e9"])
def test_a_value_dash_would_lose_a_byte_of_is_refused_for_dash_and_kept_for_bash(
    shell: str, value: str, tmp_path: Path
) -> None:
    command = f'cat > out <<"END"\n{V}\nEND'
    with pytest.raises(ExpressionError, match="dash"):
        render_command(command, {"params": {"v": value}}, shell=shell)
    rendered = render_command(command, {"params": {"v": value}}, shell="bash")
    subprocess.run(["bash", "-c", rendered], cwd=tmp_path, check=True, timeout=10)
    assert (tmp_path / "out").read_bytes() == (value + "\n").encode()


def test_history_expansion_never_touches_values(tmp_path: Path) -> None:
    """`!` is left alone inside "…": bash expands history only in lines typed at a prompt,
    not in `bash -c` text, even interactive (-i) or with `set -H`."""
    value = "a!b !! !$ !-1"
    command = render_command(f"set -H; printf '%s' \"{V}\" > out", {"params": {"v": value}})
    for argv in (["bash", "-c"], ["bash", "-i", "-c"]):
        (tmp_path / "out").unlink(missing_ok=True)
        subprocess.run([*argv, command], cwd=tmp_path, capture_output=True, timeout=10)
        assert (tmp_path / "out").read_text() == value


def test_raw_values_are_spliced_and_the_others_quoted_for_the_context_they_create(
    tmp_path: Path,
) -> None:
    context = {"params": {"open": "printf '%s' \"<", "v": '$(touch CANARY)"`x`'}}
    command = render_command('${{ params.open | raw }}${{ params.v }}>" > out', context)
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, timeout=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (tmp_path / "out").read_text() == '<$(touch CANARY)"`x`>'


def test_a_raw_value_that_opens_a_command_substitution_makes_the_next_value_refused() -> None:
    context = {"params": {"open": "echo $(echo", "v": "x"}}
    with pytest.raises(ExpressionError, match=r"inside `\$\(…\)`"):
        render_command("${{ params.open | raw }} ${{ params.v }})", context)


def test_a_raw_value_holding_the_expression_marker_is_data_too() -> None:
    context = {"params": {"r": "echo ${{ params.v }}", "v": "x"}}
    assert render_command("${{ params.r | raw }}", context) == "echo ${{ params.v }}"


@pytest.mark.parametrize(
    "command",
    [
        f"echo $(echo {V})",
        f"echo `echo {V}`",
        f"echo ${{x:-{V}}}",
        f"echo $(({V}))",
        f"echo # {V}",
        f"eval echo {V}",
        f"bash -c 'echo {V}'",
        f'echo "$x{V}"',
    ],
)
def test_refused_placements_raise_at_render_as_check_command_reports(command: str) -> None:
    assert [p.offset for p in check_command(command, None)] == [command.index(V)]
    with pytest.raises(ExpressionError, match="cannot be quoted safely here") as raised:
        render_command(command, {"params": {"v": "x"}})
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.column == command.index(V) + 1
    assert 'env: {V: "${{ params.v }}"}' in diagnostic.hint
    assert '"$V"' in diagnostic.hint


def test_raw_is_allowed_in_any_placement_by_the_authors_choice() -> None:
    assert check_command("echo $(echo ${{ params.v | raw }})", None) == ()
    assert render_command("echo $(echo ${{ params.v | raw }})", {"params": {"v": "a b"}}) == (
        "echo $(echo a b)"
    )


def test_a_value_ending_a_heredoc_early_fails_without_showing_the_value() -> None:
    command = f"cat <<EOF\n{V}\nEOF"
    with pytest.raises(ExpressionError) as raised:
        render_command(command, {"params": {"v": "s3cr3t\nEOF\nrm -rf ~"}})
    assert "line `EOF`" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(
    ("shell", "posix"),
    [
        (None, True),
        ("bash", True),
        ("/bin/bash -x", True),
        ("sh", True),
        ("dash", True),
        ("zsh", True),
        ("ksh", True),
        ("/usr/bin/env bash", True),
        ("env -i bash", True),
        ("busybox sh", True),
        ("pwsh", False),
        ("powershell -NoProfile", False),
        ("python3", False),
        ("cmd", False),
        ("fish", False),
        ("csh", False),
        ("node", False),
        ("'unclosed", False),
    ],
)
def test_which_shells_get_posix_quoting(shell: str | None, posix: bool) -> None:
    assert is_posix_shell(shell) is posix


def test_other_shells_refuse_quoted_values_and_take_raw_ones() -> None:
    context = {"params": {"v": "x"}}
    (problem,) = check_command(f"Write-Host {V}", "pwsh")
    assert "not a POSIX shell" in problem.message and "pwsh" in problem.hint
    with pytest.raises(ExpressionError, match="not a POSIX shell"):
        render_command(f"print({V!r})", context, shell="python3")
    assert render_command("Write-Host ${{ params.v | raw }}", context, shell="pwsh") == (
        "Write-Host x"
    )


def test_render_with_shell_true_is_the_bash_command() -> None:
    context = {"params": {"v": "a b"}}
    assert render(f'echo "{V}" {V}', context, shell=True) == "echo \"a b\" 'a b'"


# -- the scan against the shells: random scripts ------------------------------------------

FRAGMENTS = [
    "echo ", "printf '%s' ", " ", "\n", ";", " | cat", " && ", "'", '"', "\\", "$", "`",
    "$(", ")", "(", "{ ", " }", "${", "}", "#", "<<EOF\n", "<<'EOF'\n", "<<-EOF\n", "EOF\n",
    "\tEOF\n", "x", "=", "a=(", "[[ ", " ]]", "$((", "))", "case ", " in ", " esac", "$x", "${x}",
    "$'", "\\\n", "<<<", "!", "*", "~", "eval ", "bash -c ", "if true; then ", "; fi",
]  # fmt: skip
BREAKOUT = "x'\"$(touch CANARY1)`touch CANARY2`\ntouch CANARY3\n;touch CANARY4 #\\"
BREAKOUT_EOF = BREAKOUT + "\nEOF\ntouch CANARY5\n"


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(st.sampled_from([*FRAGMENTS, V, V, V]), min_size=1, max_size=14))
def test_random_scripts_never_run_a_value(pieces: list[str], tmp_path: Path) -> None:
    """Whatever the script around them, values the scan accepts never run: the scan agrees
    with bash and dash on every context it claims to know, or refuses."""
    command = "".join(pieces)
    if V not in command:
        return
    for value in (BREAKOUT, BREAKOUT_EOF):
        try:
            rendered = render_command(command, {"params": {"v": value}})
        except ExpressionError:
            continue
        for shell in SHELLS:
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(
                    [shell, "-c", rendered],
                    cwd=tmp_path,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=5,
                )
            made = [p.name for p in tmp_path.iterdir() if p.name.startswith("CANARY")]
            assert not made, (shell, command, rendered)
