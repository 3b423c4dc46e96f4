"""Read a YAML or JSON document into plain data, remembering where every node sits.

The file is composed into ruamel.yaml's node graph (the libyaml-based parser when it is
installed, which is several times faster) and then turned into plain dicts, lists and scalars
by hand, so that we control what a user sees: YAML 1.2 scalars (``on:`` stays a key, dates
stay text), duplicate keys, merge keys and aliases are handled here with clear messages, and
alias expansion is bounded so a "billion laughs" file cannot exhaust memory.

Every problem is a ManifestError carrying a Diagnostic at FILE:LINE:COLUMN.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from psr_engine.errors import Diagnostic, ManifestError
from psr_engine.manifest.model import JsonPath, Position, TextStart

MAX_BYTES = 10 * 2**20  # a manifest is text written by people: 10 MiB is generous
MAX_NODES = 1_000_000  # nodes after alias expansion
MAX_ALIASES = 100_000  # alias uses
# Lists and mappings inside each other. ruamel's C composer recurses once per level and
# overflows the C stack (a segfault, not an exception) near 25,000; people write fewer than 10.
MAX_DEPTH = 100

_TAG = "tag:yaml.org,2002:"
Format = Literal["yaml", "json"]


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document as plain data, with the position of each node's key (or list item)."""

    data: Any
    positions: dict[JsonPath, Position] = field(repr=False)
    path: str
    digest: str
    texts: dict[JsonPath, TextStart] = field(default_factory=dict, repr=False)


def load_document(path: str | os.PathLike[str], *, format: Format | None = None) -> LoadedDocument:
    """Read and parse a file; JSON when ``format`` says so or the name ends in ``.json``."""
    name = os.fspath(path)
    raw = _read_bytes(name)
    if format is None:
        format = "json" if name.lower().endswith(".json") else "yaml"
    return load_bytes(raw, path=name, format=format)


def load_text(
    text: str | bytes, *, path: str = "<string>", format: Format = "yaml"
) -> LoadedDocument:
    """Parse a document given as text (or bytes, checked like a file's)."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    return load_bytes(raw, path=path, format=format)


def load_bytes(raw: bytes, *, path: str, format: Format = "yaml") -> LoadedDocument:
    """Parse a document's bytes: the checks every input goes through, then YAML or JSON."""
    if len(raw) > MAX_BYTES:
        raise _error(path, 0, 0, f"the file is larger than {MAX_BYTES // 2**20} MiB", "")
    text = _decode(raw, path)
    digest = hashlib.sha256(raw).hexdigest()
    if not text.strip():
        raise _error(
            path, 1, 1, "the file is empty", "a manifest starts with apiVersion: psr-engine/v1"
        )
    if format == "json":
        _check_json(text, path)
    node = _compose(text, path)
    if node is None:
        raise _error(path, 1, 1, "the file is empty: it holds only comments", "")
    builder = _PlainData(path, text)
    builder.positions[()] = _position(node)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise _error(path, *_pos(node), "the document is nested too deeply", "") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({_short(data)})"
        raise _error(
            path,
            *_pos(node),
            f"the document must be a mapping of keys to values, but it is {kind}",
            "write `key: value` lines at the top level",
        )
    return LoadedDocument(
        data=data, positions=builder.positions, path=path, digest=digest, texts=builder.texts
    )


def _read_bytes(path: str) -> bytes:
    try:
        if os.path.isdir(path):
            raise _error(path, 0, 0, "is a folder, not a file", "name the manifest file itself")
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise _error(path, 0, 0, f"the file is larger than {MAX_BYTES // 2**20} MiB", "")
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _error(
            path, 0, 0, "no such file", "check the path (relative to the current folder)"
        ) from None
    except PermissionError:
        raise _error(path, 0, 0, "permission denied: the file cannot be read", "") from None
    except OSError as exc:
        raise _error(path, 0, 0, f"cannot read the file: {exc.strerror or exc}", "") from None


