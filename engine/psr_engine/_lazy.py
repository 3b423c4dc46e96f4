"""Public names loaded on first use (PEP 562), for the packages whose imports must stay free:
`psr_engine` itself (start-up), `psr_engine.secrets`, `psr_engine.tracing`. No `typing`
import here: it costs start-up."""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def attribute_loader(
    package: str, table: dict[str, str], namespace: dict[str, object]
) -> Callable[[str], Any]:
    """A module `__getattr__`: each name of `table` is imported from the module it maps to
    and kept in `namespace` (the package's globals), so the next lookup is plain."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
