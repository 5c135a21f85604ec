"""Editing the project's YAML files from the studio without disturbing them.

ruamel.yaml's round-trip mode keeps comments, key order, quoting and the layout of every part the
editor did not touch, so a file changed in the studio still reads (and diffs) like one written by
hand. Every write is atomic (a temporary file in the same folder, then a rename: `textfiles`), keeps
the file's line endings, byte-order mark and permissions, and refuses to overwrite a file that changed
on disk since the editor opened it: the caller gets both versions. Text is edited with LF line breaks
and no byte-order mark whatever the file has; its sha256 is of its bytes on disk.
Deleted scripts go to `.studio/trash/`, from where they can be restored.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString

from .. import textfiles
from ..errors import UsageError
from ..records import FOLDER
from ..schema import MAX_SLUG, SLUG

TRASH = "trash"
MAX_FILE_BYTES = 1_000_000  # a script or commune file the studio accepts in one save

STARTER_SCRIPT = """\
# Kịch bản mới: sửa tiêu đề, nguồn, thời hạn và nội dung, rồi bấm Lưu.
id: {id}
title: "Kịch bản mới"
source: "<<CẦN ĐIỀN: cơ quan, số và ngày công văn>>"
level: normal            # normal | priority | emergency (Thông tư 39/2020/TT-BTTTT)
valid:
  from: {today}
repeat: 2
body: |
  Kính thưa bà con nhân dân {{{{ locale.name }}}}!

  Viết nội dung cảnh báo ở đây, mỗi câu kết thúc bằng dấu chấm.

  Khi cần, hãy gọi ngay cho {{{{ locale.contacts.police.name }}}}, số {{{{ locale.contacts.police.phone }}}}.
