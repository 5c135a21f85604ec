"""Find and load a broadcast project; validate all of it, reporting every problem at once.

Like MkDocs' config, validation never stops at the first mistake: each file is parsed once
and checked against its schema (`schema.py`), every problem is collected with file, line
and field, and only then does loading fail (``ContentError``, exit code 2) if any of them
is an error. What comes out is typed: `Settings`, `Voice`, `Schedule`, `Script`, and one
`Locale` per commune with its province and its lexicon merged in.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import json
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .audio.presets import DEFAULT_PRESET, get_preset
from .errors import ContentError, NotAProject, Problem
from .model import (
    Contact,
    HasProblems,
    Locale,
    OfficialNumber,
    Project,
    Schedule,
    Script,
    Settings,
    Voice,
)
from .options import Place
from .phones import OFFICIAL_FILE
from .schema import PLACEHOLDER, SLUG
from .speech import Lexicon
from .yamlio import YamlError, YList, YMap, load_yaml, parse_yaml

SETTINGS_FILE = "broadcast.yaml"
LEXICON_FILE = "lexicon.yaml"
# where a build's inputs live: the files above, these folders (assets/ holds the recordings), and any
# recordings folder a voice names
INPUT_FOLDERS = ("scripts", "locales", "voices", "schedules", "assets")
SMALL_INPUT = 1 << 20  # input files up to this size are named by their content, larger ones by their stamp

__all__ = ["LEXICON_FILE", "SETTINGS_FILE", "SLUG", "LoadProblems", "deep_merge", "files_snapshot", "find_root",
           "input_snapshot", "load_project", "read_project", "read_script_text", "read_settings"]


@dataclass
class LoadProblems(HasProblems):
    """Collects problems while a project is read."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    known: dict[str, frozenset[str]] = field(default_factory=dict)  # ids per folder, for references

    def add(self, path: Path, line: int, fld: str, message: str, hint: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.rel(path), line, fld, message, hint, severity))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def place(self, path: Path, data: YMap) -> Place:
        """Where problems of a whole file go."""
        return Place(self.problems, self.rel(path), data.line, known=self.known)


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
    project, loading = read_project(root)
    if loading.errors or project is None:
        raise ContentError(loading.problems)
    return project


def read_project(root: Path) -> tuple[Project | None, LoadProblems]:
    """Read the whole project, collecting problems; the project is None only if unusable."""
    root = root.resolve()
    loading = LoadProblems(root)
    voice_files, schedule_files = _known_files(loading, root)
    voices = [v for v in (_read_voice(loading, p) for p in voice_files) if v]
    schedules = [s for s in (_read_schedule(loading, p) for p in schedule_files) if s]
    settings = _read_settings(loading, root)
    lexicon = _read_lexicon(loading, root / LEXICON_FILE)
    scripts = [s for s in (_read_script(loading, p) for p in _files(loading, root, "scripts")) if s]
    locales = _read_locales(loading, root, settings, lexicon)
    if not scripts and (root / "scripts").is_dir():
        loading.add(root / "scripts", 0, "", "chưa có kịch bản nào (no scripts)", "thêm scripts/<id>.yaml", "warning")
    if settings is None:
        return None, loading
    official = _read_official_numbers(loading, root / OFFICIAL_FILE)
    project = Project(root, settings, tuple(scripts), tuple(locales), tuple(voices), tuple(schedules),
                      lexicon, tuple(loading.warnings), official)
    return project, loading


def read_settings(root: Path) -> Settings | None:
    """broadcast.yaml alone, as `read_project` reads it (None when missing or unusable): what a
    command needs to choose its week, without reading the country's 3,321 commune files first."""
    root = root.resolve()
    loading = LoadProblems(root)
    _known_files(loading, root)
    return _read_settings(loading, root)


def _known_files(loading: LoadProblems, root: Path) -> tuple[list[Path], list[Path]]:
    """The voice and schedule files. Their ids equal their file names (checked by the schema), so
    references to them can be checked while reading the rest."""
    voice_files, schedule_files = _files(loading, root, "voices"), _files(loading, root, "schedules")
    loading.known.update(voices=frozenset(p.stem for p in voice_files),
                        schedules=frozenset(p.stem for p in schedule_files))
    return voice_files, schedule_files


