"""Which files a secret scan reads: a tree walk that honours .gitignore and .psrignore files.

Ignore files apply to their own folder and below (nested ones too, deeper files winning, as in
git); an ignored folder is never entered, so nothing under it can be re-included, as in git.
``.git/`` is always skipped, and so are symbolic links (they may point out of the tree or loop).
Binaries and oversized files are recognised when read (see ``read_text``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORE_FILES = (".gitignore", ".psrignore")
ALWAYS_SKIPPED_DIRS = frozenset({".git"})
BINARY_PROBE_BYTES = 8192


@dataclass(frozen=True, slots=True)
class _Scope:
    """The ignore patterns of one folder (``base``: its path from the root, '' for the root)."""

    base: str
    spec: Any  # pathspec.GitIgnoreSpec, imported lazily


def _spec(lines: Iterable[str]) -> Any:
    import pathspec  # lazy: only a tree walk needs it

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _load_scope(folder: str, base: str) -> _Scope | None:
    lines: list[str] = []
    for name in IGNORE_FILES:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                lines.extend(fh.read().splitlines())
        except OSError:
            continue
    return _Scope(base, _spec(lines)) if lines else None


def _ignored(rel: str, scopes: list[_Scope]) -> bool:
    verdict = False
    for scope in scopes:
        sub = rel[len(scope.base) + 1 :] if scope.base else rel
        result = scope.spec.check_file(sub)
        if result.include is not None:  # the deepest scope with a matching pattern decides
            verdict = result.include
    return verdict


def iter_files(
    root: Path, *, exclude: Iterable[str] = (), links: list[str] | None = None
) -> Iterator[tuple[str, str, int]]:
    """Yield (absolute path, path relative to root with '/', size) of every file to scan.

    ``exclude``: extra gitignore-style patterns, relative to the root. ``links``: gets the
    relative path of each symbolic link passed over (not ignored ones), for the report.
    """
    top: list[_Scope] = []
    exclude = list(exclude)
    if exclude:
        top.append(_Scope("", _spec(exclude)))
    yield from _walk(str(root), "", top, links if links is not None else [])


def _walk(
    folder: str, rel_folder: str, inherited: list[_Scope], links: list[str]
) -> Iterator[tuple[str, str, int]]:
    own = _load_scope(folder, rel_folder)
    scopes = [*inherited, own] if own else inherited
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return  # unreadable folder: nothing we can scan
    subfolders: list[tuple[str, str]] = []
    for entry in entries:
        rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
        try:
            if entry.is_symlink():
                if not _ignored(rel, scopes):
                    links.append(rel)
                continue
            if entry.is_dir():
                if entry.name not in ALWAYS_SKIPPED_DIRS and not _ignored(rel + "/", scopes):
                    subfolders.append((entry.path, rel))
            elif entry.is_file() and not _ignored(rel, scopes):
                yield entry.path, rel, entry.stat().st_size
        except OSError:
            continue
    for path, rel in subfolders:
        yield from _walk(path, rel, scopes, links)


def is_binary(path: str) -> bool:
    """A NUL byte in the first 8 KiB (what ``read_text`` calls binary); False if unreadable."""
    try:
        with open(path, "rb") as fh:
            return b"\0" in fh.read(BINARY_PROBE_BYTES)
    except OSError:
        return False


def read_text(path: str, *, max_bytes: int) -> tuple[str | None, str]:
    """The file's text, or None and why not: 'too_large', 'binary' or 'unreadable'."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        return None, "unreadable"
    if len(data) > max_bytes:
        return None, "too_large"
    if b"\0" in data[:BINARY_PROBE_BYTES]:
        return None, "binary"
    return data.decode("utf-8", errors="replace"), ""
