"""The manifest stage: workflow.yaml (or .json) -> a validated, typed Manifest.

Importing this package is cheap: the YAML parser and jsonschema load on first use.
"""

from psr_engine.manifest.model import (
    CacheSpec,
    GateSpec,
    JsonPath,
    Manifest,
    MatrixSpec,
    ParamSpec,
    Position,
    SecretSpec,
    Source,
    TaskSpec,
)
from psr_engine.manifest.params import resolve_params
from psr_engine.manifest.parser import ValidationResult, WorkflowParser, load_manifest

__all__ = [
    "CacheSpec",
    "GateSpec",
    "JsonPath",
    "Manifest",
    "MatrixSpec",
    "ParamSpec",
    "Position",
    "SecretSpec",
    "Source",
    "TaskSpec",
    "ValidationResult",
    "WorkflowParser",
    "load_manifest",
    "resolve_params",
]