"""


class Conflict(Exception):
    """The file changed on disk since it was opened: nothing was written."""

    def __init__(self, path: Path, on_disk: str, mine: str):
        super().__init__(str(path))
        self.path = path
        self.on_disk = on_disk
        self.mine = mine


@dataclass(frozen=True)
class FileText:
    text: str
    sha256: str
    mtime: float


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long Vietnamese line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read(path: Path) -> FileText:
    data = path.read_bytes()
    return FileText(_utf8(path, data), hashlib.sha256(data).hexdigest(), path.stat().st_mtime)


def read_text(path: Path) -> str:
    return _utf8(path, path.read_bytes())


def _utf8(path: Path, data: bytes) -> str:
    """A project file's text (LF line breaks, no byte-order mark: `textfiles.text_of`); a file Notepad
    saved as "Unicode" or ANSI is an error at its line that says how to save it again (the page was a
    bare 500)."""
    try:
        return textfiles.text_of(data)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(f"{path.name} dòng {line}: tệp không phải UTF-8 (file is not UTF-8)", file=str(path),
                         line=line, fix="mở tệp bằng Notepad, chọn Lưu thành… (Save As), Mã hóa: UTF-8, rồi lưu "
                                        "đè lên tệp cũ") from None


def inside(root: Path, relative: str) -> Path:
    """`relative` as a path inside the project, or UsageError (no `..`, no absolute path, no symlink out)."""
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or "\\" in relative or "\x00" in relative:
        raise UsageError(f"đường dẫn '{relative}' nằm ngoài dự án (path outside the project)")
    return candidate


def id_from(typed: str) -> str:
    """The id a person meant by what they typed, a title or a name with diacritics and spaces ('Thư
    tống tiền bưu điện' -> 'thu-tong-tien-buu-dien'), cut to the longest id allowed; '' when nothing
    is left. Staff are asked for a title, not to invent an ASCII file name."""
    from ..tts.recorded import slugify

    return slugify(typed)[:MAX_SLUG].rstrip("-")


def slug(value: str, what: str) -> str:
    if not SLUG.match(value or "") or len(value) > MAX_SLUG:
        raise UsageError(f"{what} '{value}' không hợp lệ (invalid id)",
                         fix=f"chỉ dùng chữ thường không dấu, số và dấu '-', tối đa {MAX_SLUG} ký tự, "
                             "ví dụ canh-bao-otp")
    return value


def load(text: str) -> Any:
    return _yaml().load(text)


def dump(data: Any, like: str = "") -> str:
    """`data` as YAML text; with a document start (`---`) if the text it was read from, `like`, opened
    with one (it was dropped by the first save)."""
    yaml = _yaml()
    yaml.explicit_start = bool(_DOCUMENT_START.match(like))
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


_DOCUMENT_START = re.compile(r"---(?:[ \t\r\n]|$)")


def with_fields(text: str, fields: dict[str, Any]) -> str:
    """`text` (a YAML mapping) with `fields` set; `None` removes a key; nested mappings given as
    dicts are set key by key, so comments on the other keys stay. Untouched parts keep their form."""
    data = load(text) if text.strip() else CommentedMap()
    if not isinstance(data, CommentedMap):
        data = CommentedMap()
    _merge(data, fields)
    return dump(data, text)


def renamed(text: str, field: str, names: dict[str, str]) -> str:
    """`text` with the keys of its mapping `field` renamed (old name: new name), each value kept as
    written where it was (its anchors and aliases, its comments)."""
    data = load(text)
    inner = data.get(field) if isinstance(data, CommentedMap) else None
    if not isinstance(inner, CommentedMap):
        return text
    for old, new in names.items():
        if old in inner and new not in inner:
            inner.insert(list(inner).index(old), new, inner.pop(old))
    return dump(data, text)


def _merge(data: CommentedMap, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, dict):
            current = data.get(key)
            if not isinstance(current, CommentedMap):
                current = CommentedMap()
                data[key] = current
            _merge(current, value)
            if not current:
                data.pop(key)
        elif key in data and (data[key] == value or isinstance(value, str) and _same_text(data[key], value)):
            continue  # unchanged: leave it as written (its quotes, its comment, a body's '>' or '|-', a number)
        elif isinstance(value, str) and "\n" in value:
            data[key] = LiteralScalarString(value if value.endswith("\n") else value + "\n")
        else:
            data[key] = value


def _same_text(written: Any, typed: str) -> bool:
    """Whether a form's text is the value the file holds: a body but for its final newline, or a
    value the form shows as text (`shown`: 12 stays 12, not '12'; a date stays a date; a list stays
    the list, not the text of it)."""
    if isinstance(written, str):
        return "\n" in typed and written.rstrip() == typed.rstrip()
    return shown(written) == typed


def shown(value: Any) -> str:
    """A value of a file as a form's one-line field shows it: a list or a mapping only by its size (the
    text of one named by aliases ran to gigabytes; it is edited in the file), anything else as text."""
    if isinstance(value, Mapping):
        return f"(nhóm {len(value)} khóa: sửa trong tệp)"
    if isinstance(value, list | tuple | set):
        return f"(danh sách {len(value)} mục: sửa trong tệp)"
    return "" if value is None else str(value)


def script_fields(form: dict[str, str]) -> dict[str, Any]:
    """The script file's fields from the editor's form (strings as typed; the schema checks them)."""
    def text(name: str) -> str:
        return (form.get(name) or "").replace("\r\n", "\n").replace("\r", "\n")

    def day(name: str) -> date | str | None:
        value = text(name).strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value  # the schema reports it at its line

    repeat: int | str = text("repeat").strip() or "1"
    if isinstance(repeat, str) and repeat.isdigit():
        repeat = int(repeat)
    return {
        "title": text("title").strip(),
        "source": text("source").strip(),
        "level": text("level").strip() or "normal",
        "valid": {"from": day("valid_from"), "until": day("valid_until")},
        "repeat": repeat,
        "voice": text("voice").strip() or None,
        # a tab is only a space to the voice, but one opening the body breaks the YAML block: spaces
        "body": text("body").expandtabs(4).rstrip() + "\n",
    }


def write(path: Path, text: str, base_sha256: str | None) -> FileText:
    """Write `text` to `path` atomically, laid out as the file it replaces (its line endings, its
    byte-order mark) and with its permissions (`textfiles.replace`). `base_sha256`: the hash of the
    file when the editor opened it (None for a new file, which must not exist yet); a file changed
    since raises Conflict."""
    text = textfiles.text_of(textfiles.bytes_of(text))
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise UsageError(f"tệp quá lớn (trên {MAX_FILE_BYTES // 1000} kB) (file too large)",
                         fix="chia nội dung thành nhiều kịch bản")
    like = textfiles.Layout()
    if path.exists():
        data = path.read_bytes()
        current = FileText(_utf8(path, data), hashlib.sha256(data).hexdigest(), path.stat().st_mtime)
        if current.text == text:  # already so (a double-click's second save): nothing to write, no conflict
            return current
        if base_sha256 != current.sha256:
            raise Conflict(path, current.text, text)
        like = textfiles.layout(data)
    elif base_sha256 is not None:
        raise Conflict(path, "", text)
    path.parent.mkdir(parents=True, exist_ok=True)
    textfiles.replace(path, textfiles.bytes_of(text, like))
    return read(path)


def diff(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}"))


def trash_folder(root: Path) -> Path:
    return root / FOLDER / TRASH


def to_trash(root: Path, path: Path) -> str:
    """Move a file to `.studio/trash/` under a name that keeps its folder and the time; returns that name.
    Never over another deleted file: the same script deleted twice in one second (deleted, made again,
    deleted) lost its first version, the second renamed over it."""
    folder = trash_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    rel = path.relative_to(root).as_posix()
    stamp = time.strftime('%Y%m%d-%H%M%S')
    for number in range(1000):
        name = f"{stamp}{f'.{number}' if number else ''}--{rel.replace('/', '--')}"
        if not (folder / name).exists():
            break
    os.replace(path, folder / name)
    return name


def trashed(root: Path) -> list[tuple[str, str]]:
    """(trash name, original project path) of every deleted file, newest first."""
    folder = trash_folder(root)
    if not folder.is_dir():
        return []
    out = []
    for item in sorted(folder.iterdir(), reverse=True):
        stamp, _, rel = item.name.partition("--")
        if rel:
            out.append((item.name, rel.replace("--", "/")))
    return out


def restore(root: Path, name: str) -> str:
    """Put a trashed file back where it was (never over a file that exists); returns its path."""
    if "/" in name or name.startswith(".") or not (trash_folder(root) / name).is_file():
        raise UsageError(f"không có '{name}' trong thùng rác (not in the trash)")
    rel = name.partition("--")[2].replace("--", "/")
    target = inside(root, rel)
    if target.exists():
        raise UsageError(f"đã có tệp {rel}: không khôi phục đè lên (a file is already there)",
                         fix="đổi tên hoặc xóa tệp hiện có trước")
    os.replace(trash_folder(root) / name, target)
    return rel
