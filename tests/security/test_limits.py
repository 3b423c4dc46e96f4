"""Sizes and depths an attacker drove past what the engine could take (issue 13, item 10):
each is refused with a clear message (exit 2), never a crash, a MemoryError or a hang.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from leaks import psr

HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\n"


def _manifest(root: Path, body: str, name: str = "workflow.yaml") -> Path:
    path = root / name
    path.write_text(HEADER + textwrap.dedent(body).lstrip())
    return path


# -- nesting while parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("a: " + "[" * 30_000 + "\n", id="30KB-of-open-brackets"),
        pytest.param("a: " + "[" * 500 + "]" * 500 + "\n", id="closed-brackets"),
        pytest.param("a: " + "{b: " * 300 + "}" * 300 + "\n", id="flow-mappings"),
        pytest.param(
            "a:\n" + "".join("  " * (i + 1) + "b:\n" for i in range(300)), id="block-mappings"
        ),
    ],
)
def test_a_document_nested_hundreds_deep_is_refused_while_parsing(
    tmp_path: Path, document: str
) -> None:
    """Before: 30 KB of `[` killed the engine with SIGSEGV (exit 139) in ruamel's C composer."""
    (tmp_path / "workflow.yaml").write_text(document)
    ran = psr(tmp_path, "validate")
    assert ran.code == 2, ran.stderr
    assert "nested more than 100 levels deep" in ran.stderr
    assert "workflow.yaml:" in ran.stderr and "Traceback" not in ran.stderr


# -- matrix sizes ----------------------------------------------------------------------------

PARAM_MATRIX = """
metadata: {name: big}
spec:
  params: {n: {type: integer, default: 2}}
  tasks:
    t:
      matrix:
        a: "${{ range(params.n) | list }}"
        b: "${{ range(params.n) | list }}"
        c: "${{ range(params.n) | list }}"
      run: echo ${{ matrix.a }}
"""


def test_a_param_driven_matrix_is_refused_beyond_the_per_task_limit(tmp_path: Path) -> None:
    """Before: `-p n=2000` expanded 8e9 combinations: MemoryError, exit 70."""
    _manifest(tmp_path, PARAM_MATRIX)
    ran = psr(tmp_path, "validate", "-p", "n=2000")
    assert ran.code == 2, ran.stderr
    assert "8,000,000,000 combinations" in ran.stderr
    assert "spec.limits.matrixInstances (10,000)" in ran.stderr
    assert psr(tmp_path, "validate", "-p", "n=3").code == 0


def test_the_plan_and_matrix_limits_are_configurable(tmp_path: Path) -> None:
    _manifest(
        tmp_path,
        """
        metadata: {name: limited}
        spec:
          limits: {matrixInstances: 4, instances: 6}
          tasks:
            one: {matrix: {x: [1, 2, 3, 4]}, run: "true"}
            three: {matrix: {x: [1, 2, 3, 4, 5]}, run: "true"}
            two: {matrix: {x: [1, 2, 3]}, run: "true"}
        """,
    )
    ran = psr(tmp_path, "validate")
    assert ran.code == 2, ran.stderr
    assert "task 'three' has 5 combinations" in ran.stderr
    assert "more than 6 task instances (spec.limits.instances)" in ran.stderr
    assert "workflow.yaml:5:" in ran.stderr  # at spec.limits.instances


def test_expressions_cannot_build_huge_values(tmp_path: Path) -> None:
    """Before: `[0] * params.n` took all memory (MemoryError, or the OOM killer)."""
    _manifest(
        tmp_path,
        """
        metadata: {name: huge}
        spec:
          params: {n: {type: integer, default: 2}}
          tasks:
            t: {matrix: {a: "${{ [0] * params.n }}"}, run: "true"}
        """,
    )
    ran = psr(tmp_path, "validate", "-p", "n=1000000000")
    assert ran.code == 2, ran.stderr
    assert "`*` would build 1,000,000,000 items" in ran.stderr


