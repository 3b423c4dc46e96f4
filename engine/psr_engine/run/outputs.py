"""Task outputs: GitHub's ``$GITHUB_OUTPUT`` format, under the name ``$PSR_OUTPUT``.

A task appends lines to the file named by ``$PSR_OUTPUT``::

    rows=42
    report<<EOF_7f3a
    line one
    line two
    EOF_7f3a

and later tasks read them as ``tasks.<name>.outputs.<key>`` (strings). Python tasks may call
``psr_engine.set_output(key, value)``, which writes the same format. Standard library only:
a task's interpreter imports this module, and it must stay cheap.
"""

from __future__ import annotations

import contextlib
import os

ENV_VAR = "PSR_OUTPUT"
_HEREDOC = "<<"


def parse_outputs(text: str) -> dict[str, str]:
    """The outputs written in ``text``: ``key=value`` lines and ``key<<DELIM`` ... ``DELIM``
    blocks. Later keys win; blank lines are ignored.

    Raises ValueError naming the line for a malformed line, an empty key or delimiter, or a
    block that is never closed.
    """
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index].removesuffix("\r")
        number = index + 1
        index += 1
        if not line.strip():
            continue
        equals, heredoc = line.find("="), line.find(_HEREDOC)
        # GitHub's rule: whichever marker comes first decides the form.
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            key, value = line[:equals], line[equals + 1 :]
            _check_key(key, number)
            outputs[key] = value
            continue
        if heredoc < 0:
            # Not the line itself, nor its start: a task may have written a secret there,
            # and a prefix of it would escape masking.
            raise ValueError(
                f"line {number}: expected key=value or key<<DELIMITER, got a line of "
                f"{len(line)} characters with neither '=' nor '<<'"
            )
        key, delimiter = line[:heredoc], line[heredoc + len(_HEREDOC) :]
        _check_key(key, number)
        if not delimiter:
            raise ValueError(f"line {number}: {key}<< needs a delimiter, e.g. {key}<<EOF")
        block: list[str] = []
        while index < len(lines) and lines[index].removesuffix("\r") != delimiter:
            block.append(lines[index].removesuffix("\r"))
            index += 1
        if index == len(lines):
            raise ValueError(
                f"line {number}: the block {key}<<{delimiter} is never closed: "
                f"end it with a line holding only {delimiter}"
            )
        index += 1  # the closing delimiter
        outputs[key] = "\n".join(block)
    return outputs


def read_outputs(path: str, *, max_bytes: int = 1 << 20) -> dict[str, str]:
    """The outputs in the file at ``path``; {} when it does not exist.

    Raises ValueError when the file is larger than ``max_bytes`` or malformed (see
    parse_outputs). Bytes that are not UTF-8 are replaced, as outputs are strings.
    """
    data = _read(path, max_bytes)
    return {} if data is None else _parsed(path, data)


def take_outputs(path: str, *, read: bool = True, max_bytes: int = 1 << 20) -> dict[str, str]:
    """read_outputs (when ``read``), then the file is removed: the task wrote it itself, maybe
    with a secret in it, and once read its values live on masked in events and history (as
    GitHub's do). A task that wrote no outputs costs one look at the file system, not two."""
    data: bytes | None = b""  # not known to be absent: remove whatever is there
    try:
        if not read:
            return {}
        data = _read(path, max_bytes)
        return {} if data is None else _parsed(path, data)
    finally:
        if data is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _read(path: str, max_bytes: int) -> bytes | None:
    # os.open/os.read, not open(): no file object, once per task (most files are empty).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise ValueError(f"{path}: outputs are larger than {max_bytes} bytes")
    return data


def _parsed(path: str, data: bytes) -> dict[str, str]:
    try:
        return parse_outputs(data.decode("utf-8", "replace"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def set_output(key: str, value: object) -> None:
    """Append one output of the running task to the file named by ``$PSR_OUTPUT``.

    ``value`` is written as ``str(value)``; a value with a line break is written as a block
    with a random delimiter. Raises RuntimeError outside a psr-engine task, ValueError for a
    key that cannot be written (empty, or holding ``=``, ``<<`` or a line break).
    """
    path = os.environ.get(ENV_VAR)
    if not path:
        raise RuntimeError(
            f"set_output({key!r}, ...) needs ${ENV_VAR}, which psr-engine sets for every task; "
            "call it from a task run by psr-engine"
        )
    if not key or any(mark in key for mark in ("=", _HEREDOC, "\n", "\r")):
        raise ValueError(f"output key {key!r} must be non-empty, without '=', '<<' or line breaks")
    text = value if isinstance(value, str) else str(value)
    if "\n" in text or "\r" in text:
        delimiter = _delimiter(text)
        record = f"{key}{_HEREDOC}{delimiter}\n{text}\n{delimiter}\n"
    else:
        record = f"{key}={text}\n"
    # errors="replace": a lone surrogate (text decoded from bad bytes) must not fail the task.
    with open(path, "a", encoding="utf-8", errors="replace", newline="") as file:
        file.write(record)


def _delimiter(text: str) -> str:
    while True:  # a collision with 64 random bits is not going to happen twice
        delimiter = f"PSR_EOF_{os.urandom(8).hex()}"  # secrets.token_hex, without its imports
        if delimiter not in text:
            return delimiter


def _check_key(key: str, number: int) -> None:
    if not key.strip():
        raise ValueError(f"line {number}: an output needs a name before '=' or '<<'")
