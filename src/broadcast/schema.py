"""The declarative schema of every project file, in the manner of MkDocs' ``config_options``.

An option validates one value and returns it typed (a `time`, a `Slot`, a `Lexicon`), or
records what is wrong at the key's file, line and field and returns its default. A `Schema`
is a mapping of keys to options: it reports missing and unknown keys ("did you mean"),
runs its cross-field rules, and builds a typed object. Nothing stops at the first mistake.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, time
from typing import Any

from .errors import Problem
from .model import LEVELS, PRESETS, Contact, Province, Settings, Slot, Validity
from .speech.lexicon import SECTIONS, Lexicon

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"<<\s*([^<>]*?)\s*>>")

WEEKDAYS = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "t2": 1, "t3": 2, "t4": 3, "t5": 4, "t6": 5, "t7": 6, "cn": 7,
}
DAY_SETS = {"all": (1, 2, 3, 4, 5, 6, 7), "weekdays": (1, 2, 3, 4, 5), "hang-ngay": (1, 2, 3, 4, 5, 6, 7)}

Check = Callable[[Any], "tuple[str, str] | None"]  # a value -> (message, fix) or None


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
    known: Mapping[str, frozenset[str]] | None = None  # ids per folder, for `Ref`

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


# --- type checks shared with engine parameters (tts.base.Param) -------------------------------

TYPE_NAMES = {str: "chuỗi chữ (text)", int: "số nguyên (integer)", bool: "true/false",
              dict: "nhóm khóa (mapping)", list: "danh sách (list)", date: "ngày YYYY-MM-DD (date)"}


def is_kind(value: Any, kinds: type | tuple[type, ...]) -> bool:
    """`isinstance`, as a person means it: a bool is not a number, an int is a fine float."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool):
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def describe(value: Any) -> str:
    for kind, name in TYPE_NAMES.items():
        if is_kind(value, kind):
            return f"{name} '{value}'" if kind in (str, int) else name
    return repr(value)


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


class Type(Option):
    """A value of one YAML type; a number where text is expected (113 unquoted) becomes text."""

    def __init__(self, kind: type, **options: Any):
        super().__init__(**options)
        self.kind = kind

    def convert(self, value: Any, at: Place) -> Any:
        if self.kind is str and is_kind(value, float):
            value = str(value)
        if not is_kind(value, self.kind):
            name = TYPE_NAMES[self.kind]
            raise Invalid(f"'{at.key}' phải là {name}, nhưng đang là {describe(value)} (wrong type)",
                          f"sửa giá trị của '{at.key}' thành {name}")
        return value


class Text(Type):
    def __init__(self, **options: Any):
        super().__init__(str, **options)


class Choice(Text):
    def __init__(self, choices: tuple[str, ...], **options: Any):
        super().__init__(**options)
        self.choices = choices

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if value not in self.choices:
            raise Invalid(f"giá trị '{value}' không hợp lệ (invalid value)",
                          f"dùng một trong: {', '.join(self.choices)}")
        return value


class Slug(Text):
    """Lower-case ASCII, digits and dashes: safe as a file name."""

    def __init__(self, what: str, **options: Any):
        super().__init__(**options)
        self.what = what

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if not SLUG.match(value):
            raise Invalid(f"{self.what} '{value}' không hợp lệ: chỉ dùng chữ thường không dấu, số và dấu gạch ngang "
                          "(not a slug)", "ví dụ: canh-bao-lua-dao; không dùng dấu cách, '/', '..' hay chữ có dấu")
        return value


class FileId(Slug):
    """The `id` of a file: a slug equal to the file's name (what makes ids safe as paths)."""

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if value != at.stem:
            name = at.file.rsplit("/", 1)[-1]
            raise Invalid(f"id '{value}' khác tên tệp '{name}' (id must equal the file name)",
                          f"đặt id: {at.stem} hoặc đổi tên tệp thành {value}.yaml")
        return value


