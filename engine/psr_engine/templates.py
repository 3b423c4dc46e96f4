"""Project templates: list them, describe one, scaffold one into a folder.

A template is a folder under ``manifests/templates/<name>/`` holding a ``template.yaml``
(name, description, params with defaults, files) and the files it scaffolds. The wheel ships
the folder as ``psr_engine/templates_data``; an editable install has no such folder, so the
repository's ``manifests/templates`` is the fallback (as ``manifest/schema.py`` does for
``schemas/``).

Files listed with ``render: true`` are Jinja2 templates with ``[[ ]]`` / ``[% %]`` delimiters,
so that the ``${{ }}`` expressions of the workflow they hold pass through untouched. Every
other file is copied byte for byte (Excel samples, scripts).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psr_engine.errors import Diagnostic

# Defined in errors.py (the one exception tree); importable from here as before.
from psr_engine.errors import TemplateError as TemplateError

METADATA = "template.yaml"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True, slots=True)
class TemplateParam:
    """One value a user may set at scaffold time (``-p name=value``)."""

    name: str
    description: str
    default: str


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """One file a template writes, relative to the destination folder."""

    path: str
    render: bool = False
    mode: int | None = None  # e.g. 0o600 for a demo secret file the file provider insists on


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """What ``describe`` tells about a template."""

    name: str
    description: str
    params: tuple[TemplateParam, ...]
    files: tuple[TemplateFile, ...]
    requires: tuple[str, ...]  # extras the scripts need, e.g. ("data",)
    source: Path

    def defaults(self) -> dict[str, str]:
        return {param.name: param.default for param in self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [
                {"name": p.name, "description": p.description, "default": p.default}
                for p in self.params
            ],
            "files": [f.path for f in self.files],
            "requires": list(self.requires),
        }


def templates_root() -> Path:
    """The folder holding the shipped templates (wheel data, else the repository's)."""
    import psr_engine

    package = Path(psr_engine.__file__).resolve().parent
    shipped = package / "templates_data"
    if shipped.is_dir():
        return shipped
    return package.parents[1] / "manifests" / "templates"


class TemplateManager:
    """Lists, describes and scaffolds the templates found under ``root``."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else templates_root()

    def list(self) -> list[TemplateInfo]:
        """Every template, sorted by name."""
        if not self.root.is_dir():
            return []
        folders = sorted(p for p in self.root.iterdir() if (p / METADATA).is_file())
        return [self.describe(folder.name) for folder in folders]

    def describe(self, name: str) -> TemplateInfo:
        """The metadata of template ``name``; TemplateError naming the choices if unknown."""
        folder = self.root / name
        if set(name) - _NAME_CHARS or not (folder / METADATA).is_file():
            known = sorted(p.parent.name for p in self.root.glob(f"*/{METADATA}"))
            raise TemplateError(
                Diagnostic(
                    file="",
                    line=0,
                    column=0,
                    message=f"no template named {name!r}",
                    hint="choose one of: " + ", ".join(known) + " (psr-engine templates)",
                )
            )
        return _read_metadata(folder)

    def scaffold(
        self,
        name: str,
        dest: str | os.PathLike[str],
        params: Mapping[str, str] | None = None,
        *,
        force: bool = False,
    ) -> builtins.list[Path]:  # `list` here is the method above
        """Write template ``name`` into ``dest``; return the paths written.

        Refuses (TemplateError) to overwrite an existing file unless ``force``, and checks
        everything before writing anything, so a refusal leaves ``dest`` as it was.
        """
        info = self.describe(name)
        values = _merge_params(info, params or {})
        target = Path(dest)
        planned = [(file, target / file.path) for file in info.files]
        if not force:
            refuse_existing([path for _, path in planned])
        contents = [(file, path, _content(info, file, values)) for file, path in planned]
        for file, path, data in contents:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if file.mode is not None:
                path.chmod(file.mode)
        return [path for _, path, _ in contents]


def refuse_existing(paths: list[Path]) -> None:
    """TemplateError listing every path that exists already (the caller's --force bypasses)."""
    existing = [path for path in paths if path.exists()]
    if existing:
        shown = ", ".join(str(p) for p in existing[:5])
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        raise TemplateError(
            Diagnostic(
                file=str(existing[0]),
                line=0,
                column=0,
                message=f"refusing to overwrite {shown}{more}",
                hint="choose an empty folder, or pass --force to overwrite",
            )
        )


def _merge_params(info: TemplateInfo, given: Mapping[str, str]) -> dict[str, str]:
    known = info.defaults()
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TemplateError(
            Diagnostic(
                file=str(info.source / METADATA),
                line=0,
                column=0,
                message=f"template {info.name!r} has no param {unknown[0]!r}",
                hint="its params: " + (", ".join(sorted(known)) or "none"),
            )
        )
    return {**known, **{key: str(value) for key, value in given.items()}}


def _content(info: TemplateInfo, file: TemplateFile, values: Mapping[str, str]) -> bytes:
    source = info.source / file.path
    if not file.render:
        return source.read_bytes()
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        return environment.from_string(source.read_text("utf-8")).render(values).encode("utf-8")
    except jinja2.TemplateError as error:  # a broken template is our bug, but say where
        raise TemplateError(
            Diagnostic(
                file=str(source),
                line=getattr(error, "lineno", 0) or 0,
                column=0,
                message=f"cannot render: {error}",
            )
        ) from error


def _read_metadata(folder: Path) -> TemplateInfo:
    from ruamel.yaml import YAML, YAMLError

    path = folder / METADATA
    try:
        raw = YAML(typ="safe", pure=True).load(path.read_text("utf-8"))
    except YAMLError as error:
        raise TemplateError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping")
    params = tuple(
        TemplateParam(
            name=str(key),
            description=str((spec or {}).get("description", "")),
            default=str((spec or {}).get("default", "")),
        )
        for key, spec in (raw.get("params") or {}).items()
    )
    files = tuple(_file_entry(entry) for entry in raw.get("files") or [])
    missing = [f.path for f in files if not (folder / f.path).is_file()]
    if missing:
        raise TemplateError(f"{path}: lists files that are not in the template: {missing}")
    return TemplateInfo(
        name=str(raw.get("name") or folder.name),
        description=str(raw.get("description") or "").strip(),
        params=params,
        files=files,
        requires=tuple(str(x) for x in raw.get("requires") or ()),
        source=folder,
    )


def _file_entry(entry: Any) -> TemplateFile:
    if isinstance(entry, str):
        return TemplateFile(path=entry)
    mode = entry.get("mode")
    return TemplateFile(
        path=str(entry["path"]),
        render=bool(entry.get("render", False)),
        mode=int(str(mode), 8) if mode is not None else None,
    )
