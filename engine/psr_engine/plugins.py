"""The plug-in registry: executors, sinks, secret providers and gate tools are entries with a
factory, found by name, and may have a validator that checks their options when the manifest is
compiled (Dagu's RegisterExecutor(type, factory, validator)), so a bad option fails `validate`,
not the run. The core's own come through the same door as third parties' (entry-point groups
psr_engine.executors, psr_engine.sinks, psr_engine.secrets, psr_engine.gates): an entry point
names a factory, or a `Plugin` holding its factory and its validator; `register` adds one in
process (an embedding application, a test).

Lookups are lazy and cached: nothing is imported until a name is asked for, and a missing
optional dependency becomes a message naming the pip command that installs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import PluginError as PluginError

if TYPE_CHECKING:
    from psr_engine.settings import PluginConfig

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


# Executors that place each attempt by its resources themselves (on a cluster's workers): the
# engine's capacity (spec.capacity, this machine's) neither limits nor checks their tasks.
SELF_PLACING_EXECUTORS = frozenset({"dask"})

# group -> name -> "module:attribute" of the function that checks the plug-in's options at
# compile time (light modules: a validator never loads the plug-in's heavy dependencies).
# Only checks the schema cannot make: the built-in sinks' options are all in the schema.
VALIDATORS: dict[str, dict[str, str]] = {
    "executors": {
        "fake": "psr_engine.executors.fake:validate_options",
        "dask": "psr_engine.executors.dask:validate_options",
    },
    "sinks": {},
    "secrets": {},
    "gates": {},
}

# (the option's name, or "" for the entry as a whole; what is wrong with it)
OptionProblem = tuple[str, str]
OptionsValidator = Callable[[Mapping[str, Any]], Iterable[OptionProblem]]


@dataclass(frozen=True, slots=True)
class Plugin:
    """A plug-in's factory and the validator of its options. An entry point may name one
    of these instead of a bare factory (which then has no validator)."""

    factory: Callable[..., Any]
    validator: OptionsValidator | None = None


_REGISTERED: dict[str, dict[str, Plugin]] = {group: {} for group in GROUPS}


def register(
    group: str,
    name: str,
    factory: Callable[..., Any],
    *,
    validator: OptionsValidator | None = None,
) -> None:
    """Add a plug-in in this process; it wins over a built-in or entry point of that name."""
    if group not in BUILTIN:
        raise PluginError(f"unknown plug-in group {group!r}")
    _REGISTERED[group][name] = Plugin(factory, validator)


def unregister(group: str, name: str) -> None:
    _REGISTERED[group].pop(name, None)


@functools.cache
def _entry_points(group: str) -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=f"psr_engine.{group}")}


def names(group: str) -> list[str]:
    return sorted({*BUILTIN[group], *_REGISTERED[group], *_entry_points(group)})


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


def _plugin(group: str, name: str) -> Plugin:
    if group not in BUILTIN:
        raise PluginError(f"unknown plug-in group {group!r}")
    registered = _REGISTERED[group].get(name)
    if registered is not None:
        return registered
    builtin = BUILTIN[group].get(name)
    if builtin is not None:
        target, extra = builtin
        try:
            factory = _load(target)
        except ImportError as error:
            hint = f": pip install 'psr-engine[{extra}]'" if extra else ""
            raise PluginError(
                f"{group[:-1]} {name!r} needs a missing package ({error.name}){hint}"
            ) from None
        return Plugin(factory)
    entry = _entry_points(group).get(name)
    if entry is None:
        known = ", ".join(names(group)) or "none"
        raise PluginError(f"unknown {group[:-1]} {name!r} (known: {known})")
    loaded = entry.load()
    return loaded if isinstance(loaded, Plugin) else Plugin(loaded)


def resolve(group: str, name: str) -> Any:
    """The factory registered under `name` in `group`."""
    return _plugin(group, name).factory


def validator(group: str, name: str) -> OptionsValidator | None:
    """The function that checks the options of plug-in `name`, if it has one. A built-in's
    comes from its light module, without loading the plug-in's dependencies."""
    if name not in _REGISTERED.get(group, {}) and name in BUILTIN.get(group, {}):
        target = VALIDATORS[group].get(name)
        checker: OptionsValidator | None = _load(target) if target else None
        return checker
    return _plugin(group, name).validator


def check_options(group: str, name: str, options: Mapping[str, Any]) -> list[OptionProblem]:
    """What plug-in `name`'s validator finds wrong with `options`; [] when it has none, or
    when the plug-in is not installed here (a lint job need not install every plug-in; the
    run says so if it is missing)."""
    try:
        checker = validator(group, name)
    except PluginError:
        return []
    return list(checker(options)) if checker is not None else []


def create_sink(config: PluginConfig) -> Any:
    """A new sink of the configured type, built with its options."""
    return resolve("sinks", config.type)(**config.options)
