"""Executors run task attempts as processes: ``local`` (this machine) and ``fake`` (scripted
exit codes, no process, to test a manifest's logic fast). Others (dask) come from plug-ins.

``get_executor`` imports the implementation it returns, so importing this package is cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from psr_engine.errors import ExecutionError
from psr_engine.executors.base import Executor, ProcessResult, ProcessSpec
from psr_engine.plugins import BUILTIN

# class name -> module, for lazy attribute access; the executors themselves are listed once,
# in the plug-in registry.
_LAZY = {
    target.partition(":")[2]: target.partition(":")[0]
    for target, _ in BUILTIN["executors"].values()
}

__all__ = [
    "Executor",
    "FakeExecutor",
    "LocalExecutor",
    "ProcessResult",
    "ProcessSpec",
    "get_executor",
]


def get_executor(name: str, **options: Any) -> Executor:
    """A new executor of the given type, configured with ``options`` (keyword arguments).

    Found through the plug-in registry (psr_engine.plugins: the core's own executors, then the
    'psr_engine.executors' entry-point group). Raises ExecutionError for an unknown name.
    """
    from psr_engine.plugins import PluginError, names, resolve

    try:
        factory = resolve("executors", name)
    except PluginError as error:
        if name in names("executors"):
            raise ExecutionError(str(error)) from None  # known, but its extra is missing
        known = ", ".join(names("executors"))
        raise ExecutionError(
            f"unknown executor {name!r}: psr-engine ships {known}; other executors are "
            "installed as plug-ins in the 'psr_engine.executors' entry-point group"
        ) from None
    executor: Executor = factory(**options)
    return executor


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'psr_engine.executors' has no attribute {name!r}")
    return getattr(import_module(module), name)
