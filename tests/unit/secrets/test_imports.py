"""Start-up budget: the secrets package and every provider module import no SDK."""

from __future__ import annotations

import subprocess
import sys

from psr_engine.secrets import PROVIDERS


def test_provider_modules_import_no_sdk_at_import_time() -> None:
    modules = sorted({target.partition(":")[0] for target in PROVIDERS.values()})
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "import psr_engine.secrets.adapter, psr_engine.secrets.masker\n"
        + "heavy = [m for m in sys.modules if m.split('.')[0] in "
        + "('boto3', 'botocore', 'hvac', 'requests', 'google', 'anyio')"
        + " or m.startswith('azure')]\n"
        + "print(','.join(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_registered_provider_follows_the_protocol() -> None:
    from psr_engine.secrets import load_provider
    from psr_engine.secrets.base import SecretProvider

    for name in PROVIDERS:
        provider = load_provider(name)
        assert isinstance(provider, SecretProvider)
        assert provider.name == name


def test_a_provider_from_the_entry_point_group_resolves_like_the_core_ones(monkeypatch):
    import anyio

    from psr_engine import plugins
    from psr_engine.secrets import SecretRef, load_provider, resolve_all

    class Demo:
        name = "demo"

        def validate(self, options):
            return []

        async def get(self, ref):
            return f"value-of-{ref.options['name']}"

    class EntryPoint:
        def load(self):
            return Demo

    monkeypatch.setattr(
        plugins, "_entry_points", lambda group: {"demo": EntryPoint()} if group == "secrets" else {}
    )
    assert isinstance(load_provider("demo"), Demo)
    values = anyio.run(resolve_all, [SecretRef("X", "demo", {"name": "abc"})])
    assert values == {"X": "value-of-abc"}