# -- sub-workflows that run themselves -------------------------------------------------------

SELF = """
metadata: {name: self}
spec:
  params: {n: {type: integer, default: 3}}
  tasks:
    again:
      when: ${{ params.n > 0 }}
      workflow: self.yaml
      with: {n: "${{ params.n - 1 }}"}
"""


def test_cycles_of_sub_workflows_are_refused_at_validate(tmp_path: Path) -> None:
    """Before: each of these was `valid`, then ran forever at 100% CPU."""
    _manifest(tmp_path, SELF, "self.yaml")  # through a param: it would even end, at n=0
    _manifest(
        tmp_path, "metadata: {name: a}\nspec:\n  tasks:\n    to_b: {workflow: b.yaml}\n", "a.yaml"
    )
    _manifest(
        tmp_path,
        "metadata: {name: b}\nspec:\n  tasks:\n    x: {run: 'true'}\n    to_a: {workflow: ./a.yaml}\n",
        "b.yaml",
    )
    _manifest(
        tmp_path, "metadata: {name: top}\nspec:\n  tasks:\n    go: {workflow: a.yaml}\n", "top.yaml"
    )
    selfish = psr(tmp_path, "validate", "self.yaml")
    assert selfish.code == 2, selfish.stderr
    assert (
        "self.yaml:9:7: task 'again' closes a cycle of sub-workflows: self.yaml (task again) -> self.yaml"
        in selfish.stderr
    )
    both = psr(tmp_path, "validate", "a.yaml")
    assert both.code == 2, both.stderr
    assert (
        "b.yaml:7:12: task 'to_a' closes a cycle of sub-workflows: a.yaml (task to_b) -> b.yaml (task to_a) -> a.yaml"
        in both.stderr
    )
    above = psr(tmp_path, "validate", "top.yaml")  # the cycle is below the manifest validated
    assert above.code == 2 and "a.yaml (task to_b) -> b.yaml (task to_a) -> a.yaml" in above.stderr


def test_a_workflow_path_chosen_by_a_param_is_refused_at_validate(tmp_path: Path) -> None:
    """Before: `workflow: ${{ params.wf }}` validated, then failed at run time as a file named
    `${{ params.wf }}`; were it rendered, a param could make a workflow run itself."""
    _manifest(
        tmp_path,
        """
        metadata: {name: chooser}
        spec:
          params: {wf: {type: string, default: workflow.yaml}}
          tasks:
            again: {workflow: "${{ params.wf }}"}
        """,
    )
    ran = psr(tmp_path, "validate")
    assert ran.code == 2, ran.stderr
    assert (
        "workflow.yaml:7:13: task 'again': `workflow:` is a path, not an expression" in ran.stderr
    )


def test_sub_workflow_nesting_is_capped_at_run_time(tmp_path: Path) -> None:
    """Before: a workflow running itself recursed until an internal error (exit 70)."""
    _manifest(
        tmp_path,
        """
        metadata: {name: self}
        spec:
          limits: {workflowDepth: 3}
          tasks:
            again: {workflow: workflow.yaml}
        """,
    )
    ran = psr(tmp_path, "apply", timeout=60)
    assert ran.code == 1, ran.stderr
    assert (
        "sub-workflows are nested more than 3 deep (self -> self -> self -> self -> workflow.yaml)"
        in ran.stdout
    )
    assert "again/again/again/again failed (workflow error)" in ran.stdout
    assert "again/again/again/again/again" not in ran.stdout


