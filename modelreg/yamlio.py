"""The YAML dialect of modelreg: strict loading with locations, stable dumping,
and edits that keep what a person wrote.

Loading composes nodes with libyaml (PyYAML's C parser) and builds values
itself, so it can refuse what a hand-edited file should never mean silently:
duplicate keys, custom tags, merge keys, alias bombs, oversized files and the
YAML 1.1 surprises (``stage: no`` as false, ``012`` as octal). Pure: no git,
no network, no CLI.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from modelreg import limits
from modelreg.errors import InvalidManifestError, Problem

try:
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DEFAULT_MAX_BYTES = limits.MAX_MANIFEST_BYTES


class _MemoLoader(_Loader):
    """libyaml's parser with the implicit-tag resolver memoised: manifests repeat the
    same keys and values, and resolving each scalar with regexes is most of the cost."""

    _memo: dict[tuple[type, str, tuple[bool, bool] | bool], str] = {}

    def resolve(self, kind: type, value: str | None, implicit: Any) -> str:
        if value is None or len(value) > 64:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call,no-any-return]
        key = (kind, value, tuple(implicit) if isinstance(implicit, list) else implicit)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 50_000:
                self._memo.clear()
            found = self._memo[key] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return found


Path_ = tuple[str | int, ...]

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
_TS, _MAP, _SEQ = _T + "timestamp", _T + "map", _T + "seq"
_ALLOWED_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TS, _MAP, _SEQ}
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
# hexadecimal and 0o-octal integers mean the same number in YAML 1.1 (PyYAML) and 1.2
# (editors, the JSON Schema's side): accepted, unlike 012 or 1_000 which they read apart
_HEX_OCT = re.compile(r"[-+]?0(x[0-9a-fA-F]+|o[0-7]+)\Z")
_PLAIN_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_TIMESTAMP_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def format_path(path: Sequence[str | int]) -> str:
    """``("versions", 2, "metrics", "accuracy")`` -> ``versions[2].metrics.accuracy``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Loaded:
    """A loaded document: the plain value, and the nodes to find places in the text.

    ``path`` names the file in the problems found in it. ``problems`` are what the
    dialect refuses (duplicate keys, YAML 1.1 forms, tags, ...); ``gaps`` the paths of
    the values it left out of ``value`` for that reason (a list item left out is None)."""

    path: str
    text: str
    value: Any
    root: yaml.Node | None = field(repr=False)
    problems: tuple[Problem, ...] = ()
    gaps: tuple[Path_, ...] = ()

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at ``path`` (of its key with ``key=True``).

        A path that does not exist points at the nearest existing parent.
        """
        node = self.root
        mark = node.start_mark if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == part:
                        mark = k.start_mark if key and part == path[-1] else v.start_mark
                        node = v
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    node = node.value[part]
                    mark = node.start_mark
                else:
                    break
            else:
                break
        if mark is None:
            return 1, 1
        return mark.line + 1, mark.column + 1

    def problem(self, path: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(self.path, line, col, format_path(path), message)


class _Left:
    """A value the dialect refuses: left out of its mapping (None in a list)."""


_LEFT_OUT = _Left()


class _Builder:
    def __init__(self, path: str, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.count = 0
        self.problems: list[Problem] = []
        self.gaps: list[Path_] = []

    def fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        m = node.start_mark
        self.problems.append(
            Problem(self.path, m.line + 1, m.column + 1, format_path(path), message)
        )

    def refuse(self, node: yaml.Node, path: Path_, message: str) -> _Left:
        """A value that cannot be read: a problem, and a gap in the value built."""
        self.fail(node, path, message)
        self.gaps.append(path)
        return _LEFT_OUT

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise _TooLarge(node, path)
        if len(path) > limits.MAX_DOCUMENT_DEPTH:  # also ends an alias to itself
            raise _TooDeep(node, path)
        if node.tag not in _ALLOWED_TAGS:
            return self.refuse(
                node, path, f"tag {node.tag!r} is not allowed (plain YAML data only)"
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return [None if item is _LEFT_OUT else item for item in items]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for knode, vnode in node.value:
            if knode.tag == _T + "merge":
                self.fail(knode, path, "merge keys (<<) are not allowed; write the fields out")
                continue
            if not isinstance(knode, yaml.ScalarNode) or knode.tag != _STR:
                shown = knode.value if isinstance(knode, yaml.ScalarNode) else "a collection"
                self.fail(knode, path, f"keys must be text; quote {shown!r}")
                continue
            k = knode.value
            if k in seen:
                self.fail(knode, (*path, k), f"duplicate key (first at line {seen[k]})")
                continue
            seen[k] = knode.start_mark.line + 1
            value = self.build(vnode, (*path, k))
            if value is not _LEFT_OUT:
                out[k] = value
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        tag, text = node.tag, node.value
        plain = is_plain(node)
        if tag == _STR:
            if plain and _HEX_OCT.match(text):  # 0o17: YAML 1.2 reads a number, as editors do
                return int(text, 0)
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            if plain and text not in ("true", "false"):
                return self.refuse(
                    node,
                    path,
                    f"`{text}` is a YAML 1.1 boolean; write true or false, "
                    f"or quote it ('{text}') if you mean the text",
                )
            return text.lower() == "true"
        if tag == _INT:
            if plain and _HEX_OCT.match(text):
                return int(text, 0)
            if plain and not _PLAIN_INT.match(text):
                return self.refuse(
                    node,
                    path,
                    f"`{text}` is a YAML 1.1 number form (octal, binary, "
                    f"sexagesimal or with _); write a plain decimal or quote it",
                )
            return int(text)
        if tag == _FLOAT:
            low = text.lower()
            if low in (".inf", "+.inf", "-.inf", ".nan"):
                return float(low.replace(".", ""))
            if plain and not _PLAIN_FLOAT.match(text):
                return self.refuse(
                    node,
                    path,
                    f"`{text}` is a YAML 1.1 number form; write a plain decimal or quote it",
                )
            return float(text)
        if tag == _TS:
            return _TIMESTAMP_CONSTRUCTOR.construct_yaml_timestamp(node)
        return text  # pragma: no cover - tags are checked in build()


def is_plain(node: yaml.Node) -> bool:
    """An unquoted scalar (libyaml reports its style as '', the pure parser as None)."""
    return isinstance(node, yaml.ScalarNode) and not node.style


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node, path: Path_) -> None:
        self.node, self.path = node, path


class _TooDeep(_TooLarge):
    pass


def compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_MemoLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "not valid YAML"
        raise InvalidManifestError([Problem(file, line, col, "", f"YAML syntax: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InvalidManifestError([Problem(file, None, None, "", f"YAML: {exc}")]) from None


def loads(data: str | bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Loaded:
    """Load one YAML document strictly.

    Raises :class:`InvalidManifestError` naming file, line, column and field for
    every problem found (not just the first).
    """
    loaded = load(data, file, max_bytes=max_bytes)
    if loaded.problems:
        raise InvalidManifestError(loaded.problems)
    return loaded


def load(data: str | bytes, file: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Loaded:
    """Load one YAML document as far as it can be read: what the dialect refuses is in
    the result's ``problems`` and left out of its value (see :class:`Loaded`), so the
    rest can still be checked. ``file`` is the path the problems name.

    Raises :class:`InvalidManifestError` when nothing can be read: a file over
    ``max_bytes``, not UTF-8, not YAML, or aliases expanding past every bound.
    """
    too_big = limits.size(len(data.encode() if isinstance(data, str) else data), max_bytes)
    if too_big is not None:
        raise InvalidManifestError([Problem(file, None, None, "", too_big)])
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidManifestError(
                [Problem(file, None, None, "", f"not UTF-8 text (byte {exc.start})")]
            ) from None
    else:
        text = data
    root = compose(text, file)
    if root is None:
        return Loaded(file, text, None, None)
    # A document cannot hold more nodes than characters unless aliases repeat
    # them; past that it is an alias bomb, whatever its size on disk.
    builder = _Builder(file, limit=len(text) + 1000)
    try:
        value = builder.build(root, ())
    except _TooLarge as exc:
        m = exc.node.start_mark
        raise InvalidManifestError(
            [
                Problem(
                    file,
                    m.line + 1,
                    m.column + 1,
                    format_path(exc.path[: limits.MAX_DOCUMENT_DEPTH]),
                    limits.depth_message(limits.MAX_DOCUMENT_DEPTH)
                    if isinstance(exc, _TooDeep)
                    else "aliases expand to too many nodes (an alias bomb?)",
                )
            ]
        ) from None
    if value is _LEFT_OUT:
        value = None
    return Loaded(file, text, value, root, tuple(builder.problems), tuple(builder.gaps))


# ---------------------------------------------------------------- dumping


class _StableDumper(_Dumper):
    def ignore_aliases(self, data: Any) -> bool:
        # a manifest never holds anchors, even when two values are one Python object
        return True


def _represent_datetime(dumper: _StableDumper, value: _dt.datetime) -> yaml.Node:
    return dumper.represent_scalar(_TS, format_datetime(value))


def _represent_str(dumper: _StableDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar(_STR, value, style=style)


_StableDumper.add_representer(_dt.datetime, _represent_datetime)
_StableDumper.add_representer(str, _represent_str)


def format_datetime(value: _dt.datetime) -> str:
    """ISO 8601 with ``Z`` for UTC, seconds precision unless there are microseconds."""
    if value.tzinfo is not None and value.utcoffset() == _dt.timedelta(0):
        value = value.replace(tzinfo=None)
        return value.isoformat() + "Z"
    return value.isoformat()


def dumps(value: Any, *, flow: bool = False) -> str:
    """Dump in modelreg's stable style: keys in the given order, block style, UTF-8."""
    return yaml.dump(
        value,
        Dumper=_StableDumper,
        sort_keys=False,
        default_flow_style=flow,
        allow_unicode=True,
        width=100,
        indent=2,
    )


