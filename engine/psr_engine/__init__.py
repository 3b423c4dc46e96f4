"""psr-engine: a declarative workflow engine.

The public names are loaded lazily (PEP 562) so that ``import psr_engine`` and
``psr-engine --version`` stay cheap: each name's module, and the heavy libraries it
needs, are imported on first use.
"""

from __future__ import annotations

from psr_engine._lazy import attribute_loader
from psr_engine._version import __version__ as __version__

# name -> module that defines it
_LAZY: dict[str, str] = {
    "CloudCostTracker": "psr_engine.cost.actuals",
    "CodeAnalyzer": "psr_engine.gates.code",
    "DependencyVulnerabilityScanner": "psr_engine.gates.dependencies",
    "ManifestError": "psr_engine.errors",
    "PsrError": "psr_engine.errors",
    "SecretManagerAdapter": "psr_engine.secrets",
    "SecretScanner": "psr_engine.gates.secrets",
    "TemplateManager": "psr_engine.templates",
    "TracingManager": "psr_engine.tracing",
    "WorkflowEngine": "psr_engine.run",
    "WorkflowParser": "psr_engine.manifest.parser",
    "set_output": "psr_engine.run.outputs",
}

__all__ = sorted(["__version__", *_LAZY])


__getattr__ = attribute_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return __all__