def _decode(raw: bytes, path: str) -> str:
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line, column = _line_col(raw, offset)
        raise _error(
            path,
            line,
            column,
            "this is a binary file (it contains NUL bytes), not YAML or JSON",
            "",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _line_col(raw, exc.start)
        raise _error(
            path,
            line,
            column,
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
            "save the file as UTF-8",
        ) from None


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def _check_json(text: str, path: str) -> None:
    """JSON syntax errors in JSON's own words, before the YAML parser sees the text."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return dict(pairs)  # duplicates are reported with both positions by _PlainData

    try:
        json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise _error(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}", "") from None
    except RecursionError:
        raise _error(path, 1, 1, "invalid JSON: nested too deeply", "") from None


def _compose(text: str, path: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    fast = YAML(typ="safe", pure=False)
    fast.Resolver = _resolver_class()
    if _within_depth(fast, text, path):
        try:
            # libyaml (ruamel.yaml.clib) is several times faster, but stricter than YAML 1.2 in
            # places (`[localhost:9092]`); on any error, the pure-Python parser gives the verdict.
            return fast.compose(io.StringIO(text))
        except (YAMLError, RecursionError):
            pass
    pure = YAML(typ="safe", pure=True)
    _within_depth(pure, text, path)
    try:
        return pure.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, text, path) from None
    except YAMLError as exc:
        raise _error(path, 0, 0, f"invalid YAML: {exc}", "") from None
    except RecursionError:
        raise _error(path, 1, 1, "invalid YAML: nested too deeply", "") from None


def _within_depth(yaml: Any, text: str, path: str) -> bool:
    """Refuse a document nested deeper than MAX_DEPTH before anything recursive sees it.

    The parser's events come from a state machine (no recursion, at any depth), so counting
    them is safe where composing is not; it costs a few per cent of a load. False: the fast
    parser rejects the text, so it should not compose it either (it would recurse first)."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in yaml.parse(io.StringIO(text)):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise _error(
                        path,
                        mark.line + 1,
                        mark.column + 1,
                        f"the document is nested more than {MAX_DEPTH} levels deep here "
                        "(lists and mappings inside each other)",
                        "flatten it: a manifest needs a few levels, not hundreds",
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return False
    return True


@functools.cache
def _resolver_class() -> type:
    """ruamel's YAML 1.2 resolver, minus the per-scalar work that dominates large loads.

    ruamel works out the document's YAML version for every scalar; manifests are YAML 1.2,
    so the 1.2 table is computed once and plain scalars are matched against it directly.
    """
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver
    from ruamel.yaml.tag import Tag

    table = VersionedResolver(version=(1, 2)).versioned_resolver
    rules = {first: (*found, *table.get(None, ())) for first, found in table.items() if first}
    always = tuple(table.get(None, ()))
    tags: dict[str, Any] = {}

    class Yaml12Resolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not ScalarNode or not implicit[0]:
                return super().resolve(kind, value, implicit)
            for tag, regexp in rules.get(value[:1], always) if value else table.get("", ()):
                if regexp.match(value):
                    found = tags.get(tag)
                    if found is None:
                        found = tags[tag] = Tag(suffix=tag)
                    return found
            return self.DEFAULT_SCALAR_TAG

    return Yaml12Resolver


def _syntax_error(exc: Any, text: str, path: str) -> ManifestError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = str(exc.problem or exc.context or "syntax error").strip()
    if "expected a single document" in problem or "but found another document" in problem:
        return _error(
            path, line, column, "the file holds more than one YAML document (---)", "keep one"
        )
    hint = ""
    lines = text.splitlines()
    offending = lines[line - 1] if 0 < line <= len(lines) else ""
    trap = _yaml_trap(problem, lines, line, column)
    if trap is not None:
        return _error(path, *trap)
    if "\\t" in problem or "\t" in offending[: len(offending) - len(offending.lstrip())]:
        hint = "YAML does not allow tabs for indentation: indent with spaces"
    elif exc.context and exc.problem:
        hint = str(exc.context).strip()
        if exc.context_mark is not None and exc.context_mark is not mark:
            where = exc.context_mark
            hint += f" that starts at line {where.line + 1}, column {where.column + 1}"
    return _error(path, line, column, f"invalid YAML: {problem}", hint)


def _yaml_trap(
    problem: str, lines: list[str], line: int, column: int
) -> tuple[int, int, str, str] | None:
    """The two YAML mistakes people make most, said in their words: (line, column, message,
    hint), or None for any other error.

    A `: ` inside a plain value (`run: curl -H "X-Token: abc"`) starts a mapping where none
    may be; a key indented one space too far continues the value above it (the same error);
    one space too few ends the block (`expected <block end>`)."""
    if not 0 < line <= len(lines):
        return None
    text = lines[line - 1]
    indent = _indent_of(text)
    above = _line_above(lines, line)
    key_at = _key_separator(text, indent)
    if problem == "mapping values are not allowed here":
        if key_at is not None and key_at < column - 1:
            key = text[indent:key_at].removeprefix("- ").strip()
            return (
                line,
                column,
                f"`: ` inside the value of `{key}` (column {column}) reads as the start of a "
                "mapping",
                f"quote this value, or use a block scalar `{key}: |` with the value on the "
                "lines below it, indented",
            )
        if above is not None and key_at == column - 1:
            number, expected = above
            key = text[indent:key_at].strip()
            return (
                line,
                indent + 1,
                f"indentation: `{key}:` is at column {indent + 1}, deeper than the key on line "
                f"{number}, so it reads as the rest of that line's value; expected column "
                f"{expected}",
                f"indent `{key}:` like the keys beside it (column {expected})",
            )
    if problem.startswith("expected <block end>") and above is not None:
        number, expected = above
        if indent + 1 != expected:
            key = text[indent:key_at].strip() if key_at is not None else text.strip()
            return (
                line,
                indent + 1,
                f"indentation: `{key}` is at column {indent + 1}, but the block it belongs to is "
                f"at column {expected} (line {number}); expected column {expected}",
                f"indent it like the keys beside it (column {expected}), or as far as the key "
                "it belongs under",
            )
    return None


def _indent_of(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _line_above(lines: list[str], line: int) -> tuple[int, int] | None:
    """(number, 1-based column of its content) of the nearest line above that holds
    something other than a comment."""
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            column = _indent_of(text) + 1
            if stripped.startswith("- "):
                column += 2 + _indent_of(stripped[2:])
            return number, column
    return None


def _key_separator(text: str, indent: int) -> int | None:
    """The index of the `:` ending the line's key (`key: value` or `key:`), if it has one."""
    start = indent + 2 if text[indent:].startswith("- ") else indent
    for index in range(start, len(text)):
        char = text[index]
        if char in "\"'{[#":
            return None  # a quoted, flow or commented start: not a plain `key:`
        if char == ":" and (index + 1 == len(text) or text[index + 1] in " \t"):
            return index
    return None


class _PlainData:
    """Turns composed nodes into plain data, recording positions and bounding aliases."""

    def __init__(self, path: str, text: str = "") -> None:
        self.path = path
        self.text = text
        self.positions: dict[JsonPath, Position] = {(): Position(1, 1)}
        self.texts: dict[JsonPath, TextStart] = {}  # strings holding ${{ }}: where they start
        self.built: dict[int, Any] = {}  # id(node) -> value: an alias shares its anchor's value
        self.sizes: dict[int, int] = {}  # id(node) -> nodes in its expanded subtree
        self.active: set[int] = set()  # nodes being built: an alias to one of them is a cycle
        self.nodes = 0
        self.aliases = 0

    def build(self, node: Any, path: JsonPath) -> Any:
        key = id(node)
        if key in self.built:
            return self._reuse(node, key)
        if key in self.active:
            raise self._fail(node, "an alias refers to the node that contains it (a cycle)", "")
        self.active.add(key)
        start = self.nodes
        kind = type(node).__name__
        if kind == "ScalarNode":
            value = self._scalar(node)
            if isinstance(value, str) and "${{" in value:
                self.texts[path] = self._text_start(node)
            self.nodes += 1
        elif kind == "SequenceNode":
            self._check_tag(node, "seq")
            value = []
            for index, item in enumerate(node.value):
                self.positions[(*path, index)] = _position(item)
                value.append(self.build(item, (*path, index)))
            self.nodes += 1
        else:
            self._check_tag(node, "map")
            value = {}
            for name, key_node, value_node in self._entries(node):
                self.positions[(*path, name)] = _position(key_node)
                value[name] = self.build(value_node, (*path, name))
            self.nodes += 1
        self.active.discard(key)
        self.built[key] = value
        self.sizes[key] = self.nodes - start
        self._check_bounds(node)
        return value

    def _text_start(self, node: Any) -> TextStart:
        start, end = node.start_mark, node.end_mark
        style = node.style or ""
        if style in ("|", ">"):
            # The text starts on the line after the indicator, at the block's indentation.
            lines = self.text.split("\n")[start.line + 1 : end.line + 1]
            indent = next((len(x) - len(x.lstrip(" ")) for x in lines if x.strip()), 0)
            return TextStart(start.line + 2, indent + 1, block=style == "|", one_line=False)
        quote = 1 if style in ("'", '"') else 0
        return TextStart(
            start.line + 1, start.column + 1 + quote, block=False, one_line=start.line == end.line
        )

    def _reuse(self, node: Any, key: int) -> Any:
        self.aliases += 1
        self.nodes += self.sizes[key]
        self._check_bounds(node)
        return self.built[key]

    def _check_bounds(self, node: Any) -> None:
        if self.aliases > MAX_ALIASES or self.nodes > MAX_NODES:
            raise self._fail(
                node,
                f"aliases expand to more than {MAX_NODES:,} nodes or {MAX_ALIASES:,} alias uses "
                "(an alias bomb?)",
                "use fewer or smaller aliases",
            )

    def _entries(self, node: Any) -> list[tuple[str, Any, Any]]:
        """The mapping's (name, key node, value node) with merge keys (<<) applied.

        Keys written in the mapping win over merged ones, and earlier merge sources win over
        later ones, as YAML's merge key specifies; a key written twice is an error.
        """
        own: dict[str, Any] = {}
        entries: list[tuple[str, Any, Any]] = []
        merged: list[tuple[str, Any, Any]] = []
        for key_node, value_node in node.value:
            if _tag(key_node) == _TAG + "merge" and type(key_node).__name__ == "ScalarNode":
                merged.extend(self._merge_sources(value_node))
                continue
            name = self._key(key_node)
            if name in own:
                first = _position(own[name])
                raise self._fail(
                    key_node,
                    f"duplicate key {name!r} (first at line {first.line}, column {first.column})",
                    "remove one of them; YAML and JSON keep only one",
                )
            own[name] = key_node
            entries.append((name, key_node, value_node))
        seen = set(own)
        for name, key_node, value_node in merged:
            if name not in seen:
                seen.add(name)
                entries.append((name, key_node, value_node))
        return entries

    def _merge_sources(self, value_node: Any) -> list[tuple[str, Any, Any]]:
        kind = type(value_node).__name__
        sources = value_node.value if kind == "SequenceNode" else [value_node]
        out: list[tuple[str, Any, Any]] = []
        for source in sources:
            if type(source).__name__ != "MappingNode":
                raise self._fail(
                    source, "a merge key (<<) takes a mapping or a list of mappings", ""
                )
            self.aliases += 1
            out.extend(self._entries(source))
        return out

    def _key(self, key_node: Any) -> str:
        if type(key_node).__name__ != "ScalarNode":
            raise self._fail(key_node, "a key must be a plain name, not a list or mapping", "")
        # Keys are names: keep their text (`1:` is the key "1", `on:` the key "on").
        return str(key_node.value)

    def _check_tag(self, node: Any, expected: str) -> None:
        if _tag(node) != _TAG + expected:
            raise self._fail(node, f"unsupported YAML tag {_tag(node)!r}", "remove the tag")

    def _scalar(self, node: Any) -> Any:
        tag, text = _tag(node), node.value
        if not tag.startswith(_TAG):
            raise self._fail(node, f"unsupported YAML tag {tag!r}", "remove the tag")
        kind = tag[len(_TAG) :]
        if kind in ("str", "merge", "timestamp"):
            return text  # dates stay text: a param of type string is what users mean
        if kind == "null":
            return None
        if kind == "bool":
            return text.lower() == "true"
        if kind == "int":
            return _int(text)
        if kind == "float":
            return _float(text)
        raise self._fail(node, f"unsupported YAML tag {tag!r}", "remove the tag")

    def _fail(self, node: Any, message: str, hint: str) -> ManifestError:
        return _error(self.path, *_pos(node), message, hint)


def _tag(node: Any) -> str:
    # node.tag URI-decodes the tag on every access, a large share of the load time; the tags
    # the resolver assigns are plain text already.
    tag = node.ctag
    if tag is None:
        return ""
    return tag.suffix if tag.handle is None and isinstance(tag.suffix, str) else str(tag)


def _int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0o", 8), ("0x", 16), ("0b", 2)):
        if digits.lower().startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _float(text: str) -> float:
    lowered = text.lower().replace("_", "")
    if lowered.lstrip("+-") == ".inf":
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(lowered)


def _position(node: Any) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _pos(node: Any) -> tuple[int, int]:
    position = _position(node)
    return position.line, position.column


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _error(path: str, line: int, column: int, message: str, hint: str) -> ManifestError:
    return ManifestError(
        Diagnostic(file=path, line=line, column=column, message=message, hint=hint)
    )
