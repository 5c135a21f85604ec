"""YAML reading that remembers line numbers.

Staff edit these files by hand, so every error must point at a line. PyYAML's safe
loader throws the node marks away; this subclass of its safe loader (libyaml's where PyYAML has it;
still safe: no Python tags are registered) keeps them on the mappings and lists it builds.

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

_TOO_DEEP = (f"lồng nhau quá sâu, quá {MAX_DEPTH} cấp (nesting too deep)",
             "viết phẳng lại: mỗi nhóm khóa hay danh sách chỉ lồng vài cấp")

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


# libyaml (the C parser PyYAML's wheels carry) reads the country's 3,321 commune files ~4x faster
# than PyYAML's Python parser; where it is missing the same class runs on the Python one.
_FAST = bool(getattr(yaml, "__with_libyaml__", False))
_SafeBase: Any = yaml.CSafeLoader if _FAST else yaml.SafeLoader
_EventsBase: Any = yaml.CBaseLoader if _FAST else yaml.BaseLoader


class Loader(_SafeBase):
    """A safe loader with line-aware containers, YAML-1.2-like scalars and bounded documents.

    The bounds are checked around composing, not inside it (libyaml composes in C): the nesting
    depth on the event stream before any node is built (so a deep file never recurses), the size
    with aliases followed on the composed nodes before anything is constructed from them."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._text = stream

    def get_single_data(self) -> Any:
        _check_depth(self._text)
        node = self.get_single_node()
        if node is None:
            return None
        _check_size(node)
        return self.construct_document(node)


def _check_depth(text: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH at the line of the first node too deep. A syntax error
    ends the scan: composing meets it too, or an earlier mistake first (an undefined alias), and
    reports whichever comes first in the file."""
    events = _EventsBase(text)
    try:
        depth = 0
        while True:
            try:
                if not events.check_event():
                    return
                event = events.get_event()
            except yaml.YAMLError:
                return
            if isinstance(event, yaml.NodeEvent) and depth + 1 > MAX_DEPTH:
                raise _Refused(event.start_mark.line + 1 if event.start_mark else 1, *_TOO_DEEP)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        events.dispose()


def _check_size(root: yaml.Node) -> None:
    """Refuse a document that counts more than MAX_NODES values once its aliases are followed
    ("billion laughs"), at the line of the node that grows past it. Each node is counted once and
    remembered: aliases share nodes, so this is linear in the file however much it expands."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a node that holds itself (&a [*a]) counts once inside itself
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        total = 1 + sum(size(child) for child in children)  # depth is bounded by _check_depth
        if total > MAX_NODES:
            raise _Refused(node.start_mark.line + 1,
                           f"tệp quá lớn khi mở rộng các alias (*tên): hơn {MAX_NODES:,} giá trị "
                           "(alias expansion too large)",
                           "viết các giá trị ra trực tiếp, không dùng &neo và *alias lồng nhau")
        sizes[id(node)] = total
        return total

    size(root)


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> Any:
    """An integer; one too long for Python to read (over 4,300 digits) is refused at its line."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        raise _Refused(node.start_mark.line + 1, f"số '{node.value[:20]}...' quá dài (number too long)",
                       "viết số ngắn hơn; nếu đó là chữ, đặt trong dấu nháy") from None


def _construct_timestamp(loader: Loader, node: yaml.ScalarNode) -> Any:
    """A date or date-time; a day that does not exist (2024-02-30, month 13, year 0) is refused at its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise _Refused(node.start_mark.line + 1, f"ngày '{node.value}' không có thật (impossible date)",
                       "kiểm tra lại ngày, tháng (1-12) và năm; viết dạng YYYY-MM-DD, ví dụ 2025-02-28") from None


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT, _BOOL)]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
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
Loader.add_constructor(_INT, _construct_int)


_QUOTE_IT = 'đặt cả giá trị trong ngoặc kép, ví dụ title: "Cảnh báo: lừa đảo qua mạng"'
# What staff get wrong most, as the parsers report it (libyaml and PyYAML word a few problems
# differently: words both use): (words of the parser's context, words of its problem, report the
# line where the context began (where the mistake was opened) rather than where the parser
# noticed, what happened (Vietnamese, then English), what to type)
_MISTAKES: tuple[tuple[str, str, bool, str, str], ...] = (
    ("quoted scalar", "unexpected", True, "dấu ngoặc mở ở dòng này chưa được đóng (unclosed quoted text)",
     "thêm dấu ngoặc đóng ở cuối giá trị; trong ngoặc kép, dấu \\ viết thành \\\\ (hoặc dùng ngoặc đơn ' ')"),
    ("simple key", "expected ':'", True,
     "dòng này thiếu dấu ':' sau tên trường, hoặc là chữ lạc ra ngoài thụt lề của đoạn trên "
     "(could not find expected ':')",
     "viết 'tên: giá trị' bằng dấu ':' thường và một dấu cách thường sau nó (chép từ Word có thể mang theo "
     "'：' hoặc dấu cách đặc biệt); dòng thuộc nội dung thì thụt vào như các dòng trên"),
    ("", "mapping values are not allowed", False,
     "có dấu ': ' ở giữa giá trị, hoặc dòng này thụt vào sâu hơn các trường khác (mapping values not allowed)",
     f"{_QUOTE_IT}; tên trường thì viết thẳng hàng với các trường ở trên"),
    ("", "did not find expected key", False,
     "dòng này không thẳng hàng với các trường ở trên, hoặc một giá trị có chữ sau dấu ngoặc đóng (\" ] }) "
     "(did not find expected key)",
     "thụt lề bằng dấu cách cho thẳng hàng; giá trị bắt đầu bằng ngoặc mà còn chữ phía sau thì đặt cả giá trị "
     "trong ngoặc đơn, ví dụ source: '\"Khẩn\" Công văn số 12'"),
    ("flow sequence", "expected ',' or ']'", True,
     "danh sách mở bằng '[' ở dòng này chưa được đóng bằng ']' (unclosed [)",
     f"thêm ']' ở cuối danh sách; nếu '[' là chữ của giá trị thì {_QUOTE_IT}"),
    ("flow mapping", "expected ',' or '}'", True,
     "nhóm mở bằng '{' ở dòng này chưa được đóng bằng '}' (unclosed {)",
     f"thêm '}}' ở cuối nhóm; nếu '{{' là chữ của giá trị thì {_QUOTE_IT}"),
    ("", "undefined alias", False,
     "giá trị bắt đầu bằng '*' bị hiểu là tham chiếu tới chỗ khác (undefined alias)",
     'đặt cả giá trị trong ngoặc kép, ví dụ phone: "*113#"'),
    ("", "tab", False, "có ký tự tab ở chỗ thụt lề (tab in indentation)",
     "thay tab bằng dấu cách (trình soạn thảo: hiện ký tự ẩn)"),
    ("block scalar", "expected comment or line break", False,
     "sau '|' hoặc '>' phải xuống dòng ngay (text after a block indicator)",
     "viết nội dung từ dòng sau, thụt vào hai dấu cách"),
)


