"""Help is as wide as argparse makes it (shutil.get_terminal_size), without importing shutil:
cli/app.py reads the width itself, by the same rule."""

from __future__ import annotations

import shutil

import pytest

from psr_engine.cli.app import build_parser, terminal_columns


@pytest.mark.parametrize("columns", [None, "50", "132", "0", "-3", "wide"])
def test_the_width_is_shutils(monkeypatch, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_columns() == shutil.get_terminal_size().columns


def test_help_wraps_at_that_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    text = build_parser(only="validate").format_help()
    assert max(len(line) for line in text.splitlines()) <= 58
    monkeypatch.setenv("COLUMNS", "200")
    assert build_parser(only="validate").format_help() != text
