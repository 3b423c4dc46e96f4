"""Schemas for the SARIF writer's tests, read from tests/data/schemas (copies, see SOURCE.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parents[3] / "data" / "schemas"


def _validator(name: str, cls: type) -> Any:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="session")
def sarif_errors() -> Callable[[dict], list[str]]:
    """Every schema error of a SARIF log against SchemaStore's (Draft 7) and OASIS' (Draft 4)."""
    validators = [
        _validator("sarif-2.1.0.json", jsonschema.Draft7Validator),
        _validator("sarif-schema-2.1.0.oasis.json", jsonschema.Draft4Validator),
    ]

    def errors(log: dict) -> list[str]:
        return [
            f"{list(error.absolute_path)}: {error.message}"
            for validator in validators
            for error in validator.iter_errors(log)
        ]

    return errors