def dump_inline(value: Any) -> str:
    """One scalar or a short flow collection, for splicing into a line."""
    text = dumps(value, flow=True).strip()
    if text.endswith("\n...") or text.endswith("..."):
        text = text[: text.rfind("...")].strip()
    return text


# ---------------------------------------------------------------- editing


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0]
        for m in re.finditer("\n", text):
            self.starts.append(m.end())

    def offset(self, mark: yaml.Mark) -> int:
        return self.starts[mark.line] + mark.column


def _child(node: yaml.Node | None, key: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key], node.value[key]
    return None


def _walk(root: yaml.Node | None, path: Sequence[str | int]) -> yaml.Node | None:
    node = root
    for part in path:
        found = _child(node, part)
        if found is None:
            return None
        node = found[1]
    return node


def _end_of_content(text: str, offset: int) -> int:
    """Back from ``offset`` over trailing blank lines and comments to where content ends."""
    i = offset
    while True:
        j = text.rfind("\n", 0, i)
        line = text[j + 1 : i]
        if i > 0 and (not line.strip() or line.lstrip().startswith("#")) and j >= 0:
            i = j
            continue
        return i


def _indent_block(block: str, indent: int) -> str:
    pad = " " * indent
    return "".join(pad + ln if ln.strip() else ln for ln in block.splitlines(keepends=True))


