"""docs/features/dashboard.md: its API reference is the OpenAPI document's (regenerate it with
`python -m psr_engine.ui.openapi`), and the screenshots it shows exist."""

from __future__ import annotations

import re
from pathlib import Path

from psr_engine.ui.openapi import markdown

DOC = Path(__file__).parents[3] / "docs" / "features" / "dashboard.md"
START, END = "<!-- api-reference:start -->", "<!-- api-reference:end -->"


def test_the_api_reference_is_the_openapi_documents() -> None:
    text = DOC.read_text()
    written = text[text.index(START) + len(START) : text.index(END)].strip()
    assert written == markdown().strip(), "run: python -m psr_engine.ui.openapi"


def test_every_screenshot_the_page_shows_exists() -> None:
    images = re.findall(r"\]\((img/[^)]+)\)", DOC.read_text())
    assert images
    for image in images:
        assert (DOC.parent / image).is_file(), image
