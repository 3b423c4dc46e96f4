"""The plug-in registry: executors, sinks, secret providers and gate tools are entries with a
factory, found by name. The core's own come through the same door as third parties' (entry-point
groups psr_engine.executors, psr_engine.sinks, psr_engine.secrets, psr_engine.gates).

Lookups are lazy and cached: nothing is imported until a name is asked for, and a missing
optional dependency becomes a message naming the pip command that installs it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from psr_engine.errors import PsrError

GROUPS = ("executors", "sinks", "secrets", "gates")

# group -> name -> ("module:attribute", extra that installs its dependencies or "")
BUILTIN: dict[str, dict[str, tuple[str, str]]] = {
    "executors": {
        "local": ("psr_engine.executors.local:LocalExecutor", ""),
        "fake": ("psr_engine.executors.fake:FakeExecutor", ""),
        "dask": ("psr_engine.executors.dask:DaskExecutor", "dask"),
    },
    "sinks": {
        "console": ("psr_engine.events.sinks.console:ConsoleSink", ""),
        "jsonl": ("psr_engine.events.sinks.jsonl:JsonlSink", ""),
        "webhook": ("psr_engine.events.sinks.webhook:WebhookSink", ""),
        "history": ("psr_engine.events.sinks.history:HistorySink", ""),
        "junit": ("psr_engine.events.sinks.junit:JunitSink", ""),
        "summary": ("psr_engine.events.sinks.summary:SummarySink", ""),
        "otel": ("psr_engine.tracing.sink:OtelSink", "otel"),
    },
    "secrets": {
        "aws": ("psr_engine.secrets.aws:AwsProvider", "aws"),
        "azure": ("psr_engine.secrets.azure:AzureProvider", "azure"),
        "env": ("psr_engine.secrets.env:EnvProvider", ""),
        "file": ("psr_engine.secrets.file:FileProvider", ""),
        "gcp": ("psr_engine.secrets.gcp:GcpProvider", "gcp"),
        "vault": ("psr_engine.secrets.vault:VaultProvider", "vault"),
    },
    "gates": {},
}


class PluginError(PsrError):
    exit_code = 2


@functools.cache
def _entry_points(group: str) -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=f"psr_engine.{group}")}


def names(group: str) -> list[str]:
    return sorted({*BUILTIN[group], *_entry_points(group)})


def resolve(group: str, name: str) -> Any:
    """The factory registered under `name` in `group`."""
    if group not in BUILTIN:
        raise PluginError(f"unknown plug-in group {group!r}")
    builtin = BUILTIN[group].get(name)
    if builtin is not None:
        target, extra = builtin
        module, _, attribute = target.partition(":")
        try:
            return getattr(import_module(module), attribute)
        except ImportError as error:
            hint = f": pip install 'psr-engine[{extra}]'" if extra else ""
            raise PluginError(
                f"{group[:-1]} {name!r} needs a missing package ({error.name}){hint}"
            ) from None
    entry = _entry_points(group).get(name)
    if entry is None:
        known = ", ".join(names(group)) or "none"
        raise PluginError(f"unknown {group[:-1]} {name!r} (known: {known})")
    return entry.load()


def create_sink(config: Mapping[str, Any]) -> Any:
    options = {k: v for k, v in config.items() if k != "type"}
    return resolve("sinks", str(config["type"]))(**options)
