"""The declarative schema of every project file, in the manner of MkDocs' ``config_options``.

An option validates one value and returns it typed (a `time`, a `Slot`, a `Lexicon`), or
records what is wrong at the key's file, line and field and returns its default. A `Schema`
is a mapping of keys to options: it reports missing and unknown keys ("did you mean"),
runs its cross-field rules, and builds a typed object. Nothing stops at the first mistake.

The primitives (`Option`, `Type`, `Text`, `Choice`, `Schema`, `Place`) are in `broadcast.options`,
shared with engine parameters; here are the project files' own options and their schemas. A
voice's `params` are validated against its engine's `PARAMS` (`tts.registry`), each at its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date, time
from typing import Any
from urllib.parse import urlsplit

from .audio.presets import DEFAULT_PRESET, Preset, get_preset, preset_names
from .errors import TTSError
from .formats.text import DEVICE_NAMES, device_name
from .model import ANNOUNCEMENTS, LEVELS, Contact, OfficialNumber, Province, Settings, Slot, Validity
from .options import Choice, Depends, Invalid, Line, Option, Place, Schema, SubSchema, Text, Type
from .phones import numbering_problem
from .speech.lexicon import SECTIONS, Lexicon
from .tts.registry import ENGINES, engine_class

# lower-case ASCII words joined by dashes, and not a name Windows keeps for a device
SLUG = re.compile(rf"^(?!(?:{'|'.join(DEVICE_NAMES)})$)[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"<<\s*([^<>]*?)\s*>>")

WEEKDAYS = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "t2": 1, "t3": 2, "t4": 3, "t5": 4, "t6": 5, "t7": 6, "cn": 7,
}
DAY_SETS = {"all": (1, 2, 3, 4, 5, 6, 7), "weekdays": (1, 2, 3, 4, 5), "hang-ngay": (1, 2, 3, 4, 5, 6, 7)}


# --- options of project files -----------------------------------------------------------------


# An id is a file or folder name in output/<week>/<province>/<commune>/messages/<id>.mp3 and its temp names:
# Windows' 260-character paths leave about this much once the project folder itself is deep.
MAX_SLUG = 60


class Slug(Text):
    """Lower-case ASCII, digits and dashes: safe as a file name."""

    def __init__(self, what: str, **options: Any):
        super().__init__(**options)
        self.what = what

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if device_name(value):
            raise Invalid(f"{self.what} '{value}' là tên Windows dành cho thiết bị: không tạo được tệp tên này trên "
                          "máy Windows của đài (reserved name on Windows)", f"đặt tên khác, ví dụ {value}-1")
        if not SLUG.match(value):
            raise Invalid(f"{self.what} '{value}' không hợp lệ: chỉ dùng chữ thường không dấu, số và dấu gạch ngang "
                          "(not a slug)", "ví dụ: canh-bao-lua-dao; không dùng dấu cách, '/', '..' hay chữ có dấu")
        if len(value) > MAX_SLUG:
            raise Invalid(f"{self.what} '{value[:20]}…' dài {len(value)} ký tự, tối đa {MAX_SLUG}: đường dẫn tệp trên "
                          "Windows bị giới hạn 260 ký tự (too long)", "rút gọn, ví dụ bỏ bớt từ: canh-bao-otp")
        return value


class FileId(Slug):
    """The `id` of a file: a slug equal to the file's name (what makes ids safe as paths), and
    none of `taken` (names the build gives files of its own)."""

    def __init__(self, what: str, taken: tuple[str, ...] = (), **options: Any):
        super().__init__(what, **options)
        self.taken = taken

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        if value in self.taken:
            raise Invalid(f"{self.what} '{value}' trùng tên tệp lời mở đầu/kết thúc của đài trong thư mục messages "
                          "(reserved name)", f"đổi tên tệp và id, ví dụ {value}-1")
        if value != at.stem:
            name = at.file.rsplit("/", 1)[-1]
            fix = f"đặt id: {at.stem} hoặc đổi tên tệp thành {value}.yaml" if SLUG.match(at.stem) else \
                f"đổi tên tệp thành {value}.yaml (tên tệp cũng chỉ dùng chữ thường không dấu, số và '-')"
            raise Invalid(f"id '{value}' khác tên tệp '{name}' (id must equal the file name)", fix)
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
            if value == at.stem:
                raise Invalid(f"{self.what} '{value}' là chính tệp này (refers to itself)",
                              f"dùng một {self.what} khác" + (f": {', '.join(sorted(ids))}" if ids else
                                                             f", tạo {self.folder}/<mã khác>.yaml"))
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


class MapOf(Type):
    """A mapping of free keys (contact names) to values of one option; a key without a value
    is an error (it would hide the province's value: "số None"), removing the key is the way."""

    def __init__(self, option: Option, **options: Any):
        super().__init__(dict, **options)
        self.option = option

    def convert(self, value: Any, at: Place) -> Any:
        out = {}
        for k, v in super().convert(value, at).items():
            here = at.child(value, k)
            if v is None:
                here.problem(f"'{k}' không có giá trị (empty value)",
                             f"điền giá trị cho '{k}', hoặc xóa dòng này để dùng giá trị của tỉnh")
                continue
            checked = self.option.validate(v, here)
            if checked is not None:  # a wrong value is reported; it does not become a None
                out[str(k)] = checked
        return out


class ListOf(Type):
    """A list of values of one option; items that fail are left out."""

    def __init__(self, option: Option, **options: Any):
        super().__init__(list, **options)
        self.option = option

    def convert(self, value: Any, at: Place) -> Any:
        items = (self.option.validate(v, at.child(value, i)) for i, v in enumerate(super().convert(value, at)))
        return [item for item in items if item is not None]


MINUTES_PER_DAY = 24 * 60
# a loudspeaker airs a few times a day; more than one slot an hour is a mistake (a slot a minute wrote
# 10,080 program files a commune a week, and took lint 19 s and plan 98 s on the example project)
MAX_SLOTS_PER_DAY = 24


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Slots(ListOf):
    """A schedule's slots: at least one, each ending by midnight, none overlapping another on
    a day they share (each problem at the slot's line)."""

    def convert(self, value: Any, at: Place) -> Any:
        raw = Type.convert(self, value, at)
        if not raw:
            raise Invalid("lịch phát chưa có buổi nào: các xã dùng lịch này sẽ không được phát gì (no slots)",
                          "thêm ít nhất một buổi, ví dụ '- {name: sang, days: all, start: \"06:00\", minutes: 15}'")
        placed: list[tuple[Any, int, int]] = []  # (slot, start, end) in minutes of the day
        per_day: dict[int, int] = {}  # slots by ISO weekday
        for index, item in enumerate(raw):
            here = at.child(raw, index)
            slot = self.option.validate(item, here)
            if slot is None:
                continue
            full = [day for day in slot.days if per_day.get(day, 0) >= MAX_SLOTS_PER_DAY]
            if full:  # said once, and the slots after it are not read (a slot a minute is 1,440 of them)
                day = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")[full[0] - 1]
                here.problem(f"buổi '{slot.name}': quá {MAX_SLOTS_PER_DAY} buổi phát trong một ngày ({day}) "
                             "(too many slots a day)",
                             f"mỗi ngày tối đa {MAX_SLOTS_PER_DAY} buổi: gộp các buổi liền nhau thành một buổi dài hơn")
                break
            for day in slot.days:
                per_day[day] = per_day.get(day, 0) + 1
            start = slot.start.hour * 60 + slot.start.minute
            end = start + slot.minutes
            if end > MINUTES_PER_DAY:
                here.problem(f"buổi '{slot.name}' bắt đầu {_clock(start)}, dài {slot.minutes} phút, kéo qua nửa đêm "
                             "(slot runs past midnight)",
                             "cho buổi kết thúc trước 24:00, hoặc tách phần sau nửa đêm thành buổi khác bắt đầu 00:00")
            for other, o_start, o_end in placed:
                if set(slot.days) & set(other.days) and start < o_end and o_start < end:
                    here.problem(f"buổi '{slot.name}' ({_clock(start)}–{_clock(end)}) trùng giờ với buổi "
                                 f"'{other.name}' ({_clock(o_start)}–{_clock(o_end)}) (overlapping slots)",
                                 "đổi giờ bắt đầu hoặc số phút để hai buổi không chồng lên nhau")
                    break
            placed.append((slot, start, end))
        return [slot for slot, _, _ in placed]


class EngineName(Text):
    """The name of a registered TTS engine; an unknown one is told the valid ones."""

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        try:
            engine_class(value)
        except TTSError as exc:
            raise Invalid(exc.message, f"dùng một trong: {', '.join(sorted(ENGINES))}") from None
        return value


def engine_params(engine: str | None) -> Option:
    """What a voice's `params` must be: the engine's `PARAMS` (defaults filled in), or any
    mapping while the engine is unknown (that problem is reported at `engine`)."""
    if engine not in ENGINES:
        return Type(dict, default={})
    cls = ENGINES[engine]
    return SubSchema(cls.param_schema(), default=cls.normalize_params(None))


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
                here = at.child(entries, key, f"{section}.{key}")
                if not self._reported({section: {key: reading}}, here):
                    good.setdefault(section, {})[key] = reading
                    if isinstance(reading, dict):
                        self._scopes_known(reading, here)
        return Lexicon.from_mapping(good, at.file)

    def _scopes_known(self, reading: dict[str, Any], at: Place) -> None:
        """A reading for one voice or engine names one that exists: 'espek' would never be used."""
        scopes = set((at.known or {}).get("voices", ())) | set(ENGINES)
        for scope in reading:
            if str(scope) not in scopes:
                close = difflib.get_close_matches(str(scope), sorted(scopes), n=1)
                at.child(reading, scope).problem(
                    f"không có giọng hay động cơ đọc '{scope}': cách đọc này sẽ không bao giờ được dùng "
                    "(unknown voice or engine)",
                    (f"có phải ý bạn là '{close[0]}'? " if close else "")
                    + f"dùng mã một giọng trong voices/ hoặc một động cơ: {', '.join(sorted(ENGINES))}")

    def _reported(self, data: Any, at: Place) -> bool:
        """Whether `data` is not a lexicon (then the reason is recorded at `at`)."""
        try:
            Lexicon.from_mapping(data, at.file)
        except ValueError as exc:
            at.problem(str(exc).rstrip("."), self.HINT)
            return True
        return False


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


class PresetName(Choice):
    """A delivery preset, by name in the file, as the `Preset` object itself once read: the one
    place a name becomes a preset (adding one to audio/presets.py is all it takes)."""

    def __init__(self, **options: Any):
        super().__init__(tuple(preset_names()), **options)

    def convert(self, value: Any, at: Place) -> Preset:
        return get_preset(super().convert(value, at))


def _check_public_url(value: str) -> tuple[str, str] | None:
    """The address output/ is served at: the feeds' enclosures and links start with it."""
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment
                  or any(c.isspace() or c in "<>\"'" for c in value)):
        return (f"địa chỉ '{value}' không hợp lệ",
                "viết dạng https://ten-mien/duong-dan, là nơi phục vụ thư mục output/")
    return None