# a line git writes where a merge could not join two versions of a file ('<<<<<<< HEAD', '>>>>>>> nhanh-khac')
_GIT_CONFLICT = re.compile(r"^(?:<{7}|>{7})(?: |$)", re.M)
_MERGE_CONFLICT = (
    "tệp còn dấu xung đột của git ('{}' ở dòng này): hai phiên bản của tệp đang lẫn vào nhau (merge conflict)",
    "giữ lại một phiên bản: xóa phần không dùng giữa các dòng '<<<<<<<', '=======' và '>>>>>>>', rồi xóa cả ba "
    "dòng dấu đó")


def load_yaml(path: Path) -> Any:
    """Parse one YAML file. Raises YamlError (with line) for anything unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise YamlError(line, "tệp không phải UTF-8 (file is not UTF-8)",
                        "lưu lại tệp với bảng mã UTF-8") from None
    return parse_yaml(text)


def source_lines(path: Path) -> list[str]:
    """A project file's lines as `load_yaml` reads them (NFC, without a BOM), to find where something is
    written; none when it cannot be read. A file saved decomposed (NFD) was searched as written, and
    what was looked for (composed) found in another file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return []
    return unicodedata.normalize("NFC", text).removeprefix("\ufeff").splitlines()


def parse_yaml(text: str) -> Any:
    """Parse YAML text (a file's, or a draft the studio has not saved). Raises YamlError (with line)."""
    # NFC as everything else compares text; without a BOM, which libyaml leaves out of line 1's columns
    text = unicodedata.normalize("NFC", text).removeprefix("\ufeff")
    try:
        return yaml.load(text, Loader=Loader)
    except _Refused as exc:
        raise YamlError(exc.line, exc.message, exc.hint) from None
    except _DuplicateKey as exc:
        raise YamlError(exc.line, f"khóa '{exc.key}' bị lặp, đã có ở dòng {exc.first_line} (duplicate key)",
                        "xóa một trong hai dòng") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (pasted from a document)
        before = text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "ignore") if _FAST \
            else text[: exc.position]  # libyaml counts bytes, PyYAML's reader characters
        raise YamlError(before.count("\n") + 1, f"có ký tự điều khiển U+{exc.character:04X} (control character)",
                        "xóa ký tự này (thường lẫn vào khi chép từ nơi khác); gõ lại dòng này") from None
    except yaml.MarkedYAMLError as exc:
        conflict = _GIT_CONFLICT.search(text)
        if conflict:  # a merge left both versions: said where it begins, not where the parser stumbled on it
            said, fix = _MERGE_CONFLICT
            line = text[: conflict.start()].count("\n") + 1
            raise YamlError(line, said.format(conflict.group().strip()), fix) from None
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's own bound (1,000 levels), met before ours
            raise YamlError(line, *_TOO_DEEP) from None
        if "cannot start any token" in (exc.problem or "") and mark:  # libyaml does not say which character
            lines = text.splitlines()
            char = lines[mark.line][mark.column:mark.column + 1] if mark.line < len(lines) else ""
            if char == "\t":
                raise YamlError(line, "có ký tự tab ở chỗ thụt lề (tab in indentation)",
                                "thay tab bằng dấu cách (trình soạn thảo: hiện ký tự ẩn)") from None
            raise YamlError(line, f"giá trị không được bắt đầu bằng '{char}' (character cannot start a value)",
                            _QUOTE_IT) from None
        for context, problem, at_context, message, fix in _MISTAKES:
            if context in (exc.context or "") and problem in (exc.problem or ""):
                if at_context and exc.context_mark:
                    line = exc.context_mark.line + 1
                raise YamlError(line, message, fix) from None
        what = exc.problem or exc.context or "cú pháp sai"
        raise YamlError(line, f"lỗi cú pháp YAML: {what} (YAML syntax error)",
                        "kiểm tra thụt lề (dùng dấu cách, không dùng tab), dấu ':' và dấu ngoặc kép") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"lỗi cú pháp YAML: {exc} (YAML syntax error)", "kiểm tra lại tệp") from None
    except UnicodeEncodeError as exc:  # a lone surrogate (text not from a file): libyaml reads UTF-8
        line = text[: exc.start].count("\n") + 1 if exc.object == text else 1
        raise YamlError(line, f"ký tự không hợp lệ #x{ord(exc.object[exc.start]):04x} (unacceptable character)",
                        "xóa ký tự đó rồi lưu lại") from None
