"""The manifest stage's front door: text or file -> validated Manifest.

``load_manifest(path)`` raises ManifestError listing every problem; ``WorkflowParser`` offers
the same for text and JSON, and ``validate_workflow`` that never raises for bad input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from psr_engine.errors import Diagnostic, ManifestError
from psr_engine.manifest.loader import Format, LoadedDocument, load_document, load_text
from psr_engine.manifest.model import Manifest, Source

TextOrPath = str | os.PathLike[str]
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The verdict on a manifest: ok with the Manifest, or every problem found."""

    ok: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    manifest: Manifest | None = None


def load_manifest(path: TextOrPath) -> Manifest:
    """Read, schema-check and build the manifest at ``path``; ManifestError lists every problem."""
    return manifest_from_document(load_document(path))


def manifest_from_document(document: LoadedDocument) -> Manifest:
    """Schema-check and build a loaded document (all schema problems first, then the rest)."""
    from psr_engine.manifest.builder import build_manifest
    from psr_engine.manifest.schema import check_schema

    check_schema(document)
    source = Source(
        path=document.path,
        digest=document.digest,
        positions=document.positions,
        texts=document.texts,
    )
    return build_manifest(document.data, source)


class WorkflowParser:
    """Parse workflow manifests from files or text (YAML or JSON) into Manifests."""

    def parse_yaml(self, text_or_path: TextOrPath, *, path: str | None = None) -> Manifest:
        """A manifest from YAML text, or from the YAML file ``text_or_path`` names.

        ``path`` names text in messages and anchors its relative paths (default: "<string>",
        anchored at the current folder).
        """
        return self._parse(text_or_path, path=path, format="yaml")

    def parse_json(self, text_or_path: TextOrPath, *, path: str | None = None) -> Manifest:
        """A manifest from JSON text, or from the JSON file ``text_or_path`` names."""
        return self._parse(text_or_path, path=path, format="json")

    def parse_file(self, path: TextOrPath) -> Manifest:
        """A manifest from a file: JSON if its name ends in .json, else YAML."""
        return load_manifest(path)

    def validate_workflow(self, path_or_text: TextOrPath) -> ValidationResult:
        """Check a manifest file or text; never raises for bad input."""
        try:
            if _is_path(path_or_text):
                manifest = self.parse_file(path_or_text)
            else:
                text = str(path_or_text)
                json_like = text.lstrip().startswith("{")
                manifest = self._parse(text, path=None, format="json" if json_like else "yaml")
        except ManifestError as exc:
            return ValidationResult(ok=False, diagnostics=list(exc.diagnostics))
        return ValidationResult(ok=True, diagnostics=[], manifest=manifest)

    def _parse(self, text_or_path: TextOrPath, *, path: str | None, format: Format) -> Manifest:
        if _is_path(text_or_path):
            return manifest_from_document(load_document(text_or_path, format=format))
        document = load_text(str(text_or_path), path=path or "<string>", format=format)
        return manifest_from_document(document)


def _is_path(value: TextOrPath) -> bool:
    """A PathLike, or one line of text naming an existing file or a .yaml/.yml/.json file."""
    if isinstance(value, os.PathLike):  # a pathlib path is one (without importing pathlib)
        return True
    text = str(value)
    if "\n" in text or not text.strip():
        return False
    return text.lower().endswith(_MANIFEST_SUFFIXES) or os.path.isfile(text)
