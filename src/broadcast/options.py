"""The validation primitives shared by project files and engine parameters (MkDocs' ``config_options``).

An option validates one value and returns it typed, or records what is wrong at the key's
file, line and field and returns its default. A `Schema` is a mapping of keys to options: it
reports missing and unknown keys ("did you mean"), runs its cross-field rules, and builds a
typed object. Nothing stops at the first mistake.

This module knows nothing of projects or engines (it imports only `broadcast.errors`), so
both layers build on it without a cycle: ``options <- tts.base <- tts.registry <- schema <-
project``. The project files' own options and schemas are in `broadcast.schema`; an engine's
parameters are `broadcast.tts.base.Param`, a `Type` with a name and a help line.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from .errors import Problem

Check = Callable[[Any], "tuple[str, str] | None"]  # a value -> (message, fix) or None
Kinds = type | tuple[type, ...]


class Invalid(Exception):
    """What is wrong with one value, and how to fix it."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Place:
    """Where a value sits (file, line, field, key) and where its problems go."""

    problems: list[Problem]
    file: str  # relative to the project root
    line: int = 1
    field: str = ""
    key: str = ""
    known: Mapping[str, frozenset[str]] | None = None  # ids per folder, for `schema.Ref`

    @property
    def stem(self) -> str:
        """The file's name without folder and suffix: what its `id` must be."""
        return self.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    def problem(self, message: str, hint: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.file, self.line, self.field, message, hint, severity))

    def child(self, container: Any, key: Any, field: str | None = None) -> Place:
        """The place of `container[key]`: a key of a mapping or an index of a list."""
        if isinstance(key, int):
            name = f"{self.key}[{key}]"
            return replace(self, line=container.line_of(key), field=f"{self.field}[{key}]", key=name)
        line = container.line_of(key) if hasattr(container, "line_of") else self.line
        dotted = f"{self.field}.{key}" if self.field else str(key)
        return replace(self, line=line, field=dotted if field is None else field, key=str(key))


# --- types, as a person means them ------------------------------------------------------------

TYPE_NAMES = {str: "chuỗi chữ (text)", int: "số nguyên (integer)", float: "số (number)", bool: "true/false",
              dict: "nhóm khóa (mapping)", list: "danh sách (list)", datetime: "ngày giờ (date-time)",
              date: "ngày YYYY-MM-DD (date)"}


def is_kind(value: Any, kinds: Kinds) -> bool:
    """`isinstance`, as a person means it: a bool is not a number, an int is a fine float, a
    date-time is not a date."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, datetime):
        return datetime in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def describe(value: Any) -> str:
    for kind, name in TYPE_NAMES.items():
        if is_kind(value, kind):
            return f"{name} '{value}'" if kind in (str, int, float, datetime) else name
    return repr(value)


def kind_name(kinds: Kinds) -> str:
    """'số nguyên (integer)'; a tuple reads 'a hoặc b' (None, which means "not set", is left out)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " hoặc ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds if k is not type(None))


# --- options ----------------------------------------------------------------------------------


class Option:
    """One field. Subclasses override `convert` (raise `Invalid` for a bad value)."""

    def __init__(self, *, required: bool = False, default: Any = None, check: Check | None = None):
        self.required, self.default, self.check = required, default, check

    def validate(self, value: Any, at: Place) -> Any:
        """The typed value, or the default once the problem is recorded at `at`."""
        try:
            value = self.convert(value, at)
            bad = self.check(value) if self.check is not None else None
            if bad:
                raise Invalid(*bad)
        except Invalid as exc:
            at.problem(exc.message, exc.hint)
            return self.default
        return value

    def convert(self, value: Any, at: Place) -> Any:
        return value

    def given(self, values: Mapping[str, Any]) -> Option:
        """The option to use once the keys before it are validated (see `Depends`)."""
        return self


class Type(Option):
    """A value of a YAML type (or one of several), optionally within `low`..`high` or one of `choices`."""

    def __init__(self, kind: Kinds, *, low: float | None = None, high: float | None = None,
                 choices: tuple[Any, ...] | None = None, **options: Any):
        super().__init__(**options)
        self.kind, self.low, self.high, self.choices = kind, low, high, choices

    def convert(self, value: Any, at: Place) -> Any:
        if not is_kind(value, self.kind):
            name = kind_name(self.kind)
            raise Invalid(f"'{at.key}' phải là {name}, nhưng đang là {describe(value)} (wrong type)",
                          f"sửa giá trị của '{at.key}' thành {name}")
        low, high = self.low, self.high
        if low is not None and value < low or high is not None and value > high:
            if high is None:
                raise Invalid(f"'{at.key}' = {value} phải lớn hơn hoặc bằng {low} (too small)",
                              f"dùng một số từ {low} trở lên")
            raise Invalid(f"'{at.key}' = {value} nằm ngoài khoảng {low}–{high} (out of range)",
                          f"dùng một số từ {low} đến {high}")
        if self.choices is not None and value not in self.choices:
            raise Invalid(f"giá trị '{value}' không hợp lệ (invalid value)",
                          f"dùng một trong: {', '.join(map(str, self.choices))}")
        return value