def input_snapshot(root: Path) -> str | None:
    """A name for the project's input files as they are now (see `files_snapshot`): take it before
    reading them, so that an edit made while a build reads or runs is never taken for built."""
    root = root.resolve()
    return files_snapshot(root, [root / name for name in (SETTINGS_FILE, LEXICON_FILE, OFFICIAL_FILE)]
                          + [root / folder for folder in INPUT_FOLDERS])


def files_snapshot(root: Path, bases: Iterable[Path]) -> str | None:
    """A name for these files and folders' files as they are now: the content of each file up to
    1 MB (the YAML), the stamp (size, modification and change time, inode) of larger ones
    (recordings, voice models), and which files there are. None if they cannot all be read (a
    folder removed while it is walked): then no build is found "unchanged" by it."""
    paths: set[Path] = set()
    digest = hashlib.sha256()
    try:
        for base in bases:
            if base.is_dir():
                paths.update(p for p in base.rglob("*") if not p.is_dir())
            else:
                paths.add(base)
        for path in sorted(paths):
            digest.update(f"{path.relative_to(root) if path.is_relative_to(root) else path}\0".encode())
            try:
                info = path.stat()
            except FileNotFoundError:  # an optional file, or a broken link: that too is a state
                digest.update(b"-\n")
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size <= SMALL_INPUT:
                digest.update(path.read_bytes())
            else:  # never read a pipe; a recording or a model by its stamp
                digest.update(f"{info.st_mode} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} "
                              f"{info.st_ino}".encode())
            digest.update(b"\n")
    except OSError:
        return None
    return digest.hexdigest()


def _read_official_numbers(loading: LoadProblems, path: Path) -> tuple[OfficialNumber, ...]:
    """official_numbers.yaml (optional): the numbers directives give, each with its source."""
    read = _read(loading, path, schema.OFFICIAL_NUMBERS) if path.exists() else None
    return tuple(read[1]["numbers"] or ()) if read and read[1] else ()


def _files(loading: LoadProblems, root: Path, folder: str) -> list[Path]:
    """YAML files of a content folder, refusing anything that leads outside the project."""
    base = root / folder
    if not base.is_dir():
        loading.add(base, 0, "", f"thiếu thư mục '{folder}/' (missing folder)", f"tạo thư mục '{folder}/' trong dự án")
        return []
    found: dict[str, Path] = {}  # by file name without .yaml/.yml: the id
    for path in _listing(loading, base):
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("_"):
            continue
        wrong = _not_a_project_file(root, path)
        if wrong:
            loading.add(path, 0, "", *wrong)
            continue
        if path.stem in found:  # x.yaml and x.yml: two files for one id
            loading.add(path, 0, "", f"tệp này trùng tên với '{found[path.stem].name}': hai tệp cho cùng một mã "
                        f"'{path.stem}' (duplicate file)", "xóa hoặc đổi tên một trong hai tệp")
            continue
        found[path.stem] = path
    return list(found.values())


def _listing(loading: LoadProblems, folder: Path) -> list[Path]:
    """What `folder` holds, sorted; a folder that cannot be read (no permission, a disk error) is
    reported, as a file that cannot be read is, and taken as empty."""
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        loading.add(folder, 0, "", *_unreadable_folder(exc))
        return []


def _unreadable_folder(exc: OSError) -> tuple[str, str]:
    return (f"không đọc được thư mục: {exc.strerror} (cannot read folder)",
            "cấp quyền đọc và mở thư mục này cho tài khoản chạy lệnh (chmod, hoặc Properties > Security trên Windows)")


