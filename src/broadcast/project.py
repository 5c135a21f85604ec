"""Find and load a broadcast project; validate all of it, reporting every problem at once.

Like MkDocs' config, validation never stops at the first mistake: each file is read
field by field, every problem is collected with file, line and field, and only then
does loading fail (``ContentError``, exit code 2) if any of them is an error.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import ContentError, NotAProject, Problem
from .model import HasProblems, LEVELS, PRESETS, Locale, Project, Schedule, Script, Settings, Slot, Validity, Voice
from .yamlio import YList, YMap, YamlError, load_yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"<<\s*([^<>]*?)\s*>>")
SETTINGS_FILE = "broadcast.yaml"
LEXICON_FILE = "lexicon.yaml"

WEEKDAYS = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "t2": 1, "t3": 2, "t4": 3, "t5": 4, "t6": 5, "t7": 6, "cn": 7,
}
DAY_SETS = {"all": (1, 2, 3, 4, 5, 6, 7), "weekdays": (1, 2, 3, 4, 5), "hang-ngay": (1, 2, 3, 4, 5, 6, 7)}




@dataclass
class Report(HasProblems):
    """Collects problems while a project is read."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: Path, line: int, fld: str, message: str, hint: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.rel(path), line, fld, message, hint, severity))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)



# --- reading fields ---------------------------------------------------------------------------

_TYPE_NAMES = {str: "chuỗi chữ (text)", int: "số nguyên (integer)", bool: "true/false",
               dict: "nhóm khóa (mapping)", list: "danh sách (list)", date: "ngày YYYY-MM-DD (date)"}


class Fields:
    """Reads the fields of one YAML mapping, recording problems instead of raising."""

    def __init__(self, report: Report, path: Path, data: YMap, prefix: str = ""):
        self.report, self.path, self.data, self.prefix = report, path, data, prefix
        self.known: set[str] = set()

    def problem(self, key: str, message: str, hint: str, severity: str = "error") -> None:
        line = self.data.line_of(key) if key in self.data else self.data.line
        self.report.add(self.path, line, self.prefix + key, message, hint, severity)

    def get(self, key: str, kind: type, *, required: bool = False, default: Any = None,
            check: Callable[[Any], tuple[str, str] | None] | None = None) -> Any:
        """Value of `key` if present and of `kind` (after `check`), else `default` (problem recorded)."""
        self.known.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.problem(key, f"thiếu trường bắt buộc '{key}' (missing required field)",
                             f"thêm dòng '{key}: ...' vào tệp")
            return default
        value = self.data[key]
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # 113 written without quotes is still a phone number
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.problem(key, f"'{key}' phải là {_TYPE_NAMES[kind]}, nhưng đang là {_describe(value)} (wrong type)",
                         f"sửa giá trị của '{key}' thành {_TYPE_NAMES[kind]}")
            return default
        if check is not None:
            bad = check(value)
            if bad:
                self.problem(key, *bad)
                return default
        return value

    def child(self, key: str, *, required: bool = False) -> "Fields | None":
        value = self.get(key, dict, required=required)
        return Fields(self.report, self.path, value, f"{self.prefix}{key}.") if value is not None else None

    def finish(self) -> None:
        """Report keys nobody asked for: most often a typo of a real one."""
        for key in self.data:
            if key in self.known:
                continue
            close = difflib.get_close_matches(str(key), sorted(self.known), n=1)
            hint = f"có phải ý bạn là '{close[0]}'?" if close else \
                f"xóa dòng này; các trường hợp lệ: {', '.join(sorted(self.known))}"
            self.problem(str(key), f"trường không xác định '{key}' (unknown field)", hint)


