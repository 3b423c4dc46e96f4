"""Value types shared by the manifest and the plan: durations, cpu and memory quantities,
resource requests and retry policies.

They live below both stages so that ``plan/`` knows nothing of ``manifest/`` and yet both
speak of the same values. Parsers raise ValueError with a message fit for a user; the
manifest stage turns it into a file:line:column diagnostic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

_DURATION = re.compile(
    r"^(?:(?P<h>[0-9]+(?:\.[0-9]+)?)h)?(?:(?P<m>[0-9]+(?:\.[0-9]+)?)m)?(?:(?P<s>[0-9]+(?:\.[0-9]+)?)s)?$"
)
_DURATION_MS = re.compile(r"^(?P<ms>[0-9]+(?:\.[0-9]+)?)ms$")
_CPU = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<m>m?)$")
_MEMORY = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<unit>Ki|Mi|Gi|Ti|Pi|K|M|G|T|P|k)?$")
_MEMORY_UNITS = {
    None: 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return value


def parse_duration(value: str | int | float) -> float:
    """Seconds from ``90``, ``90s``, ``10m``, ``1h30m``, ``1.5h`` or ``250ms``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 10m or 1h30m")
    if isinstance(value, int | float):
        if _finite(value, "duration") < 0:
            raise ValueError(f"duration {value!r} is negative")
        return float(value)
    text = str(value).strip()
    if (ms := _DURATION_MS.match(text)) is not None:
        return float(ms["ms"]) / 1000.0
    match = _DURATION.match(text)
    if not text or match is None:
        # A bare number given as a string is seconds, like a number.
        try:
            # float() would also take non-ASCII digits, "nan" and "inf": none is a duration.
            if not text.isascii():
                raise ValueError(text)
            number = _finite(float(text), "duration")
        except ValueError:
            raise ValueError(
                f"{value!r} is not a duration; use e.g. 90s, 10m, 1h30m or a number of seconds"
            ) from None
        if number < 0:
            raise ValueError(f"duration {value!r} is negative")
        return number
    hours, minutes, seconds = (float(match[k] or 0) for k in ("h", "m", "s"))
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: float | None) -> str:
    """The shortest readable form: ``850ms``, ``42s``, ``3m05s``, ``1h02m``; ``-`` for none
    (a run or task that has not ended). The one duration format of the console, the history
    commands and the dashboard."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def parse_cpu(value: str | int | float) -> float:
    """Cores from ``2``, ``0.5`` or ``500m`` (millicores, as Kubernetes writes them)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a cpu quantity; use e.g. 1, 0.5 or 500m")
    if isinstance(value, int | float):
        if _finite(value, "cpu") < 0:
            raise ValueError(f"cpu {value!r} is negative")
        return float(value)
    match = _CPU.match(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a cpu quantity; use e.g. 1, 0.5 or 500m")
    number = float(match["n"])
    return number / 1000.0 if match["m"] else number


def parse_memory(value: str | int | float) -> int:
    """Bytes from ``512Mi``, ``2Gi``, ``1G``, ``1500k`` or a number of bytes."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a memory quantity; use e.g. 512Mi, 2Gi or 1G")
    if isinstance(value, int | float):
        if _finite(value, "memory") < 0:
            raise ValueError(f"memory {value!r} is negative")
        return int(value)
    match = _MEMORY.match(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a memory quantity; use e.g. 512Mi, 2Gi or 1G")
    return int(float(match["n"]) * _MEMORY_UNITS[match["unit"]])


def format_memory(size: int) -> str:
    """Binary units, the way the manifest writes them: ``512Mi``, ``1.5Gi``."""
    value = float(size)
    for unit in ("", "Ki", "Mi", "Gi", "Ti"):
        if value < 1024 or unit == "Ti":
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}" if unit else f"{int(size)}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class Resources:
    """What a task asks of the machine, or what the scheduler may hand out."""

    cpu: float = 0.0  # cores
    memory: int = 0  # bytes
    gpu: float = 0.0  # devices; a machine has none unless spec.capacity says so

    def fits_in(self, other: Resources) -> bool:
        return (
            self.cpu <= other.cpu + 1e-9
            and self.memory <= other.memory
            and self.gpu <= other.gpu + 1e-9
        )

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu + other.cpu, self.memory + other.memory, self.gpu + other.gpu)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpu - other.cpu, self.memory - other.memory, self.gpu - other.gpu)

    def to_dict(self) -> dict[str, float | int]:
        found: dict[str, float | int] = {"cpu": self.cpu, "memory": self.memory}
        if self.gpu:
            found["gpu"] = self.gpu
        return found

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> Resources:
        return cls(
            cpu=float(data.get("cpu", 0.0)),
            memory=int(data.get("memory", 0)),
            gpu=float(data.get("gpu", 0.0)),
        )


Backoff = Literal["fixed", "linear", "exponential"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Argo's retryStrategy in GitHub-ish clothes: ``limit`` extra attempts after the first."""

    limit: int = 0
    backoff: Backoff = "fixed"
    delay: float = 1.0  # seconds before the first retry
    max_delay: float | None = None  # cap on any one delay
    jitter: bool = False
    on: tuple[int, ...] = field(default=())  # exit codes that retry; empty = any failure
    on_timeout: bool = False

    def delay_before(self, retry: int) -> float:
        """Delay before retry number ``retry`` (1 = the first retry), jitter not applied."""
        if self.backoff == "fixed":
            delay = self.delay
        elif self.backoff == "linear":
            delay = self.delay * retry
        else:
            delay = self.delay * (2 ** (retry - 1))
        if self.max_delay is not None:
            delay = min(delay, self.max_delay)
        return delay

    def retries_exit_code(self, code: int) -> bool:
        return not self.on or code in self.on

    def to_dict(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "backoff": self.backoff,
            "delay": self.delay,
            "maxDelay": self.max_delay,
            "jitter": self.jitter,
            "on": list(self.on),
            "onTimeout": self.on_timeout,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RetryPolicy:
        max_delay = data.get("maxDelay")
        return cls(
            limit=int(data.get("limit", 0)),  # type: ignore[call-overload]
            backoff=data.get("backoff", "fixed"),  # type: ignore[arg-type]
            delay=float(data.get("delay", 1.0)),  # type: ignore[arg-type]
            max_delay=None if max_delay is None else float(max_delay),  # type: ignore[arg-type]
            jitter=bool(data.get("jitter", False)),
            on=tuple(int(c) for c in data.get("on", ())),  # type: ignore[attr-defined]
            on_timeout=bool(data.get("onTimeout", False)),
        )


def capacity_problems(
    task: str, wanted: Resources, capacity: Resources, *, whose: str
) -> list[tuple[str, str, str]]:
    """(field, message, hint) for cpu and for memory when a task asks for more than the whole
    capacity: it could never start. `whose` names the capacity: "spec.capacity's", "this
    machine's". The one rule the builder (spec.capacity) and the planner (any other) apply."""
    found = []
    if wanted.cpu > capacity.cpu + 1e-9:
        found.append(
            (
                "cpu",
                f"task {task!r} requests {wanted.cpu:g} cpu, more than {whose} "
                f"{capacity.cpu:g}: it could never start",
                "lower the request or raise spec.capacity.cpu",
            )
        )
    if wanted.memory > capacity.memory:
        found.append(
            (
                "memory",
                f"task {task!r} requests {format_memory(wanted.memory)} of memory, more than "
                f"{whose} {format_memory(capacity.memory)}: it could never start",
                "lower the request or raise spec.capacity.memory",
            )
        )
    if wanted.gpu > capacity.gpu + 1e-9:
        found.append(
            (
                "gpu",
                f"task {task!r} requests {wanted.gpu:g} gpu, more than {whose} "
                f"{capacity.gpu:g}: it could never start",
                "set spec.capacity.gpu to the GPUs of this machine, or run it on the dask "
                "executor with workers started with --resources gpu=N",
            )
        )
    return found
