"""YAML reading that remembers line numbers.

Staff edit these files by hand, so every error must point at a line. PyYAML's safe
loader throws the node marks away; this subclass of ``yaml.SafeLoader`` (still safe:
no Python tags are registered) keeps them on the mappings and lists it builds.

It also reads YAML the way a person means it, not YAML 1.1's surprises:
``17:00`` stays the string "17:00" (not the sexagesimal integer 1020) and
``no``/``on`` stay strings (only ``true``/``false`` are booleans).

What it reads is bounded and normalised: the text is NFC-normalised before parsing (a file
saved in NFD reads like one saved in NFC, keys and values alike); nesting deeper than
`MAX_DEPTH` and documents that expand (aliases followed) to more than `MAX_NODES` values are
refused at their line ("billion laughs"); an impossible date (2024-02-30) is an error at its
line, not a ValueError.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from .errors import YamlError

__all__ = ["MAX_DEPTH", "MAX_NODES", "YList", "YMap", "YamlError", "load_yaml"]

MAX_DEPTH = 50  # nested mappings and lists: far more than any project file needs
MAX_NODES = 200_000  # values in one file once aliases are followed

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"


class YMap(dict):
    """A dict that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict
    value_lines: dict  # first line of the value's content (block scalars: the line after '|')

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)

    def value_line(self, key: Any) -> int:
        return self.value_lines.get(key, self.line_of(key))


class YList(list):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        try:
            return self.item_lines[index]
        except (IndexError, AttributeError):
            return self.line


class _DuplicateKey(Exception):  # found while parsing; turned into a YamlError with both lines
    def __init__(self, key: str, line: int, first_line: int):
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


class _Refused(Exception):  # found while parsing (too deep, too big, no such day); a YamlError at its line
    def __init__(self, line: int, message: str, hint: str):
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


class Loader(yaml.SafeLoader):
    """SafeLoader with line-aware containers, YAML-1.2-like scalars and bounded documents."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values under it, aliases followed

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(line, f"lồng nhau quá sâu, quá {MAX_DEPTH} cấp (nesting too deep)",
                              "viết phẳng lại: mỗi nhóm khóa hay danh sách chỉ lồng vài cấp")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._sizes:
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                children = []
            size = 1 + sum(self._sizes.get(id(child), 1) for child in children)
            if size > MAX_NODES:
                raise _Refused(node.start_mark.line + 1,
                              f"tệp quá lớn khi mở rộng các alias (*tên): hơn {MAX_NODES:,} giá trị "
                              "(alias expansion too large)",
                              "viết các giá trị ra trực tiếp, không dùng &neo và *alias lồng nhau")
            self._sizes[id(node)] = size
        return node



def _construct_timestamp(loader: Loader, node: yaml.ScalarNode) -> Any:
    """A date or date-time; a day that does not exist (2024-02-30, month 13, year 0) is refused at its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise _Refused(node.start_mark.line + 1, f"ngày '{node.value}' không có thật (impossible date)",
                       "kiểm tra lại ngày, tháng (1-12) và năm; viết dạng YYYY-MM-DD, ví dụ 2025-02-28") from None


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT, _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"^[-+]?(?:[0-9]+)?\.[0-9]+(?:[eE][-+]?[0-9]+)?$"), list("-+0123456789.")
)
Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _content_line(node: yaml.Node) -> int:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1
    return line


def _construct_map(loader: Loader, node: yaml.MappingNode):
    data = YMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    data.value_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                None, None, "khóa (key) phải là một chuỗi đơn giản", key_node.start_mark
            )
        key_line = key_node.start_mark.line + 1
        if key in data:
            raise _DuplicateKey(str(key), key_line, data.key_lines[key])
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_line
        data.value_lines[key] = _content_line(value_node)


def _construct_seq(loader: Loader, node: yaml.SequenceNode):
    data = YList()
    data.line = node.start_mark.line + 1
    data.item_lines = [n.start_mark.line + 1 for n in node.value]
    yield data
    data.extend(loader.construct_object(n, deep=True) for n in node.value)


Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file. Raises YamlError (with line) for anything unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise YamlError(line, "tệp không phải UTF-8 (file is not UTF-8)",
                        "lưu lại tệp với bảng mã UTF-8") from None
    return parse_yaml(text)


def parse_yaml(text: str) -> Any:
    """Parse YAML text (a file's, or a draft the studio has not saved). Raises YamlError (with line)."""
    text = unicodedata.normalize("NFC", text)
    try:
        return yaml.load(text, Loader=Loader)
    except _Refused as exc:
        raise YamlError(exc.line, exc.message, exc.hint) from None
    except _DuplicateKey as exc:
        raise YamlError(exc.line, f"khóa '{exc.key}' bị lặp, đã có ở dòng {exc.first_line} (duplicate key)",
                        "xóa một trong hai dòng") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "cú pháp sai"
        raise YamlError(line, f"lỗi cú pháp YAML: {what} (YAML syntax error)",
                        "kiểm tra thụt lề (dùng dấu cách, không dùng tab), dấu ':' và dấu ngoặc kép") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"lỗi cú pháp YAML: {exc} (YAML syntax error)", "kiểm tra lại tệp") from None