def _says_something(value: str, what: str) -> tuple[str, str] | None:
    """The station's line, when given, has a word to say: one of punctuation alone ("...") stopped the
    build with a traceback at the first program."""
    if value and not any(c.isalnum() for c in value):
        return (f"{what} '{value[:20]}' không có chữ nào để đọc (nothing to say)",
                "viết một câu bằng chữ, hoặc xóa dòng này nếu đài không cần")
    return None


_DEFAULTS = Settings(name="", preset=get_preset(DEFAULT_PRESET))

SETTINGS = Schema({
    "name": Line(required=True, default=""),
    "timezone": Text(default=_DEFAULTS.timezone, check=lambda v: None if v == "Asia/Ho_Chi_Minh" else
                     (f"múi giờ '{v}' chưa được hỗ trợ", "dùng Asia/Ho_Chi_Minh")),
    "default_voice": Ref("voices", "giọng đọc", default=_DEFAULTS.default_voice),
    "preset": PresetName(default=_DEFAULTS.preset),
    "min_airings": Type(int, default=_DEFAULTS.min_airings, low=1),
    "opening": Text(default="", check=lambda v: _says_something(v, "lời mở đầu")),
    "closing": Text(default="", check=lambda v: _says_something(v, "lời kết thúc")),
    "approval": Choice(("off", "required"), default="off"),
    "public_url": Line(default="", check=_check_public_url),
}, build=lambda v: Settings(**{**v, "public_url": v["public_url"].rstrip("/")}))

