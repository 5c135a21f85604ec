"""YAML reading that remembers line numbers.

Staff edit these files by hand, so every error must point at a line. PyYAML's safe
loader throws the node marks away; this subclass of ``yaml.SafeLoader`` (still safe:
no Python tags are registered) keeps them on the mappings and lists it builds.

It also reads YAML the way a person means it, not YAML 1.1's surprises:
``17:00`` stays the string "17:00" (not the sexagesimal integer 1020) and
``no``/``on`` stay strings (only ``true``/``false`` are booleans).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import YamlError

__all__ = ["YList", "YMap", "YamlError", "load_yaml"]

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


class Loader(yaml.SafeLoader):
    """SafeLoader with line-aware containers and YAML-1.2-like scalars."""


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


def load_yaml(path: Path) -> Any:
    """Parse one YAML file. Raises YamlError (with line) for anything unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise YamlError(line, "tệp không phải UTF-8 (file is not UTF-8)",
                        "lưu lại tệp với bảng mã UTF-8") from None
    try:
        return yaml.load(text, Loader=Loader)
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
