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
import contextlib
import errno
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
        contents = [(file.path, _content(info, file, values), file.mode) for file in info.files]
        return write_files(target, contents, force=force)


def write_files(
    dest: str | os.PathLike[str],
    files: builtins.list[tuple[str, bytes, int | None]],
    *,
    force: bool = False,
) -> builtins.list[Path]:
    """Write ``(relative path, bytes, mode)`` files under ``dest``; return the paths written.

    Never through a symbolic link: ``dest`` is the user's to choose, but below it every folder
    is entered with O_NOFOLLOW and every file created with O_NOFOLLOW (O_EXCL without
    ``force``), relative to the folder's descriptor, so a planted ``workflow.yaml -> ~/.bashrc``
    or ``scripts -> /etc`` is refused, not written through. A folder that cannot be written
    (``/proc/x``, read-only, full) is a TemplateError (exit 2), and the files written before
    the failure are removed: nothing half-written stays.
    """
    root = Path(dest)
    written: builtins.list[Path] = []
    created: builtins.list[Path] = []  # what a failure removes: never a file that was there
    try:
        os.makedirs(root, exist_ok=True)
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for relative, data, mode in files:
                path = root / relative
                new = not os.path.lexists(path)
                _write_below(top, Path(relative).parts, data, mode, force=force, shown=path)
                written.append(path)
                if new:
                    created.append(path)
        finally:
            os.close(top)
    except BaseException as error:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        if not isinstance(error, OSError):
            raise
        raise TemplateError(
            Diagnostic(
                file=str(getattr(error, "filename", None) or root),
                line=0,
                column=0,
                message=f"cannot write there: {error.strerror or error}",
                hint="choose a folder you can write to",
            )
        ) from None
    return written


def _write_below(
    top: int, parts: tuple[str, ...], data: bytes, mode: int | None, *, force: bool, shown: Path
) -> None:
    if not parts or any(part in ("", ".", "..") or os.sep in part for part in parts):
        raise TemplateError(f"{shown}: a template file must stay inside the folder")
    folder = top
    try:
        for index, part in enumerate(parts[:-1]):
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=folder)
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            except OSError as error:
                here = shown.parents[len(parts) - 2 - index]
                if error.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(here):
                    raise _link_refused(here, part) from None
                raise
            if folder != top:
                os.close(folder)
            folder = inner
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        flags |= os.O_TRUNC if force else os.O_EXCL
        try:
            fd = os.open(parts[-1], flags, 0o666 if mode is None else mode, dir_fd=folder)
        except FileExistsError:
            if os.path.islink(shown):
                raise _link_refused(shown, parts[-1]) from None
            raise TemplateError(
                Diagnostic(
                    file=str(shown),
                    line=0,
                    column=0,
                    message=f"refusing to overwrite {shown}",
                    hint="choose an empty folder, or pass --force to overwrite",
                )
            ) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise _link_refused(shown, parts[-1]) from None
            raise
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
    finally:
        if folder != top:
            os.close(folder)


def _link_refused(path: Path, name: str) -> TemplateError:
    return TemplateError(
        Diagnostic(
            file=str(path),
            line=0,
            column=0,
            message=f"{name!r} is a symbolic link: init never writes through one "
            "(it could point anywhere)",
            hint="remove the link, or choose another folder",
        )
    )


def refuse_existing(paths: list[Path]) -> None:
    """TemplateError listing every path that exists already (the caller's --force bypasses).
    A link counts, even one pointing nowhere: writing would follow it."""
    existing = [path for path in paths if os.path.lexists(path)]
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