@dataclass
class Editor:
    """Applies edits to YAML text, touching only the lines that change.

    Comments, key order, quoting and blank lines elsewhere stay as they were.
    Each edit re-composes the text (libyaml), so marks are always fresh.
    """

    text: str
    file: str = "<yaml>"

    def _root(self) -> tuple[yaml.Node | None, _Lines]:
        return compose(self.text, self.file), _Lines(self.text)

    def set(self, path: Sequence[str | int], value: Any, *, after: Sequence[str] = ()) -> None:
        """Set a mapping value; a new key goes after the last of ``after`` present."""
        root, lines = self._root()
        parent = _walk(root, path[:-1])
        if not isinstance(parent, yaml.MappingNode):
            raise ValueError(f"{format_path(path[:-1])} is not a mapping")
        found = _child(parent, path[-1])
        if found is not None:
            knode, vnode = found
            start = lines.offset(vnode.start_mark)
            end = _end_of_content(self.text, lines.offset(vnode.end_mark))
            if _is_block_collection(vnode) or _is_block_collection_value(value):
                start = lines.offset(knode.end_mark)
                # the ':' after the key, then the value on the same or following lines
                colon = self.text.index(":", start)
                rendered = _render_value(value, knode.start_mark.column)
                self.text = self.text[: colon + 1] + rendered + self.text[end:]
            else:
                self.text = self.text[:start] + dump_inline(value) + self.text[end:]
            return
        self._insert_key(parent, lines, str(path[-1]), value, after)

    def _insert_key(
        self, parent: yaml.MappingNode, lines: _Lines, key: str, value: Any, after: Sequence[str]
    ) -> None:
        if parent.flow_style or not parent.value:
            raise ValueError("cannot insert into a flow-style or empty mapping")
        col = parent.value[0][0].start_mark.column
        anchor = None
        for k, v in parent.value:
            if k.value in after:
                anchor = v
        if anchor is None:
            anchor = parent.value[-1][1]
        pos = _end_of_content(self.text, lines.offset(anchor.end_mark))
        eol = self.text.find("\n", pos)  # after an inline comment on the anchor's last line
        pos = len(self.text) if eol < 0 else eol
        entry = "\n" + " " * col + key + ":" + _render_value(value, col)
        self.text = self.text[:pos] + entry + self.text[pos:]

    def delete(self, path: Sequence[str | int]) -> None:
        """Remove a key of a block mapping with its value (and nothing else)."""
        root, lines = self._root()
        parent = _walk(root, path[:-1])
        found = _child(parent, path[-1])
        if found is None:
            return
        knode, vnode = found
        start = lines.starts[knode.start_mark.line]
        end = _end_of_content(self.text, lines.offset(vnode.end_mark))
        nl = self.text.find("\n", end)
        end = len(self.text) if nl < 0 else nl + 1
        self.text = self.text[:start] + self.text[end:]

    def append(self, path: Sequence[str | int], *items: Any) -> None:
        """Append items to a sequence (a block sequence keeps its style)."""
        root, _ = self._root()
        point = append_point(self.text, root, path)
        if point is None:
            seq = _walk(root, path)
            if isinstance(seq, yaml.SequenceNode) and seq.value:
                raise ValueError(f"{format_path(path)} is a flow sequence: rewrite it as a block")
            self.set(path, list(items))
            return
        self.text = splice_append(self.text, point, items)


