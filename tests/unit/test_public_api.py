"""The curated public surface and the cost of importing it."""

from __future__ import annotations

import json
import subprocess
import sys

import psr_engine

PUBLIC = [
    "CloudCostTracker",
    "CodeAnalyzer",
    "DependencyVulnerabilityScanner",
    "ManifestError",
    "PsrError",
    "SecretManagerAdapter",
    "SecretScanner",
    "TemplateManager",
    "TracingManager",
    "WorkflowEngine",
    "WorkflowParser",
    "__version__",
    "set_output",
]

AVAILABLE = [name for name in PUBLIC if name != "__version__"]

HEAVY = (
    "jsonschema",
    "networkx",
    "ruamel",
    "jinja2",
    "anyio",
    "rich",
    "yaml",
    "opentelemetry",
    "boto3",
    "botocore",
    "hvac",
    "azure",
    "dask",
    "distributed",
    "semgrep",
    "bandit",
    "cyclonedx",
    "google",
    "typing",
)


def test_all_is_the_sorted_curated_list():
    assert psr_engine.__all__ == sorted(PUBLIC)


def test_every_available_public_name_resolves_lazily():
    for name in AVAILABLE:
        assert getattr(psr_engine, name) is not None, name


def _modules_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    return json.loads(out)


def test_version_loads_nothing_heavy_and_only_the_cli_entry_of_the_package():
    modules = _modules_after(
        "from psr_engine.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])"
    )
    ours = [m for m in modules if m.startswith("psr_engine")]
    assert ours == [
        "psr_engine",
        "psr_engine._lazy",
        "psr_engine._version",
        "psr_engine.cli",
        "psr_engine.cli.app",
    ]
    assert not [m for m in modules if m.split(".")[0] in HEAVY]
    # Nor argparse (with re, enum and gettext, it was most of --version's imports): the
    # version is printed before any parser is built. (re itself is this script's json's.)
    assert not [m for m in modules if m in ("argparse", "gettext", "typing")]


def test_importing_the_package_is_free():
    modules = _modules_after("import psr_engine")
    assert [m for m in modules if m.startswith("psr_engine")] == [
        "psr_engine",
        "psr_engine._lazy",
        "psr_engine._version",
    ]