VOICE = Schema({
    "id": FileId("id giọng đọc", required=True),
    "engine": EngineName(required=True, default=""),
    "params": Depends("engine", engine_params),
    "fallback": Ref("voices", "giọng dự phòng", others=True),
    "description": Text(default=""),
})

SLOT = Schema({
    "name": Slug("tên buổi", required=True),
    "label": Line(),
    "days": Days(default=DAY_SETS["all"]),
    "start": Time(required=True),
    "minutes": Type(int, required=True, low=1, high=MINUTES_PER_DAY),
}, build=lambda v: _complete(Slot)({**v, "label": v["label"] or v["name"] or ""}))

SCHEDULE = Schema({
    "id": FileId("id lịch phát", required=True),
    "name": Line(default=""),
    "slots": Slots(SubSchema(SLOT, ("mỗi buổi phát phải là một nhóm khóa (name, days, start, minutes)",
                                     "viết dạng '- name: sang' rồi các dòng days, start, minutes thụt vào")),
                    required=True, default=[]),
}, rules=(_unique_slot_names,))

VALIDITY = Schema({"from": Type(date, required=True), "until": Type(date)}, rules=(_until_after_from,),
                  build=lambda v: Validity(v["from"], v["until"]) if v["from"] else None)

SCRIPT = Schema({
    "id": FileId("id kịch bản", taken=tuple(stem for stem, _ in ANNOUNCEMENTS.values()), required=True),
    "title": Line(required=True, default="", blank=False),  # a blank title made a list row nobody can click
    "source": Line(required=True, default=""),
    "level": Choice(LEVELS, default="normal"),
    "valid": SubSchema(VALIDITY, required=True),
    "repeat": Type(int, default=1, low=1, high=5),
    "voice": Ref("voices", "giọng đọc"),
    "body": Text(required=True, default=""),
}, rules=(_body_not_blank,))