class Ref(Slug):
    """The id of a file in another folder (`voices`, `schedules`); `others`: not this file itself."""

    def __init__(self, folder: str, what: str, *, slug: bool = True, others: bool = False, **options: Any):
        super().__init__(what, **options)
        self.folder, self.slug, self.others = folder, slug, others

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at) if self.slug else Text.convert(self, value, at)
        ids = set((at.known or {}).get(self.folder, ()))
        if self.others:
            ids.discard(at.stem)
        if value not in ids:
            hint = f"dùng một trong: {', '.join(sorted(ids))}" if ids else f"tạo {self.folder}/{value}.yaml"
            raise Invalid(f"{self.what} '{value}' không có trong {self.folder}/ (unknown id)", hint)
        return value


class Code(Text):
    """An administrative code from the official list: at most `width` digits."""

    def __init__(self, width: int, **options: Any):
        super().__init__(**options)
        self.width = width

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if not value.isdigit() or len(value) > self.width:
            raise Invalid(f"mã hành chính '{value}' không hợp lệ (invalid administrative code)",
                          f"dùng mã số trong danh mục (tối đa {self.width} chữ số), viết trong ngoặc kép, "
                          f"ví dụ \"{'0' * (self.width - 1)}1\"")
        return value


class Phone(Text):
    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if not (PLACEHOLDER.search(value) or re.fullmatch(r"\+?[0-9][0-9 .]{1,18}[0-9]", value)):
            raise Invalid(f"số điện thoại '{value}' không hợp lệ (invalid phone number)",
                          "chỉ dùng chữ số, dấu chấm hoặc dấu cách, ví dụ \"113\" hay \"0889.226.999\"")
        return value


class Time(Text):
    """"06:00" -> time(6, 0)."""

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not (match and int(match[1]) < 24 and int(match[2]) < 60):
            raise Invalid(f"giờ bắt đầu '{value}' không hợp lệ (invalid time)",
                          "viết dạng \"06:00\" hoặc \"17:30\" (trong ngoặc kép)")
        return time(int(match[1]), int(match[2]))


class Days(Option):
    """'all', 'weekdays' or a list like [t2, t4, cn] -> sorted ISO weekdays."""

    def convert(self, value: Any, at: Place) -> Any:
        items = value
        if isinstance(value, str):
            if value.lower() in DAY_SETS:
                return DAY_SETS[value.lower()]
            items = [value]
        if isinstance(items, list | tuple) and items and all(str(d).lower() in WEEKDAYS for d in items):
            return tuple(sorted({WEEKDAYS[str(d).lower()] for d in items}))
        raise Invalid(f"ngày phát '{value}' không hiểu được (invalid days)",
                      "dùng 'all', 'weekdays' hoặc danh sách như [t2, t4, t6, cn] hay [mon, wed, fri, sun]")


class SubSchema(Type):
    """A nested mapping validated by its own schema; `not_mapping`: a kinder message than the type's."""

    def __init__(self, schema: Schema, not_mapping: tuple[str, str] | None = None, **options: Any):
        super().__init__(dict, **options)
        self.schema, self.not_mapping = schema, not_mapping

    def convert(self, value: Any, at: Place) -> Any:
        if self.not_mapping and not isinstance(value, dict):
            raise Invalid(*self.not_mapping)
        return self.schema.validate(super().convert(value, at), at)


class MapOf(Type):
    """A mapping of free keys (contact names) to values of one option."""

    def __init__(self, option: Option, **options: Any):
        super().__init__(dict, **options)
        self.option = option

    def convert(self, value: Any, at: Place) -> Any:
        items = super().convert(value, at).items()
        return {str(k): self.option.validate(v, at.child(value, k)) for k, v in items if v is not None}


