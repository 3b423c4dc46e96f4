"""A scan never leaves the folder it was given: the one rule every gate applies to links.

A symbolic link inside a scanned folder may point anywhere (`creds.py -> ~/.aws/...`), and a
scanner that follows it reads, and reports, what lies outside: the code gate once printed a
password found that way. So the code and secret scans follow no link at all (a target inside
the folder is scanned as itself anyway), the dependency scan reads a link only when its target
stays inside, and every link left out is named in the gate's report as skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

SHOWN_LINKS = 5  # links named in a note; the rest are counted


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether ``path``, every link on the way resolved, stays inside ``root``."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def python_files(target: Path, *, excluded_dirs: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The ``.py``/``.pyw`` files under ``target`` that are not links, and the links found
    (files and folders, relative to ``target``), without entering a linked folder."""
    skip = set(excluded_dirs)
    files: list[str] = []
    links: list[str] = []
    for folder, dirs, names in os.walk(target, followlinks=False):
        kept = []
        for name in sorted(dirs):
            path = os.path.join(folder, name)
            if os.path.islink(path):
                links.append(os.path.relpath(path, target))
            elif name not in skip:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.islink(path):
                links.append(os.path.relpath(path, target))
            elif name.endswith((".py", ".pyw")):
                files.append(path)
    return files, links


def skipped_links_note(what: str, links: Sequence[str]) -> str:
    """``3 symbolic links not followed by the code scan (it stays inside its folder): a, b, c``"""
    from psr_engine.printable import printable

    count = len(links)
    shown = ", ".join(printable(link) for link in links[:SHOWN_LINKS])
    more = f" and {count - SHOWN_LINKS} more" if count > SHOWN_LINKS else ""
    return (
        f"{count} symbolic link{'s' if count != 1 else ''} not followed by the {what} "
        f"(a scan stays inside its folder): {shown}{more}"
    )