CONTACT = Schema({"name": Line(blank=False, default=""), "phone": Phone(default="")}, build=lambda v: Contact(**v),
                 null="điền giá trị, hoặc xóa dòng này để dùng giá trị của tỉnh")

LEXICON = LexiconOption()

# what a province file and a commune file may both set; None: not set here (inherit)
_LOCALE = {
    "division_type": Choice(("xã", "phường", "đặc khu")),
    "station": Line(blank=False),
    "schedule": Ref("schedules", "lịch phát", slug=False),
    "voice": Ref("voices", "giọng đọc", slug=False),
    "preset": PresetName(),
    "contacts": MapOf(SubSchema(CONTACT), default={}),
    "vars": Type(dict, default={}),
    "lexicon": LEXICON,
}

PROVINCE = Schema({
    "province": SubSchema(Schema({"name": Line(required=True, blank=False), "code": Code(2, required=True)}),
                          required=True),
    **_LOCALE,
})

COMMUNE = Schema({"name": Line(required=True, blank=False), "code": Code(5, required=True), **_LOCALE})


class PlanNumber(Text):
    """A phone number that fits the Vietnamese numbering plan (`phones.numbering_problem`)."""

    def convert(self, value: Any, at: Place) -> Any:
        value = super().convert(value, at)
        why = numbering_problem(value)
        if why:
            raise Invalid(f"số điện thoại '{value}' sai quy hoạch số Việt Nam: {why} (invalid phone number)",
                          "chép đúng số từ văn bản nguồn, ví dụ \"0889.226.999\"")
        return value


OFFICIAL_NUMBERS = Schema({
    "numbers": ListOf(SubSchema(Schema({
        "number": PlanNumber(required=True),
        "who": Line(required=True, blank=False),
        "source": Line(required=True, blank=False),
    }, build=_complete(OfficialNumber)), ("mỗi số phải là một nhóm khóa (number, who, source)",
                                        "viết dạng '- number: \"0889.226.999\"' rồi các dòng who, source thụt vào")),
        required=True, default=[]),
})


def province(folder: str, values: dict[str, Any]) -> Province:
    own = values["province"] or {}
    return Province(folder, own.get("name") or "", own.get("code") or "")