class ListOf(Type):
    """A list of values of one option; items that fail are left out."""

    def __init__(self, option: Option, **options: Any):
        super().__init__(list, **options)
        self.option = option

    def convert(self, value: Any, at: Place) -> Any:
        items = (self.option.validate(v, at.child(value, i)) for i, v in enumerate(super().convert(value, at)))
        return [item for item in items if item is not None]


class LexiconOption(Option):
    """A lexicon mapping -> `Lexicon` of its good entries; each bad entry reported at its own line.

    Fields are named by section and key ("abbreviations.CA"), in whichever file they are.
    """

    HINT = "sửa mục này theo docs/lexicon.md"

    def validate(self, value: Any, at: Place) -> Any:
        if not isinstance(value, dict):
            self._reported(value, at)
            return self.default
        good: dict[str, dict[str, Any]] = {}
        for section, entries in value.items():
            if section not in SECTIONS or not isinstance(entries, dict):
                self._reported({section: entries}, at.child(value, section, field=str(section)))
                continue
            for key, reading in entries.items():
                if not self._reported({section: {key: reading}}, at.child(entries, key, f"{section}.{key}")):
                    good.setdefault(section, {})[key] = reading
        return Lexicon.from_mapping(good, at.file)

    def _reported(self, data: Any, at: Place) -> bool:
        """Whether `data` is not a lexicon (then the reason is recorded at `at`)."""
        try:
            Lexicon.from_mapping(data, at.file)
        except ValueError as exc:
            at.problem(str(exc).rstrip("."), self.HINT)
            return True
        return False


# --- schemas ----------------------------------------------------------------------------------

Rule = Callable[[dict[str, Any]], "tuple[str, str, str] | None"]  # values -> (key, message, fix) or None


@dataclass(frozen=True)
class Schema:
    """The keys a mapping may have; `build` makes the typed object from the validated values."""

    options: Mapping[str, Option]
    build: Callable[[dict[str, Any]], Any] = dict
    rules: tuple[Rule, ...] = ()

    def validate(self, data: Mapping[str, Any], at: Place) -> Any:
        values = {}
        for key, option in self.options.items():
            here = at.child(data, key)
            if data.get(key) is None:
                if option.required:
                    here.problem(f"thiếu trường bắt buộc '{key}' (missing required field)",
                                 f"thêm dòng '{key}: ...' vào tệp")
                values[key] = option.default
            else:
                values[key] = option.validate(data[key], here)
        for rule in self.rules:
            bad = rule(values)
            if bad:
                at.child(data, bad[0]).problem(*bad[1:])
        for key in data:
            if key not in self.options:
                close = difflib.get_close_matches(str(key), sorted(self.options), n=1)
                hint = f"có phải ý bạn là '{close[0]}'?" if close else \
                    f"xóa dòng này; các trường hợp lệ: {', '.join(sorted(self.options))}"
                at.child(data, key).problem(f"trường không xác định '{key}' (unknown field)", hint)
        return self.build(values)


def _positive(value: int) -> tuple[str, str] | None:
    return None if value >= 1 else (f"giá trị {value} phải lớn hơn hoặc bằng 1", "dùng số nguyên dương, ví dụ 1")


def _until_after_from(v: dict[str, Any]) -> tuple[str, str, str] | None:
    if v["from"] and v["until"] and v["until"] < v["from"]:
        return ("until", f"ngày hết hạn {v['until']} trước ngày bắt đầu {v['from']} (until before from)",
                "kiểm tra lại hai ngày from và until")
    return None


def _unique_slot_names(v: dict[str, Any]) -> tuple[str, str, str] | None:
    names = [s.name for s in v["slots"]]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        return "slots", f"hai buổi phát trùng tên '{dups[0]}' (duplicate slot name)", "đặt tên khác nhau cho mỗi buổi"
    return None


def _body_not_blank(v: dict[str, Any]) -> tuple[str, str, str] | None:
    if v["body"] is not None and not v["body"].strip():
        return "body", "nội dung kịch bản đang trống (empty body)", "viết nội dung sau 'body: |'"
    return None


