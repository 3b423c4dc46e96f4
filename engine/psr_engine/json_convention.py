"""The one convention of every JSON document psr-engine writes (docs/cli.md, "JSON output"):
camelCase keys, and times as RFC 3339 text in UTC with milliseconds and `Z`
(`2026-11-25T06:00:01.250Z`), as events carry them.

The history's records keep Unix times; this is where a document takes the convention on its
way out: a command's (cli/json_output.py) and the dashboard API's (ui/views.timed). A key
naming a time ends in `At`. At the bottom of the data path, so that both can use it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# Mappings of the user's own names (param, label, variable, output, task names): their keys
# are data, never renamed or converted.
_USER_KEYS = frozenset(
    {
        "params",
        "labels",
        "env",
        "outputs",
        "with",
        "matrix",
        "groups",
        "options",
        "headers",
        "resourceAttributes",
    }
)
# Mappings keyed by task ids, gate names or statuses (`timed_out`): keys kept, values converted.
_NAMED = frozenset({"tasks", "gates", "counts", "byStatus"})
_SNAKE = re.compile(r"(?<=[a-z0-9])_([a-z0-9])")


def rfc3339(seconds: float) -> str:
    """Unix time -> `2026-11-25T06:00:01.250Z`, the form of events' `time`."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def camel(name: str) -> str:
    """`manifest_path` -> `manifestPath`; `with_` -> `with`."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name.rstrip("_"))


def conventional(value: Any, *, named: bool = False) -> Any:
    """`value` with record keys in camelCase and every `...At` Unix time as RFC 3339.
    `named`: value is a mapping whose keys are names (task ids...), kept as they are."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if named or not isinstance(key, str) else camel(key)
            if named:
                out[name] = conventional(item)
            elif name in _USER_KEYS:
                out[name] = item
            elif name in _NAMED and isinstance(item, dict):
                out[name] = conventional(item, named=True)
            elif (
                isinstance(name, str)
                and name.endswith("At")
                and isinstance(item, int | float)
                and not isinstance(item, bool)
            ):
                out[name] = rfc3339(float(item))
            else:
                out[name] = conventional(item)
        return out
    if isinstance(value, list | tuple):
        return [conventional(item) for item in value]
    return value