def append_point(
    text: str, root: yaml.Node | None, path: Sequence[str | int]
) -> tuple[int, int] | None:
    """Where items appended to the block sequence at ``path`` go: (offset, indent).

    None when there is no such non-empty block sequence.
    """
    seq = _walk(root, path)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    lines = _Lines(text)
    col = seq.value[0].start_mark.column - 2
    return _end_of_content(text, lines.offset(seq.value[-1].end_mark)), col


def splice_append(text: str, point: tuple[int, int], items: Sequence[Any]) -> str:
    return splice_block(text, point, dumps(list(items)))


def splice_block(text: str, point: tuple[int, int], block: str) -> str:
    """``text`` with ``block`` (items dumped as a YAML sequence) appended at ``point``."""
    pos, col = point
    return "".join((text[:pos], "\n", _indent_block(block, col).rstrip("\n"), text[pos:]))


def _is_block_collection(node: yaml.Node) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style


def _is_block_collection_value(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value)
    if isinstance(value, list):
        return any(isinstance(v, (dict, list)) for v in value)
    return False


def _render_value(value: Any, key_col: int) -> str:
    """Text after ``key:``: inline for scalars and short lists, a block otherwise."""
    if _is_block_collection_value(value):
        block = dumps(value)
        if isinstance(value, list):
            return "\n" + _indent_block(block, key_col).rstrip("\n")
        return "\n" + _indent_block(block, key_col + 2).rstrip("\n")
    return " " + dump_inline(value)


def iter_paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_paths(v, (*prefix, i))