def _complete(make: Callable[..., Any]) -> Callable[[dict[str, Any]], Any]:
    """`make(**values)`, or None when a required value is missing or wrong."""
    return lambda v: None if None in v.values() else make(**v)


_DEFAULTS = Settings(name="")

SETTINGS = Schema({
    "name": Text(required=True, default=""),
    "timezone": Text(default=_DEFAULTS.timezone, check=lambda v: None if v == "Asia/Ho_Chi_Minh" else
                     (f"múi giờ '{v}' chưa được hỗ trợ", "dùng Asia/Ho_Chi_Minh")),
    "default_voice": Ref("voices", "giọng đọc", default=_DEFAULTS.default_voice),
    "preset": Choice(PRESETS, default=_DEFAULTS.preset),
    "min_airings": Type(int, default=_DEFAULTS.min_airings, check=_positive),
    "opening": Text(default=""),
    "closing": Text(default=""),
}, build=lambda v: Settings(**v))

VOICE = Schema({
    "id": FileId("id giọng đọc", required=True),
    "engine": Text(required=True, default=""),
    "params": Type(dict, default={}),
    "fallback": Ref("voices", "giọng dự phòng", others=True),
    "description": Text(default=""),
})

SLOT = Schema({
    "name": Slug("tên buổi", required=True),
    "label": Text(),
    "days": Days(default=DAY_SETS["all"]),
    "start": Time(required=True),
    "minutes": Type(int, required=True, check=_positive),
}, build=lambda v: _complete(Slot)({**v, "label": v["label"] or v["name"] or ""}))

SCHEDULE = Schema({
    "id": FileId("id lịch phát", required=True),
    "name": Text(default=""),
    "slots": ListOf(SubSchema(SLOT, ("mỗi buổi phát phải là một nhóm khóa (name, days, start, minutes)",
                                     "viết dạng '- name: sang' rồi các dòng days, start, minutes thụt vào")),
                    required=True, default=[]),
}, rules=(_unique_slot_names,))

VALIDITY = Schema({"from": Type(date, required=True), "until": Type(date)}, rules=(_until_after_from,),
                  build=lambda v: Validity(v["from"], v["until"]) if v["from"] else None)

SCRIPT = Schema({
    "id": FileId("id kịch bản", required=True),
    "title": Text(required=True, default=""),
    "source": Text(required=True, default=""),
    "level": Choice(LEVELS, default="normal"),
    "valid": SubSchema(VALIDITY, required=True),
    "repeat": Type(int, default=1, check=lambda v: None if 1 <= v <= 5 else
                   (f"số lần nhắc lại {v} ngoài khoảng 1-5", "dùng repeat: 1 hoặc 2")),
    "voice": Ref("voices", "giọng đọc"),
    "body": Text(required=True, default=""),
}, rules=(_body_not_blank,))

CONTACT = Schema({"name": Text(default=""), "phone": Phone(default="")}, build=lambda v: Contact(**v))

LEXICON = LexiconOption()

# what a province file and a commune file may both set; None: not set here (inherit)
_LOCALE = {
    "division_type": Choice(("xã", "phường", "đặc khu")),
    "station": Text(),
    "schedule": Ref("schedules", "lịch phát", slug=False),
    "voice": Ref("voices", "giọng đọc", slug=False),
    "preset": Choice(PRESETS),
    "contacts": MapOf(SubSchema(CONTACT), default={}),
    "vars": Type(dict, default={}),
    "lexicon": LEXICON,
}

PROVINCE = Schema({
    "province": SubSchema(Schema({"name": Text(required=True), "code": Code(2, required=True)}),
                          required=True),
    **_LOCALE,
})

COMMUNE = Schema({"name": Text(required=True), "code": Code(5, required=True), **_LOCALE})


def province(folder: str, values: dict[str, Any]) -> Province:
    own = values["province"] or {}
    return Province(folder, own.get("name") or "", own.get("code") or "")
