"""Helpers for the manifest tests: small valid manifests, written where a test wants them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

MINIMAL = """\
apiVersion: psr-engine/v1
kind: Workflow
metadata:
  name: demo
spec:
  tasks:
    hello:
      run: echo hello
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(text, name="workflow.yaml") -> the file's path (text is dedented)."""

    def _write(text: str | bytes, name: str = "workflow.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def full_manifest() -> Path:
    """The reference example with every field (tests/unit/manifest/data/full.yaml)."""
    return DATA / "full.yaml"
