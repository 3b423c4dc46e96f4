"""make's trick: a plain `run:` command is exec'd without bash, and nobody can tell.

Each command of the table runs twice on the local executor, once as the engine runs it now
(exec'd directly when the rule of expressions/shell_plain.py says it may, with the environment
bash would have given it) and once always through `bash -eo pipefail -c`. The exit code and the
task's output (its log: stdout and stderr, as the task wrote them) must be the same. The second
column pins the rule: whether the command is exec'd directly at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from psr_engine.executors import ProcessSpec
from psr_engine.executors.local import LocalExecutor
from psr_engine.plan.model import PlannedTask
from psr_engine.run import attempt as attempts

PY = sys.executable
SH = "sh -c 'echo out; echo err >&2; exit 7'"

# (command, exec'd directly)
TABLE: list[tuple[str, bool]] = [
    ("true", True),
    ("true\n", True),
    ("false", True),
    ("true --help", False),  # bash's builtin ignores it; coreutils' true prints its help
    ("ls", True),
    ("ls -1 data.txt 'with space.txt'", True),
    ("ls -la nothing-here", True),
    ("/bin/echo hello world", True),
    ('"/bin/echo" "two words" plain', True),
    ("cat data.txt", True),
    ("cat 'with space.txt'", True),
    ("cat nothing-here", True),
    ("grep -c a data.txt", True),
    ("head -n1 data.txt", True),
    ("wc -l data.txt", True),
    ("sleep 0", True),
    (SH, True),
    (f"{PY} -c \"import sys; print('py'); sys.exit(5)\"", True),
    ("printenv PWD", True),
    ("printenv SHLVL", True),
    ("printenv _", True),
    ("printenv OLDPWD", True),
    ("printenv PSR_PROBE", True),
    ("/usr/bin/env printenv SHLVL", True),
    ("no-such-command-anywhere", True),  # 127: bash's own message
    ("./missing", True),  # 127, no such file
    ("./not-executable", True),  # 126, permission denied
    ("./a-folder", True),  # 126, is a directory
    ("./no-shebang", True),  # bash runs a script without #! itself
    ("./with-shebang", True),
    ("echo builtin", False),
    ("printf '%s\\n' x", False),
    ("test -f data.txt", False),
    ("exit 3", False),
    ("FOO=1 printenv FOO", False),
    ("ls *.txt", False),
    ("ls ~ >/dev/null", False),
    ("/bin/echo $HOME", False),
    ("cat data.txt | wc -l", False),
    ("true && false", False),
    ("(exit 4)", False),
    ("/bin/echo a # a comment", False),
    ("/bin/echo {a,b}", False),
    ("ls\nls", False),
    ("if true; then /bin/echo y; fi", False),
    ("%1", False),  # bash: fg %1
]


def _workdir(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    (root / "data.txt").write_text("a\nb\na\n")
    (root / "with space.txt").write_text("spaced\n")
    (root / "not-executable").write_text("#!/bin/sh\necho no\n")
    (root / "a-folder").mkdir()
    script = root / "no-shebang"
    script.write_text("echo from a script without a shebang\nexit 9\n")
    script.chmod(0o755)
    script = root / "with-shebang"
    script.write_text("#!/bin/sh\necho from sh >&2\nexit 6\n")
    script.chmod(0o755)
    return root


def _base_env(root: Path) -> dict[str, str]:
    path = os.pathsep.join([os.path.dirname(PY), "/usr/local/bin", "/usr/bin", "/bin"])
    return {
        "PATH": path,
        "HOME": str(root),
        "LC_ALL": "C",
        "PWD": "/",  # the engine's folder, not the task's: bash corrects it
        "OLDPWD": "/no/such/folder",  # bash drops it
        "PSR_PROBE": "probe value",
    }


async def _run(spec: ProcessSpec) -> tuple[int, bytes]:
    result = await LocalExecutor().run(spec)
    return result.exit_code, Path(spec.log_path).read_bytes()


@pytest.mark.parametrize(("command", "direct"), TABLE, ids=[repr(c) for c, _ in TABLE])
def test_a_command_runs_the_same_exec_d_directly_as_through_bash(
    tmp_path: Path, command: str, direct: bool
):
    cwd = _workdir(tmp_path / "work")
    task = PlannedTask(id="t", task="t", kind="run", command=command, workdir=str(cwd))
    argv = attempts.argv_for(task, {})
    env = _base_env(tmp_path)
    words = attempts.direct_argv(task, argv, env)
    assert (words is not None) == direct
    direct_env = dict(env)
    if words is not None:
        attempts.as_bash_would(direct_env, str(cwd), words[0])
    engine = ProcessSpec(
        argv=argv, direct=words, env=direct_env, cwd=str(cwd), log_path=str(tmp_path / "a.log")
    )
    shell = ProcessSpec(argv=argv, env=env, cwd=str(cwd), log_path=str(tmp_path / "b.log"))
    assert anyio.run(_run, engine) == anyio.run(_run, shell)


def test_a_plain_command_skips_the_shell(tmp_path: Path):
    """The table could pass with everything through bash: this one must not."""
    cwd = _workdir(tmp_path)
    env = _base_env(tmp_path)
    task = PlannedTask(id="t", task="t", kind="run", command="printenv BASH", workdir=str(cwd))
    argv = attempts.argv_for(task, {})
    words = attempts.direct_argv(task, argv, env)
    assert words == ("printenv", "BASH")
    spec = ProcessSpec(argv=argv, direct=words, env=env, cwd=str(cwd), log_path=str(cwd / "l"))
    assert anyio.run(_run, spec) == (1, b"")  # bash would have set BASH in its own process
    shell = ProcessSpec(argv=argv, env=env, cwd=str(cwd), log_path=str(cwd / "m"))
    assert anyio.run(_run, shell)[1] == b""  # (bash does not export it either)


@pytest.mark.parametrize(
    "variable", ["BASH_ENV", "SHELLOPTS", "BASHOPTS", "BASH_FUNC_ls%%"], ids=str
)
def test_what_gives_bash_work_of_its_own_keeps_the_shell(tmp_path: Path, variable: str):
    task = PlannedTask(id="t", task="t", kind="run", command="ls", workdir=str(tmp_path))
    env = {**_base_env(tmp_path), variable: "x"}
    assert attempts.direct_argv(task, attempts.argv_for(task, {}), env) is None


def test_a_relative_path_entry_or_another_shell_keeps_the_shell(tmp_path: Path):
    task = PlannedTask(id="t", task="t", kind="run", command="ls", workdir=str(tmp_path))
    env = {**_base_env(tmp_path), "PATH": "bin:/usr/bin"}
    assert attempts.direct_argv(task, attempts.argv_for(task, {}), env) is None
    sh = PlannedTask(id="t", task="t", kind="run", command="ls", shell="sh")
    assert attempts.direct_argv(sh, attempts.argv_for(sh, {}), _base_env(tmp_path)) is None