def test_sigterm_stops_a_tree_of_sub_workflows_at_once(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    _manifest(
        tmp_path,
        "metadata: {name: leaf}\nspec:\n  tasks:\n    wait: {run: 'echo started; sleep 60'}\n",
        "leaf.yaml",
    )
    _manifest(
        tmp_path,
        "metadata: {name: mid}\nspec:\n  tasks:\n    down: {workflow: leaf.yaml}\n",
        "mid.yaml",
    )
    _manifest(tmp_path, "metadata: {name: top}\nspec:\n  tasks:\n    down: {workflow: mid.yaml}\n")
    engine = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert engine.stdout is not None
    for line in engine.stdout:
        if "down/down/wait" in line:
            break
    time.sleep(0.5)
    sent = time.monotonic()
    engine.send_signal(signal.SIGTERM)
    try:
        engine.wait(timeout=15)
    finally:
        engine.kill()
    assert time.monotonic() - sent < 15
    assert engine.returncode not in (0, None)
    leftover = subprocess.run(["pgrep", "-f", "sleep 60"], capture_output=True, text=True)
    mine = [
        p
        for p in leftover.stdout.split()
        if os.path.exists(f"/proc/{p}/cwd") and os.readlink(f"/proc/{p}/cwd") == str(tmp_path)
    ]
    assert mine == []


# -- cache.inputs globs ------------------------------------------------------------------------


def test_cache_globs_survive_symlink_loops_and_fifos(tmp_path: Path) -> None:
    """Before: `**` looped on a folder linking to itself (Ctrl-C ignored), and a FIFO among the
    inputs hung the run forever. Now links to folders are not followed, a FIFO is never
    opened, and the task is cached by its regular files alone."""
    import os

    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    os.symlink(".", data / "self")  # a folder that contains itself
    os.symlink(str(tmp_path), data / "up")  # and its ancestor
    os.symlink("loop2", tmp_path / "loop1")  # links that point at each other
    os.symlink("loop1", tmp_path / "loop2")
    os.mkfifo(data / "pipe.txt")  # opening it would block until someone writes
    _manifest(
        tmp_path,
        """
        metadata: {name: globs}
        spec:
          tasks:
            t:
              cache: {inputs: ["**/*", "data/*.txt", "loop1"]}
              run: echo ran
        """,
    )
    first = psr(tmp_path, "apply", timeout=60)
    assert first.code == 0, first.stderr
    second = psr(tmp_path, "apply", timeout=60)
    assert second.code == 0, second.stderr
    assert "cached" in second.stdout


def test_a_glob_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk runs on the event loop: its bound is how long an interrupt may wait."""
    from psr_engine import globs

    for index in range(30):
        (tmp_path / f"d{index}").mkdir()
    monkeypatch.setattr(globs, "MAX_VISITED", 20)
    with pytest.raises(ValueError, match="walks more than 20 names"):
        globs.matching_files(str(tmp_path), "**/*.none")


def test_an_interrupt_is_not_held_by_hashing_a_huge_cache_input(tmp_path: Path) -> None:
    """Before: the cache key read every input on the event loop, so Ctrl-C waited until a
    60 GB input was hashed (minutes). It is read in a worker thread now, which stops at the
    next MiB once the run is interrupted. (Provenance is off: its own hashing of materials is
    another matter.)"""
    import os
    import signal
    import subprocess
    import sys
    import time

    with open(tmp_path / "huge.bin", "wb") as handle:
        handle.truncate(60 * 2**30)  # sparse: no disk used, minutes to read
    _manifest(
        tmp_path,
        """
        metadata: {name: big}
        spec:
          tasks:
            t: {cache: {inputs: [huge.bin]}, run: echo ran}
        """,
    )
    engine = subprocess.Popen(
        [sys.executable, "-m", "psr_engine", "apply"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "PSR_PROVENANCE": "0"},
    )
    assert engine.stdout is not None
    for line in engine.stdout:
        if line.startswith("run "):
            break
    time.sleep(1.5)  # hashing by now
    sent = time.monotonic()
    engine.send_signal(signal.SIGINT)
    try:
        rest = engine.communicate(timeout=30)[0]
    finally:
        engine.kill()
    assert time.monotonic() - sent < 30
    assert engine.returncode == 130, rest
    assert "cancelled (interrupted)" in rest and "ran" not in rest
