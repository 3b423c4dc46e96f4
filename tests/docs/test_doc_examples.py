"""Every fenced YAML and shell example in README.md and docs/ is checked, so the docs cannot
drift from the engine (issue 16, item 7). Nothing is skipped silently: an example is either
checked, or marked, on the line before its fence, with why it is not:

- ```yaml holding a manifest (`apiVersion:`) is validated by `psr-engine validate`; one that
  starts at `spec:` (a manifest's body) is validated with the header added (and a stand-in
  task when it shows settings only). Files the examples
  name (`python: scripts/extract.py`, a sub-workflow) get empty stand-ins: the reader has them.
- any other ```yaml must be marked `<!-- fragment: what it is -->` (a few tasks, a CI file, a
  secrets mapping): it must still parse as YAML.
- ```sh / ```console examples run with bash in a temp copy of manifests/, one script per page
  (so `cd my-flow` carries over), `$ ` lines of a console block being its commands, with
  `psr-engine` this checkout's. Those that install, start servers or talk to clouds are
  marked `<!-- not run: why -->`.

The test prints how many examples it validated, parsed and ran.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
MARK = re.compile(r"^<!--\s*(?P<kind>fragment|not run)(?::\s*(?P<why>.*?))?\s*-->$")
SHELL = {"sh", "shell", "bash", "console"}
YAML_LANGS = {"yaml", "yml"}
HEADER = "apiVersion: psr-engine/v1\nkind: Workflow\nmetadata: {name: doc-example}\n"


@dataclass(frozen=True)
class Example:
    page: Path
    line: int  # of the opening fence
    lang: str
    text: str
    mark: str | None  # "fragment" | "not run" | None
    why: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").split("\n")
        index = 0
        while index < len(lines):
            opening = FENCE.match(lines[index])
            if not opening or not opening["lang"]:
                index += 1
                continue
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            indent = len(opening["indent"])
            text = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
            above = next((ln.strip() for ln in reversed(lines[:index]) if ln.strip()), "")
            mark = MARK.match(above)
            found.append(
                Example(
                    page,
                    index + 1,
                    opening["lang"],
                    text,
                    mark["kind"] if mark else None,
                    (mark["why"] or "") if mark else "",
                )
            )
            index = end + 1
    return found


ALL = examples()
YAMLS = [e for e in ALL if e.lang in YAML_LANGS]
SHELLS = [e for e in ALL if e.lang in SHELL]


def load_yaml(text: str, *, alternatives: bool = False):
    """`alternatives`: a fragment may list alternatives of one key, a line each."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = alternatives
    return yaml.load(text)


def test_every_mark_says_why_and_sits_on_an_example_it_applies_to():
    for example in ALL:
        if example.mark is None:
            continue
        assert example.why, f"{example.where}: say why, e.g. <!-- {example.mark}: a CI file -->"
        wanted = YAML_LANGS if example.mark == "fragment" else SHELL
        assert example.lang in wanted, (
            f"{example.where}: `{example.mark}` on a {example.lang} block"
        )


def test_yaml_fragments_parse():
    fragments = [e for e in YAMLS if e.mark == "fragment"]
    for example in fragments:
        try:
            load_yaml(example.text, alternatives=True)
        except Exception as error:  # ruamel's errors have no common base worth naming
            pytest.fail(f"{example.where}: not valid YAML: {error}")
    print(f"\n{len(fragments)} YAML fragments parsed")