def _describe(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return f"{name} '{value}'" if kind in (str, int) else name
    return repr(value)


def _slug(what: str) -> Callable[[str], tuple[str, str] | None]:
    def check(value: str) -> tuple[str, str] | None:
        if not SLUG.match(value):
            return (f"{what} '{value}' không hợp lệ: chỉ dùng chữ thường không dấu, số và dấu gạch ngang (not a slug)",
                    "ví dụ: canh-bao-lua-dao; không dùng dấu cách, '/', '..' hay chữ có dấu")
        return None
    return check


def _one_of(choices: tuple[str, ...]) -> Callable[[str], tuple[str, str] | None]:
    def check(value: str) -> tuple[str, str] | None:
        if value not in choices:
            return (f"giá trị '{value}' không hợp lệ (invalid value)", f"dùng một trong: {', '.join(choices)}")
        return None
    return check


def _positive(value: int) -> tuple[str, str] | None:
    return None if value >= 1 else (f"giá trị {value} phải lớn hơn hoặc bằng 1", "dùng số nguyên dương, ví dụ 1")


@dataclass(frozen=True)
class Known:
    """Ids that other files may refer to."""

    voices: set[str]
    schedules: set[str]


def _known(ids: set[str], what: str, folder: str) -> Callable[[str], tuple[str, str] | None]:
    def check(value: str) -> tuple[str, str] | None:
        if value in ids:
            return None
        hint = f"dùng một trong: {', '.join(sorted(ids))}" if ids else f"tạo {folder}/{value}.yaml"
        return f"{what} '{value}' không có trong {folder}/ (unknown id)", hint
    return check


def _all(*checks: Callable[[Any], tuple[str, str] | None]) -> Callable[[Any], tuple[str, str] | None]:
    def check(value: Any) -> tuple[str, str] | None:
        return next((bad for bad in (c(value) for c in checks) if bad), None)
    return check


# --- the project ------------------------------------------------------------------------------


def find_root(start: Path) -> Path:
    """The project folder: `start` or the nearest parent holding broadcast.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise NotAProject(
        f"không tìm thấy {SETTINGS_FILE} trong {start} hay thư mục cha (not a broadcast project)",
        fix="chạy lệnh trong thư mục dự án, dùng --project THƯ_MỤC, hoặc tạo dự án mới bằng 'broadcast init'")


def load_project(root: Path) -> Project:
    """Load and validate everything; raise ContentError listing every error found."""
    project, report = read_project(root)
    if report.errors or project is None:
        raise ContentError(report.problems)
    return project


def read_project(root: Path) -> tuple[Project | None, Report]:
    """Read the whole project, collecting problems; the project is None only if unusable."""
    root = root.resolve()
    report = Report(root)
    voice_files, schedule_files = _files(report, root, "voices"), _files(report, root, "schedules")
    # ids equal file names (checked below), so references can be checked while reading
    known = Known(voices={p.stem for p in voice_files}, schedules={p.stem for p in schedule_files})
    voices = [v for v in (_read_voice(report, p, known) for p in voice_files) if v]
    schedules = [s for s in (_read_schedule(report, p) for p in schedule_files) if s]
    settings = _read_settings(report, root, known)
    lexicon = _read_optional_mapping(report, root / LEXICON_FILE)
    scripts = [s for s in (_read_script(report, p, known)
                           for p in _files(report, root, "scripts")) if s]
    locales = _read_locales(report, root, settings, known)
    if not scripts and (root / "scripts").is_dir():
        report.add(root / "scripts", 0, "", "chưa có kịch bản nào (no scripts)", "thêm scripts/<id>.yaml", "warning")
    if settings is None:
        return None, report
    project = Project(root, settings, tuple(scripts), tuple(locales), tuple(voices), tuple(schedules),
                      lexicon or {}, tuple(report.warnings))
    return project, report


def _files(report: Report, root: Path, folder: str) -> list[Path]:
    """YAML files of a content folder, refusing anything that leads outside the project."""
    base = root / folder
    if not base.is_dir():
        report.add(base, 0, "", f"thiếu thư mục '{folder}/' (missing folder)", f"tạo thư mục '{folder}/' trong dự án")
        return []
    found = []
    for path in sorted(base.iterdir()):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("_"):
            continue
        if not _inside(root, path):
            report.add(path, 0, "", "tệp trỏ ra ngoài thư mục dự án (path escapes the project)",
                       "thay liên kết (symlink) bằng một tệp thật nằm trong dự án")
            continue
        found.append(path)
    return found


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _load_mapping(report: Report, path: Path) -> YMap | None:
    try:
        data = load_yaml(path)
    except YamlError as exc:
        report.add(path, exc.line, "", exc.message, exc.hint)
        return None
    except OSError as exc:
        report.add(path, 0, "", f"không đọc được tệp: {exc.strerror} (cannot read file)", "kiểm tra quyền đọc tệp")
        return None
    if not isinstance(data, YMap):
        report.add(path, getattr(data, "line", 1), "",
                   "tệp phải là một nhóm khóa 'tên: giá trị' (top level must be a mapping)",
                   "xem ví dụ trong README: mỗi dòng dạng 'khoa: gia tri'")
        return None
    _find_placeholders(report, path, data)
    return data


def _read_optional_mapping(report: Report, path: Path) -> YMap | None:
    return _load_mapping(report, path) if path.exists() else None


def _open_with_id(report: Report, path: Path, what: str) -> tuple[Fields, str | None] | None:
    """Read a file whose `id` must be a slug equal to its file name (what makes ids safe as paths)."""
    data = _load_mapping(report, path)
    if data is None:
        return None
    f = Fields(report, path, data)
    value = f.get("id", str, required=True, check=_slug(what))
    if value is not None and value != path.stem:
        f.problem("id", f"id '{value}' khác tên tệp '{path.name}' (id must equal the file name)",
                  f"đặt id: {path.stem} hoặc đổi tên tệp thành {value}.yaml")
    return f, value


def _read_settings(report: Report, root: Path, known: Known) -> Settings | None:
    path = root / SETTINGS_FILE
    if not path.is_file():
        report.add(path, 0, "", f"thiếu tệp {SETTINGS_FILE} (missing project settings)",
                   "tạo dự án bằng 'broadcast init' hoặc chép broadcast.yaml từ dự án mẫu")
        return None
    data = _load_mapping(report, path)
    if data is None:
        return None
    f = Fields(report, path, data)
    defaults = Settings(name="")
    settings = Settings(
        name=f.get("name", str, required=True, default=""),
        timezone=f.get("timezone", str, default=defaults.timezone,
                       check=lambda v: None if v == "Asia/Ho_Chi_Minh" else
                       (f"múi giờ '{v}' chưa được hỗ trợ", "dùng Asia/Ho_Chi_Minh")),
        default_voice=f.get("default_voice", str, default=defaults.default_voice,
                            check=_all(_slug("giọng đọc"), _known(known.voices, "giọng đọc", "voices"))),
        preset=f.get("preset", str, default=defaults.preset, check=_one_of(PRESETS)),
        min_airings=f.get("min_airings", int, default=defaults.min_airings, check=_positive),
        opening=f.get("opening", str, default=""),
        closing=f.get("closing", str, default=""),
    )
    f.finish()
    return settings


def _read_voice(report: Report, path: Path, known: Known) -> Voice | None:
    opened = _open_with_id(report, path, "id giọng đọc")
    if opened is None:
        return None
    f, voice_id = opened
    data = f.data
    voice = Voice(
        id=voice_id or path.stem,
        engine=f.get("engine", str, required=True, default=""),
        params=f.get("params", dict, default={}),
        fallback=f.get("fallback", str, check=_all(_slug("giọng dự phòng"),
                                                   _known(known.voices - {path.stem}, "giọng dự phòng", "voices"))),
        description=f.get("description", str, default=""),
        file=report.rel(path),
        params_line=data.line_of("params"),
    )
    f.finish()
    return voice


def _read_schedule(report: Report, path: Path) -> Schedule | None:
    opened = _open_with_id(report, path, "id lịch phát")
    if opened is None:
        return None
    f, schedule_id = opened
    name = f.get("name", str, default="")
    slots = []
    raw_slots = f.get("slots", list, required=True, default=[])
    for index, raw in enumerate(raw_slots):
        if not isinstance(raw, YMap):
            report.add(path, raw_slots.line_of(index), f"slots[{index}]",
                       "mỗi buổi phát phải là một nhóm khóa (name, days, start, minutes)",
                       "viết dạng '- name: sang' rồi các dòng days, start, minutes thụt vào")
            continue
        slot = _read_slot(Fields(report, path, raw, f"slots[{index}]."))
        if slot:
            slots.append(slot)
    names = [s.name for s in slots]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        f.problem("slots", f"hai buổi phát trùng tên '{dup}' (duplicate slot name)", "đặt tên khác nhau cho mỗi buổi")
    f.finish()
    return Schedule(schedule_id or path.stem, name, tuple(slots), report.rel(path))


def _parse_days(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, str):
        if value.lower() in DAY_SETS:
            return DAY_SETS[value.lower()]
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        return None
    days = []
    for day in value:
        key = str(day).lower()
        if key not in WEEKDAYS:
            return None
        days.append(WEEKDAYS[key])
    return tuple(sorted(set(days)))


def _read_slot(f: Fields) -> Slot | None:
    name = f.get("name", str, required=True, check=_slug("tên buổi"))
    label = f.get("label", str, default=name or "")
    raw_days = f.get("days", object, default="all")
    days = _parse_days(raw_days)
    if days is None:
        f.problem("days", f"ngày phát '{raw_days}' không hiểu được (invalid days)",
                  "dùng 'all', 'weekdays' hoặc danh sách như [t2, t4, t6, cn] hay [mon, wed, fri, sun]")
    start = f.get("start", str, required=True, check=_check_time)
    minutes = f.get("minutes", int, required=True, check=_positive)
    f.finish()
    if None in (name, days, start, minutes):
        return None
    hour, minute = map(int, start.split(":"))
    return Slot(name, label, days, time(hour, minute), minutes)


def _check_time(value: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return None
    return (f"giờ bắt đầu '{value}' không hợp lệ (invalid time)", "viết dạng \"06:00\" hoặc \"17:30\" (trong ngoặc kép)")


def _read_script(report: Report, path: Path, known: Known) -> Script | None:
    opened = _open_with_id(report, path, "id kịch bản")
    if opened is None:
        return None
    f, script_id = opened
    data = f.data
    title = f.get("title", str, required=True, default="")
    source = f.get("source", str, required=True, default="")
    level = f.get("level", str, default="normal", check=_one_of(LEVELS))
    valid = _read_validity(f)
    repeat = f.get("repeat", int, default=1, check=lambda v: None if 1 <= v <= 5 else
                   (f"số lần nhắc lại {v} ngoài khoảng 1-5", "dùng repeat: 1 hoặc 2"))
    voice = f.get("voice", str, check=_all(_slug("giọng đọc"), _known(known.voices, "giọng đọc", "voices")))
    body = f.get("body", str, required=True, default="")
    if isinstance(data.get("body"), str) and not data["body"].strip():
        f.problem("body", "nội dung kịch bản đang trống (empty body)", "viết nội dung sau 'body: |'")
    f.finish()
    if script_id is None or valid is None:
        return None
    return Script(script_id, title, source, level, valid, repeat, voice, body,
                  report.rel(path), data.value_line("body"))


def _read_validity(f: Fields) -> Validity | None:
    g = f.child("valid", required=True)
    if g is None:
        return None
    start = g.get("from", date, required=True)
    until = g.get("until", date)
    g.finish()
    if start is None:
        return None
    if until is not None and until < start:
        g.problem("until", f"ngày hết hạn {until} trước ngày bắt đầu {start} (until before from)",
                  "kiểm tra lại hai ngày from và until")
        return None
    return Validity(start, until)


# --- locales ----------------------------------------------------------------------------------


def deep_merge(base: Any, over: Any) -> Any:
    """`over` on top of `base`: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def _read_locales(report: Report, root: Path, settings: Settings | None, known: Known) -> list[Locale]:
    base = root / "locales"
    if not base.is_dir():
        report.add(base, 0, "", "thiếu thư mục 'locales/' (missing folder)",
                   "tạo locales/<tỉnh>/_province.yaml và locales/<tỉnh>/<xã>.yaml")
        return []
    locales = []
    codes: dict[str, str] = {}
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        if not SLUG.match(folder.name):
            report.add(folder, 0, "", f"tên thư mục tỉnh '{folder.name}' không hợp lệ (not a slug)",
                       "đổi tên thành chữ thường không dấu, ví dụ lang-son")
            continue
        province_file = folder / "_province.yaml"
        if not province_file.is_file():
            report.add(province_file, 0, "", "thiếu tệp _province.yaml của tỉnh (missing province file)",
                       "tạo tệp với 'province: {name: ..., code: ...}' và các giá trị chung của tỉnh")
            continue
        province = _load_mapping(report, province_file)
        if province is None:
            continue
        _check_locale_fields(report, province_file, province, known, is_province=True)
        for path in _files(report, root, f"locales/{folder.name}"):
            if not SLUG.match(path.stem):
                report.add(path, 0, "", f"tên tệp xã '{path.name}' không hợp lệ (not a slug)",
                           "đổi tên thành chữ thường không dấu, ví dụ xa-chi-lang.yaml")
                continue
            commune = _load_mapping(report, path)
            if commune is None:
                continue
            _check_locale_fields(report, path, commune, known, is_province=False)
            merged = deep_merge(province, commune)
            locale = _make_locale(report, path, folder.name, merged, commune, settings)
            if locale is None:
                continue
            if locale.code in codes:
                report.add(path, commune.line_of("code"), "code",
                           f"mã '{locale.code}' trùng với {codes[locale.code]} (duplicate code)",
                           "kiểm tra lại mã hành chính của xã trong danh mục")
            codes.setdefault(locale.code, locale.file)
            locales.append(locale)
    if not locales:
        report.add(base, 0, "", "chưa có xã nào (no locales)", "thêm locales/<tỉnh>/<xã>.yaml", "warning")
    return locales


def _check_locale_fields(report: Report, path: Path, data: YMap, known: Known, is_province: bool) -> None:
    f = Fields(report, path, data)
    if is_province:
        g = f.child("province", required=True)
        if g:
            g.get("name", str, required=True)
            g.get("code", str, required=True, check=_check_code(2))
            g.finish()
    else:
        f.get("name", str, required=True)
        f.get("code", str, required=True, check=_check_code(5))
    f.get("division_type", str, check=_one_of(("xã", "phường", "đặc khu")))
    f.get("station", str)
    f.get("schedule", str, check=_known(known.schedules, "lịch phát", "schedules"))
    f.get("voice", str, check=_known(known.voices, "giọng đọc", "voices"))
    f.get("preset", str, check=_one_of(PRESETS))
    contacts = f.child("contacts")
    if contacts:
        for key in contacts.data:
            person = contacts.child(str(key))
            if person:
                person.get("name", str)
                person.get("phone", str, check=_check_phone)
                person.finish()
    for key in ("vars", "lexicon"):
        f.get(key, dict)
    f.finish()


def _check_code(width: int) -> Callable[[str], tuple[str, str] | None]:
    def check(value: str) -> tuple[str, str] | None:
        if not value.isdigit() or len(value) > width:
            return (f"mã hành chính '{value}' không hợp lệ (invalid administrative code)",
                    f"dùng mã số trong danh mục (tối đa {width} chữ số), viết trong ngoặc kép, ví dụ \"{'0' * (width - 1)}1\"")
        return None
    return check


def _check_phone(value: str) -> tuple[str, str] | None:
    if PLACEHOLDER.search(value) or re.fullmatch(r"\+?[0-9][0-9 .]{1,18}[0-9]", value):
        return None
    return (f"số điện thoại '{value}' không hợp lệ (invalid phone number)",
            "chỉ dùng chữ số, dấu chấm hoặc dấu cách, ví dụ \"113\" hay \"0889.226.999\"")


def _make_locale(report: Report, path: Path, province_id: str, merged: dict, commune: YMap,
                 settings: Settings | None) -> Locale | None:
    name, code = merged.get("name"), merged.get("code")
    if not isinstance(name, str) or not isinstance(code, (str, int)):
        return None
    schedule = merged.get("schedule")
    if not isinstance(schedule, str):
        report.add(path, commune.line, "schedule", "xã chưa có lịch phát (no schedule)",
                   "thêm 'schedule: <id lịch>' vào tệp xã hoặc _province.yaml của tỉnh")
        schedule = ""
    preset = merged.get("preset") or (settings.preset if settings else "loa")
    return Locale(f"{province_id}/{path.stem}", name, str(code), province_id, schedule, str(preset),
                  merged, report.rel(path))


# --- whole-project checks ---------------------------------------------------------------------


def _walk_strings(value: Any, line: int) -> Iterator[tuple[str, int]]:
    if isinstance(value, YMap):
        for key, item in value.items():
            yield from _walk_strings(item, value.value_line(key))
    elif isinstance(value, YList):
        for index, item in enumerate(value):
            yield from _walk_strings(item, value.line_of(index))
    elif isinstance(value, str):
        yield value, line


def _find_placeholders(report: Report, path: Path, data: YMap) -> None:
    """Warn about every `<<CẦN ĐIỀN: ...>>` left in a file: a value a person must still fill in."""
    for text, line in _walk_strings(data, data.line):
        for match in PLACEHOLDER.finditer(text):
            offset = text[: match.start()].count("\n")
            report.add(path, line + offset, "placeholder", f"còn chỗ cần điền: {match.group(0)} (placeholder)",
                       "thay bằng giá trị thật của địa phương; 'build' từ chối cho đến khi điền xong", "warning")