def _not_a_project_file(root: Path, path: Path) -> tuple[str, str] | None:
    """Why `path` cannot be read as a project file (message, fix), or None: a symlink loop, a
    broken symlink, a folder or a pipe (reading one would wait for ever), a path outside the project."""
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        return _LOOP
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _LOOP
        if exc.errno in (errno.EACCES, errno.EPERM):  # in a folder that can be listed but not opened
            return (f"không đọc được tệp: {exc.strerror} (cannot read file)",
                    "kiểm tra quyền đọc tệp và thư mục chứa nó")
        return (f"liên kết (symlink) trỏ tới tệp không có: {exc.strerror} (broken symlink)",
                "xóa liên kết này hoặc cho nó trỏ tới một tệp có thật trong dự án")
    try:
        resolved.relative_to(root)
    except ValueError:
        return ("tệp trỏ ra ngoài thư mục dự án (path escapes the project)",
                "thay liên kết (symlink) bằng một tệp thật nằm trong dự án")
    if not resolved.is_file():
        return ("đây không phải một tệp thường mà là thư mục hay ống dẫn (not a regular file)",
                "xóa nó hoặc đổi tên để không kết thúc bằng .yaml")
    return None


_LOOP = ("liên kết (symlink) trỏ vòng về chính nó (symlink loop)",
         "xóa liên kết này và đặt một tệp thật vào đây")


def _load_mapping(loading: LoadProblems, path: Path, text: str | None = None) -> YMap | None:
    """The file's mapping; with `text`, that text parsed as if it were the file (a studio draft)."""
    wrong = None if text is not None else _not_a_project_file(loading.root, path)  # inside, a real file
    if wrong:
        loading.add(path, 0, "", *wrong)
        return None
    try:
        data = load_yaml(path) if text is None else parse_yaml(text)
    except YamlError as exc:
        loading.add(path, exc.line, "", exc.message, exc.hint)
        return None
    except OSError as exc:
        loading.add(path, 0, "", f"không đọc được tệp: {exc.strerror} (cannot read file)", "kiểm tra quyền đọc tệp")
        return None
    if not isinstance(data, YMap):
        loading.add(path, getattr(data, "line", 1), "",
                   "tệp phải là một nhóm khóa 'tên: giá trị' (top level must be a mapping)",
                   "xem ví dụ trong README: mỗi dòng dạng 'khoa: gia tri'")
        return None
    _find_placeholders(loading, path, data)
    return data


def _read(loading: LoadProblems, path: Path, kind: schema.Schema, text: str | None = None) -> tuple[YMap, Any] | None:
    """Parse one file (once) and validate it against its schema: (the mapping, the values)."""
    data = _load_mapping(loading, path, text)
    return None if data is None else (data, kind.validate(data, loading.place(path, data)))


def _read_settings(loading: LoadProblems, root: Path) -> Settings | None:
    path = root / SETTINGS_FILE
    if not path.is_file():
        loading.add(path, 0, "", f"thiếu tệp {SETTINGS_FILE} (missing project settings)",
                   "tạo dự án bằng 'broadcast init' hoặc chép broadcast.yaml từ dự án mẫu")
        return None
    read = _read(loading, path, schema.SETTINGS)
    return read[1] if read else None


def _read_lexicon(loading: LoadProblems, path: Path) -> Lexicon:
    """The project's lexicon.yaml (its good entries; each bad one is reported at its line)."""
    data = _load_mapping(loading, path) if path.exists() else None
    lexicon = schema.LEXICON.validate(data, loading.place(path, data)) if data is not None else None
    return lexicon or Lexicon(source=LEXICON_FILE)


def _read_voice(loading: LoadProblems, path: Path) -> Voice | None:
    read = _read(loading, path, schema.VOICE)
    if read is None:
        return None
    v = read[1]
    return Voice(v["id"] or path.stem, v["engine"], v["params"], v["fallback"], v["description"], loading.rel(path))


def _read_schedule(loading: LoadProblems, path: Path) -> Schedule | None:
    read = _read(loading, path, schema.SCHEDULE)
    if read is None:
        return None
    v = read[1]
    return Schedule(v["id"] or path.stem, v["name"], tuple(v["slots"]), loading.rel(path))


def read_script_text(root: Path, path: Path, text: str) -> tuple[Script | None, LoadProblems]:
    """A script from the text of its file before it is saved (the studio's lint as you type):
    every problem at its line, as `read_project` would report it."""
    loading = LoadProblems(root.resolve())
    loading.known.update(voices=frozenset(p.stem for p in (root / "voices").glob("*.yaml")),
                        schedules=frozenset(p.stem for p in (root / "schedules").glob("*.yaml")))
    return _read_script(loading, path, text), loading


