"""The ``file`` provider: a secret in a local dotenv, JSON, YAML or plain-text file.

The format follows the extension (``.json``; ``.yaml``/``.yml``; anything else is dotenv)
unless ``format`` says otherwise; ``format: text`` reads the whole file as one value (a
Docker-style secret file). A dotenv file without a single ``KEY=value`` line is such a bare
value too (``/run/secrets/db_password``): its content is never taken for field names, which
messages and listings would show. A file that group or others may read is refused:
a secret nobody protects is a secret already leaked.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Mapping
from typing import Any

from psr_engine.secrets.base import (
    ProviderError,
    SecretRef,
    check_fields,
    option,
    pick_field,
)

FORMATS = ("dotenv", "json", "yaml", "text")
_KNOWN = ("path", "key", "format", "allowInsecure", "baseDir")


def detect_format(path: str, explicit: str | None = None) -> str:
    """The format of a secret file: ``explicit`` when given, else by extension."""
    if explicit:
        return explicit
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json":
        return "json"
    if ext in (".yaml", ".yml"):
        return "yaml"
    return "dotenv"


class FileProvider:
    """Reads ``key`` from the secret file at ``path`` (relative to ``baseDir`` or the cwd)."""

    name = "file"
    path_field = "path"

    def validate(self, options: Mapping[str, Any]) -> list[str]:
        errors = check_fields(
            options,
            required=("path",),
            strings=("path", "key", "format", "baseDir"),
            known=_KNOWN,
        )
        fmt = options.get("format")
        if fmt is not None and fmt not in FORMATS:
            errors.append(f"field 'format' must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if fmt == "text" and options.get("key"):
            errors.append("a text file holds one value: drop 'key' or use another format")
        insecure = options.get("allowInsecure")
        if insecure is not None and not isinstance(insecure, bool):
            errors.append("field 'allowInsecure' must be true or false")
        return errors

    async def get(self, ref: SecretRef) -> str:
        path = self._path(ref.options, str(ref.options.get("path") or ""))
        fmt = detect_format(path, ref.options.get("format"))
        text = self._read(path, ref.name, allow_insecure=bool(ref.options.get("allowInsecure")))
        if fmt == "text" or (fmt == "dotenv" and _is_bare(text)):
            if ref.options.get("key"):
                raise self._error(
                    "invalid",
                    ref.name,
                    f"{path} holds one bare value, not KEY=value fields",
                    hint="drop `key` to receive the whole file",
                )
            return text[:-1] if text.endswith("\n") else text
        fields = self._parse(text, fmt, path, ref.name)
        return pick_field(fields, ref.options.get("key"), secret=ref.name, provider=self.name)

    async def put(
        self, path: str, value: str | Mapping[str, str], *, key: str | None = None, **options: Any
    ) -> None:
        """Set ``key`` (or every field of a mapping) in the file, creating it with mode 600.
        The file is rewritten whole, atomically: comments in a dotenv file are not kept."""
        full = self._path(options, path)
        fmt = detect_format(full, options.get("format"))
        if fmt == "text":
            if key is not None or not isinstance(value, str):
                raise self._error("invalid", path, "a text secret file holds one string value")
            _write_private(full, value + "\n")
            return
        fields = self._current(full, fmt, path, options)
        if key is not None and isinstance(value, str):
            fields[key] = value
        elif key is None and isinstance(value, Mapping):
            fields.update(value)
        else:
            raise self._error(
                "invalid", path, "give a key and a string, or a mapping of fields without key"
            )
        _write_private(full, _dump(fields, fmt))

    async def delete(self, path: str, **options: Any) -> None:
        """Remove field ``key`` from the file, or the whole file when no key is given."""
        full = self._path(options, path)
        key = options.get("key")
        if key is None:
            try:
                os.remove(full)
            except FileNotFoundError:
                raise self._error("not_found", path, f"no such file: {full}") from None
            return
        fmt = detect_format(full, options.get("format"))
        fields = self._current(full, fmt, path, options, must_exist=True)
        if key not in fields:
            raise self._error("not_found", path, f"the file has no field {key!r}")
        del fields[key]
        _write_private(full, _dump(fields, fmt))

    async def list(self, path: str = "", **options: Any) -> list[str]:
        """The field names (never values) of the secret file."""
        full = self._path(options, path)
        fmt = detect_format(full, options.get("format"))
        if fmt == "dotenv" and os.path.exists(full):
            text = self._read(full, path, allow_insecure=bool(options.get("allowInsecure")))
            if _is_bare(text):
                fmt = "text"
        if fmt == "text":
            raise self._error("invalid", path, f"{full} holds one bare value: it has no fields")
        return sorted(self._current(full, fmt, path, options, must_exist=True))

    # -- helpers ---------------------------------------------------------------------------

    def _path(self, options: Mapping[str, Any], path: str) -> str:
        path = os.path.expanduser(path)
        return os.path.join(str(option(options, "baseDir", os.getcwd())), path)

    def _current(
        self,
        full: str,
        fmt: str,
        secret: str,
        options: Mapping[str, Any],
        *,
        must_exist: bool = False,
    ) -> dict[str, Any]:
        if not must_exist and not os.path.exists(full):
            return {}
        text = self._read(full, secret, allow_insecure=bool(options.get("allowInsecure")))
        return dict(self._parse(text, fmt, full, secret))

    def _read(self, path: str, secret: str, *, allow_insecure: bool) -> str:
        try:
            info = os.stat(path)
            if not allow_insecure and info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
                raise self._error(
                    "denied",
                    secret,
                    f"{path} can be read by group or others "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to use it",
                    hint=f"chmod 600 {path}   (or set allowInsecure: true)",
                )
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            raise self._error(
                "not_found", secret, f"no such file: {path}", hint="check the secret's path"
            ) from None
        except PermissionError:
            raise self._error("denied", secret, f"no permission to read {path}") from None
        except UnicodeDecodeError:
            raise self._error("invalid", secret, f"{path} is not UTF-8 text") from None
        except IsADirectoryError:
            raise self._error("invalid", secret, f"{path} is a directory") from None

    def _parse(self, text: str, fmt: str, path: str, secret: str) -> Mapping[str, Any]:
        # Parser messages may quote the file's content, so only positions are reported.
        if fmt == "json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise self._error(
                    "invalid", secret, f"{path}:{exc.lineno}:{exc.colno}: not valid JSON"
                ) from None
        elif fmt == "yaml":
            data = self._parse_yaml(text, path, secret)
        else:
            from dotenv import dotenv_values

            # No ${VAR} interpolation: a password containing "$x" must stay as written.
            values = dotenv_values(stream=io.StringIO(text), interpolate=False)
            data = {k: "" if v is None else v for k, v in values.items()}
        if not isinstance(data, dict):
            raise self._error("invalid", secret, f"{path} does not hold a mapping of fields")
        return data

    def _parse_yaml(self, text: str, path: str, secret: str) -> Any:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            return YAML(typ="safe", pure=True).load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
            raise self._error("invalid", secret, f"{where}: not valid YAML") from None
        except YAMLError:
            raise self._error("invalid", secret, f"{path}: not valid YAML") from None

    def _error(self, reason: Any, secret: str, detail: str, hint: str = "") -> ProviderError:
        return ProviderError(reason, secret=secret, provider=self.name, detail=detail, hint=hint)


def _is_bare(text: str) -> bool:
    """A dotenv file with no ``KEY=value`` line: a bare value (a Docker-style secret file).
    So is one line whose only "value" is base64 padding (``c2VjcmV0==``)."""
    from dotenv import dotenv_values

    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    if all(value is None for value in values.values()):
        return bool(text.strip())
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and len(values) == 1:
        (value,) = values.values()
        return value is not None and set(value) <= {"="}
    return False


def _dump(fields: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(fields, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        from ruamel.yaml import YAML

        out = io.StringIO()
        YAML(typ="safe", pure=True).dump(dict(fields), out)
        return out.getvalue()
    # Single quotes: python-dotenv reads them without interpolation; it un-escapes \\ and \'.
    lines = []
    for key, value in fields.items():
        quoted = str(value).replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{key}='{quoted}'\n")
    return "".join(lines)


def _write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically; the file is mode 600 from its first byte."""
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
