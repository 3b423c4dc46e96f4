"""Fixtures for the secret scanner's tests: the data folders and a single-process scanner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from psr_engine.gates.secrets import SecretScanner

DATA = Path(__file__).resolve().parents[4] / "tests" / "data" / "secrets"
PLANTED = DATA / "planted"
PLACEHOLDERS = DATA / "placeholders"


@pytest.fixture
def scanner() -> SecretScanner:
    # One process: unit tests stay cheap; the pool has its own test.
    return SecretScanner(workers=1)


@pytest.fixture(scope="session")
def expected() -> list[dict[str, object]]:
    return json.loads((PLANTED / "EXPECTED.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def planted_findings():
    return SecretScanner(workers=1).scan_directory(PLANTED)