def _read_script(loading: LoadProblems, path: Path, text: str | None = None) -> Script | None:
    digest = ""
    if text is None:  # the file read once: the script is what its hash names (an approval is for that hash)
        try:
            raw = path.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text reads it
        except (OSError, UnicodeDecodeError):
            text = None  # said at its line by the loader, as for any file
    read = _read(loading, path, schema.SCRIPT, text)
    if read is None or read[1]["valid"] is None:
        return None
    data, v = read
    first = data.value_line("body")
    lines = () if v["body"] is None else _body_lines(text if text is not None else path.read_text(encoding="utf-8"),
                                                      data.line_of("body"), first, v["body"])
    return Script(v["id"] or path.stem, v["title"], v["source"], v["level"], v["valid"], v["repeat"], v["voice"],
                  v["body"], loading.rel(path), first, lines, digest)


def _body_lines(text: str, key_line: int, first: int, body: str) -> tuple[int, ...]:
    """Each body line's line in the file, for a body not written with '|' (a folded '>' or a
    plain or quoted body joins the file's lines): each template line is matched to the next file
    line it starts with. Written by hand: YAML parsers keep no line map inside a scalar."""
    source = unicodedata.normalize("NFC", text).splitlines()  # as the body was read
    head = source[key_line - 1].split(":", 1)[1].strip() if 0 < key_line <= len(source) else ""
    if head.startswith("|"):
        return ()  # literal: line for line
    found, at = [], first
    for line in body.splitlines():
        wanted = line.strip()
        for number in range(at, min(len(source), at + 200) + 1):
            written = source[number - 1].strip()
            if number == key_line:
                written = head.lstrip(">-+0123456789").strip()
            written = written.lstrip("\"'").strip()[:30]
            if wanted and written and wanted.startswith(written):
                at = number
                break
        found.append(at)
        if wanted:
            at += 1
    return tuple(found)


# --- locales ----------------------------------------------------------------------------------