class Text(Type):
    """Text; a number where text is expected (113 unquoted) becomes text."""

    def __init__(self, **options: Any):
        super().__init__(str, **options)

    def convert(self, value: Any, at: Place) -> Any:
        return super().convert(str(value) if is_kind(value, float) else value, at)


def _noncharacter(char: str) -> bool:
    """One of Unicode's 66 noncharacters (U+FDD0-U+FDEF, U+xxFFFE, U+xxFFFF): never text, and
    XML (the feeds) cannot hold U+FFFE and U+FFFF at all."""
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


class Line(Text):
    """Text on one line (a name, a title): it ends up in one-line fields of playlists and
    calendars, so a line break or a control character is refused. Surrounding spaces (and the
    final newline of a `>` block) are stripped; `blank`: whether "" is a value."""

    def __init__(self, *, blank: bool = True, **options: Any):
        super().__init__(**options)
        self.blank = blank

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at).strip()
        for char in value:
            if char in "\n\r\v\f\x85\u2028\u2029":
                raise Invalid(f"'{at.key}' có ký tự xuống dòng, phải viết trên một dòng (newline)",
                              f"viết '{at.key}' trên một dòng, không dùng '|' hay '\\n'")
            if unicodedata.category(char) in ("Cc", "Co", "Cs") or _noncharacter(char):
                raise Invalid(f"'{at.key}' có ký tự điều khiển U+{ord(char):04X} (control character)",
                              "xóa ký tự này (thường lẫn vào khi chép từ nơi khác); gõ lại dòng này")
        if not value and not self.blank:
            raise Invalid(f"'{at.key}' đang trống (empty value)",
                          f"điền giá trị cho '{at.key}' hoặc xóa dòng này")
        return value


class Choice(Text):
    def __init__(self, choices: tuple[str, ...], **options: Any):
        super().__init__(choices=choices, **options)

    def convert(self, value: Any, at: Place) -> Any:
        # "priority " with a no-break space pasted after it is the choice the person typed
        return super().convert(value.strip() if isinstance(value, str) else value, at)


class SubSchema(Type):
    """A nested mapping validated by its own schema; `not_mapping`: a kinder message than the type's."""

    def __init__(self, schema: Schema, not_mapping: tuple[str, str] | None = None, **options: Any):
        super().__init__(dict, **options)
        self.schema, self.not_mapping = schema, not_mapping

    def convert(self, value: Any, at: Place) -> Any:
        if self.not_mapping and not isinstance(value, dict):
            raise Invalid(*self.not_mapping)
        return self.schema.validate(super().convert(value, at), at)


class Depends(Option):
    """An option chosen by the validated value of an earlier key (a voice's params by its engine)."""

    def __init__(self, key: str, choose: Callable[[Any], Option]):
        super().__init__()
        self.key, self.choose = key, choose

    def given(self, values: Mapping[str, Any]) -> Option:
        return self.choose(values.get(self.key))


# --- schemas ----------------------------------------------------------------------------------

Rule = Callable[[dict[str, Any]], "tuple[str, str, str] | None"]  # values -> (key, message, fix) or None


@dataclass(frozen=True)
class Schema:
    """The keys a mapping may have; `build` makes the typed object from the validated values.

    `unknown` names a key in Vietnamese and English, for "unknown field" and its fix. With
    `null`, a key written without a value (`phone:`, `phone: ~`) is an error with that fix."""

    options: Mapping[str, Option]
    build: Callable[[dict[str, Any]], Any] = dict
    rules: tuple[Rule, ...] = ()
    unknown: tuple[str, str] = ("trường", "field")
    null: str = ""  # the fix when a key is written with no value; "" = such a key counts as not set

    def validate(self, data: Mapping[str, Any], at: Place) -> Any:
        values: dict[str, Any] = {}
        for key, option in self.options.items():
            option = option.given(values)
            here = at.child(data, key)
            if data.get(key) is None:
                if self.null and key in data:
                    here.problem(f"'{key}' không có giá trị (empty value)", self.null)
                elif option.required:
                    here.problem(f"thiếu trường bắt buộc '{key}' (missing required field)",
                                 f"thêm dòng '{key}: ...' vào tệp")
                values[key] = option.default
            else:
                values[key] = option.validate(data[key], here)
        for rule in self.rules:
            bad = rule(values)
            if bad:
                at.child(data, bad[0]).problem(*bad[1:])
        vi, en = self.unknown
        for key in data:
            if key not in self.options:
                bare = "".join(str(key).split())  # a no-break space pasted from Word is not YAML's indentation
                if any(c.isspace() and c != " " for c in str(key)):
                    at.child(data, key).problem(
                        f"'{bare}' có dấu cách đặc biệt (không phải dấu cách thường) ở đầu hoặc trong tên "
                        "(no-break space in a key)",
                        f"xóa phần thụt lề của dòng này rồi gõ lại bằng phím cách; viết '{bare}:' như các dòng khác")
                    continue
                close = difflib.get_close_matches(str(key), sorted(self.options), n=1)
                hint = f"có phải ý bạn là '{close[0]}'?" if close else \
                    f"xóa dòng này; các {vi} hợp lệ: {', '.join(sorted(self.options)) or '(không có / none)'}"
                at.child(data, key).problem(f"{vi} không xác định '{key}' (unknown {en})", hint)
        return self.build(values)
