"""docs/architecture.md names only what exists (issue 16, item 7: it described `ui/`,
`schemas/event.v1.json`, `run/runner.py` and `expressions.py` when none existed). Every
`name.py` in its layout is a module of the package it is listed under (or below it), every
top-level path exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "engine" / "psr_engine"
DOC = ROOT / "docs" / "architecture.md"
MODULE = re.compile(r"(?<![\w./-])([a-z_][a-z0-9_]*)\.py\b")
ENTRY = re.compile(r"^  ([a-z_][a-z0-9_]*)(/|\.py)\s")
TOP = re.compile(r"^([A-Za-z][\w.-]*(?:/[\w.-]+)*/?)\s{2,}")


def layout() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    return block.splitlines()


def test_every_module_the_layout_names_exists():
    missing = []
    folder = PACKAGE
    in_package = False
    for line in layout():
        if line.startswith("engine/psr_engine/"):
            in_package = True
            continue
        if not in_package:
            continue
        entry = ENTRY.match(line)
        if entry:
            folder = PACKAGE / entry[1] if entry[2] == "/" else PACKAGE
            if entry[2] == "/" and not folder.is_dir():
                missing.append(f"{entry[1]}/")
        for name in MODULE.findall(line):
            if not any(folder.rglob(f"{name}.py")):
                missing.append(f"{folder.relative_to(PACKAGE)}/{name}.py")
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"


def test_every_top_level_path_the_layout_names_exists():
    missing = []
    for line in layout():
        if line.startswith("engine/"):
            break
        top = TOP.match(line)
        if top and not (ROOT / top[1]).exists():
            missing.append(top[1])
    assert not missing, missing