def deep_merge(base: Any, over: Any) -> Any:
    """`over` on top of `base`: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def _read_locales(loading: LoadProblems, root: Path, settings: Settings | None, base: Lexicon) -> list[Locale]:
    folder_of_locales = root / "locales"
    if not folder_of_locales.is_dir():
        loading.add(folder_of_locales, 0, "", "thiếu thư mục 'locales/' (missing folder)",
                   "tạo locales/<tỉnh>/_province.yaml và locales/<tỉnh>/<xã>.yaml")
        return []
    locales = []
    codes: dict[str, str] = {}
    lexicons = _MergedLexicons(base)
    for folder in _listing(loading, folder_of_locales):
        try:
            if not folder.is_dir():
                continue
            has_province_file = (folder / "_province.yaml").is_file()
        except OSError as exc:  # a province folder that cannot be opened
            loading.add(folder, 0, "", *_unreadable_folder(exc))
            continue
        if not SLUG.match(folder.name):
            loading.add(folder, 0, "", f"tên thư mục tỉnh '{folder.name}' không hợp lệ (not a slug)",
                       "đổi tên thành chữ thường không dấu, ví dụ lang-son (không dùng con, nul, aux...)")
            continue
        province_file = folder / "_province.yaml"
        if not has_province_file:
            loading.add(province_file, 0, "", "thiếu tệp _province.yaml của tỉnh (missing province file)",
                       "tạo tệp với 'province: {name: ..., code: ...}' và các giá trị chung của tỉnh")
            continue
        province = _read(loading, province_file, schema.PROVINCE)
        if province is None:
            continue
        for path in _files(loading, root, f"locales/{folder.name}"):
            if not SLUG.match(path.stem):
                loading.add(path, 0, "", f"tên tệp xã '{path.name}' không hợp lệ (not a slug)",
                           "đổi tên thành chữ thường không dấu, ví dụ xa-chi-lang.yaml (không dùng con, nul, aux, "
                           "prn, com1, lpt1...: Windows không tạo được các tên đó)")
                continue
            commune = _read(loading, path, schema.COMMUNE)
            if commune is None:
                continue
            locale = _make_locale(loading, path, folder.name, province, commune, settings, lexicons)
            if locale is None:
                continue
            if locale.code in codes:
                loading.add(path, commune[0].line_of("code"), "code",
                           f"mã '{locale.code}' trùng với {codes[locale.code]} (duplicate code)",
                           "kiểm tra lại mã hành chính của xã trong danh mục")
            codes.setdefault(locale.code, locale.file)
            locales.append(locale)
    if not locales:
        loading.add(folder_of_locales, 0, "", "chưa có xã nào (no locales)", "thêm locales/<tỉnh>/<xã>.yaml", "warning")
    return locales


class _MergedLexicons:
    """Merged lexicons (project < province < commune), one object per distinct stack.

    A commune without its own entries shares its province's object, a province without any
    shares the project's: 3,321 communes do not make 3,321 lexicons.
    """

    def __init__(self, base: Lexicon):
        self.base = base
        self.memo: dict[tuple[int, str], Lexicon] = {}

    def over(self, under: Lexicon, own: Lexicon | None) -> Lexicon:
        if own is None or own == Lexicon():
            return under
        key = (id(under), json.dumps([dict(own.abbreviations), dict(own.words), dict(own.domains),
                                      {k: dict(v) for k, v in own.scoped.items()}], sort_keys=True, ensure_ascii=False))
        if key not in self.memo:
            self.memo[key] = under.merged(own)
        return self.memo[key]


def _make_locale(loading: LoadProblems, path: Path, folder: str, province: tuple[YMap, Any], commune: tuple[YMap, Any],
                 settings: Settings | None, lexicons: _MergedLexicons) -> Locale | None:
    """The typed commune, its province under it; `data` is the same merge, untyped, for templates."""
    (p_data, p), (c_data, c) = province, commune
    if c["name"] is None or c["code"] is None:
        return None

    def inherited(key: str) -> Any:
        return c[key] if c[key] is not None else p[key]

    schedule = inherited("schedule")
    # one the commune or its province names but that does not exist is reported there, once (it was
    # also "no schedule" for each of a province's 65 communes)
    if schedule is None and "schedule" not in c_data and "schedule" not in p_data:
        loading.add(path, c_data.line, "schedule", "xã chưa có lịch phát (no schedule)",
                   "thêm 'schedule: <id lịch>' vào tệp xã hoặc _province.yaml của tỉnh")
    contacts = {key: c["contacts"].get(key, Contact()).over(p["contacts"].get(key, Contact()))
                for key in {**p["contacts"], **c["contacts"]}}
    lexicon = lexicons.over(lexicons.over(lexicons.base, p["lexicon"]), c["lexicon"])
    return Locale(
        id=f"{folder}/{path.stem}", name=c["name"], code=c["code"], province=schema.province(folder, p),
        station=inherited("station") or c["name"], schedule=schedule or "",
        preset=inherited("preset") or (settings.preset if settings else get_preset(DEFAULT_PRESET)),
        voice=inherited("voice"),
        division_type=inherited("division_type"), contacts=contacts, vars=deep_merge(p["vars"], c["vars"]),
        lexicon=lexicon, file=loading.rel(path), data=deep_merge(p_data, c_data))


# --- whole-project checks ---------------------------------------------------------------------


def _walk_strings(value: Any, line: int, seen: set[int] | None = None) -> Iterator[tuple[str, int]]:
    """Each string of `value` once, at its first line: an alias is the object of its anchor, so a
    long string named 150,000 times ('[*s, *s, ...]') is not scanned 150,000 times (1.6 MB: a minute)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, YMap):
        for key, item in value.items():
            yield from _walk_strings(item, value.value_line(key), seen)
    elif isinstance(value, YList):
        for index, item in enumerate(value):
            yield from _walk_strings(item, value.line_of(index), seen)
    elif isinstance(value, str):
        yield value, line


def _find_placeholders(loading: LoadProblems, path: Path, data: YMap) -> None:
    """Warn about every `<<CẦN ĐIỀN: ...>>` left in a file: a value a person must still fill in."""
    for text, line in _walk_strings(data, data.line):
        for match in PLACEHOLDER.finditer(text):
            offset = text[: match.start()].count("\n")
            loading.add(path, line + offset, "placeholder", f"còn chỗ cần điền: {match.group(0)} (placeholder)",
                       "thay bằng giá trị thật của địa phương; 'build' từ chối cho đến khi điền xong", "warning")