def test_yaml_manifests_are_valid(tmp_path):
    manifests: list[tuple[Example, Path]] = []
    unmarked = []
    for number, example in enumerate(e for e in YAMLS if e.mark is None):
        try:
            data = load_yaml(example.text)
        except Exception as error:  # ruamel's errors have no common base worth naming
            unmarked.append(f"{example.where} (not valid YAML: {str(error).splitlines()[0]})")
            continue
        if isinstance(data, dict) and "apiVersion" in data:
            text = example.text
        elif isinstance(data, dict) and "spec" in data:
            # A manifest's body: the header added, and a stand-in task when it shows settings
            # only (the docs indent by two spaces).
            head = HEADER if "metadata" not in data else HEADER.split("metadata")[0]
            text = head + example.text
            if not (data["spec"] or {}).get("tasks"):
                text += "  tasks:\n    stand-in: {run: 'true'}\n"
        else:
            unmarked.append(example.where)
            continue
        folder = tmp_path / f"example-{number}"
        folder.mkdir()
        path = folder / "workflow.yaml"
        path.write_text(text)
        _stand_ins(folder, load_yaml(text))
        manifests.append((example, path))
    assert not unmarked, (
        "YAML examples that are neither a manifest nor its spec: mark each "
        f"<!-- fragment: what it is --> on the line before the fence: {unmarked}"
    )
    result = subprocess.run(
        [sys.executable, "-m", "psr_engine", "validate", *(str(p) for _, p in manifests)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    failures = []
    for example, path in manifests:
        if f"{path}: valid" not in result.stdout:
            own = [ln for ln in result.stderr.splitlines() if ln.startswith(str(path))]
            failures.append(f"{example.where}:\n  " + "\n  ".join(own))
    assert not failures, "\n".join(failures)
    print(f"\n{len(manifests)} YAML manifests validated")


def _stand_ins(folder: Path, data) -> None:
    """Empty files for the scripts and sub-workflows an example names."""
    spec = data.get("spec") or {}
    for section in ("tasks", "onExit"):
        for task in (spec.get(section) or {}).values():
            if not isinstance(task, dict):
                continue
            for kind, body in (
                ("python", "print('stand-in')\n"),
                ("workflow", HEADER + "spec:\n  tasks:\n    t: {run: 'true'}\n"),
            ):
                name = task.get(kind)
                if isinstance(name, str) and "${{" not in name:
                    target = folder / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.exists():
                        target.write_text(body)


def commands(example: Example) -> str:
    """The example as a bash script: a console block's `$ ` lines (and their `\\`
    continuations); every line of an sh block."""
    if example.lang != "console":
        return example.text
    out, continuing = [], False
    for line in example.text.splitlines():
        if line.startswith("$ ") or continuing:
            command = line[2:] if line.startswith("$ ") and not continuing else line
            out.append(command)
            continuing = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"


def test_shell_examples_run(tmp_path):
    runnable = [e for e in SHELLS if e.mark is None]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "psr-engine"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m psr_engine "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
        "PSR_STATE_DIR": "",
    }
    env.pop("PSR_STATE_DIR")
    ran = 0
    for page in dict.fromkeys(e.page for e in runnable):
        workspace = tmp_path / re.sub(r"\W+", "-", str(page.relative_to(ROOT)))
        shutil.copytree(ROOT / "manifests", workspace / "manifests")
        script = ["set -euo pipefail"]
        for example in (e for e in runnable if e.page == page):
            script.append(f"echo '--- {example.where}' >&2")
            script.append(commands(example))
            ran += 1
        proc = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        shown = textwrap.indent((proc.stdout + proc.stderr)[-3000:], "  ")
        assert proc.returncode == 0, f"{page.relative_to(ROOT)} (exit {proc.returncode}):\n{shown}"
    not_run = [e for e in SHELLS if e.mark == "not run"]
    print(f"\n{ran} shell examples run, {len(not_run)} marked not run")
    assert ran >= 5


def test_the_count_of_examples_checked():
    checked = len(YAMLS) + len([e for e in SHELLS if e.mark is None])
    print(
        f"\n{len(ALL)} fenced examples; {len(YAMLS)} YAML checked, "
        f"{len([e for e in SHELLS if e.mark is None])} shell run, "
        f"{len([e for e in SHELLS if e.mark])} shell marked not run"
    )
    assert checked >= 40
