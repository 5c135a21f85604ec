"""Station bundles: a commune's published week as one zip to carry to the station, and the check
that a copied folder is exactly what was published.

    output/bundles/<week>/<province>_<commune>.zip
        <commune>/...              every file of the commune's week folder, as published (a file
                                   two slots share by hard link is stored under both names)
        <commune>/HUONG-DAN.txt    what the folder holds and how to check it, for the operator
        <commune>/SHA256SUMS       the sha256 of every file above, as `sha256sum -c` reads it

Each file's bytes are checked against the week's manifest as they go into the zip, so a file
damaged since publishing never reaches a station; the zip is written beside its name and renamed
into place. `verify_folder` reads SHA256SUMS in a folder (the commune folder unzipped on the
station PC, or copied from a USB stick) and names every file missing, changed or not listed.
A zip is the one format every Windows PC opens without installing anything.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

from . import manifest
from .errors import UsageError
from .model import Week
from .publish import Lock, sha256_file

SUMS = "SHA256SUMS"
README = "HUONG-DAN.txt"
LIQUIDSOAP = "lich-phat-song.liq"
# a line of the Liquidsoap script naming its code (formats/liquidsoap.py): a week whose script's code differs
# from the week before's tells the operator to restart Liquidsoap once, as the one running keeps the old code
SCRIPT_CODE = "# mã kịch bản: "
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
_STORED = {".mp3", ".wav"}  # already compressed, or big and gaining little: stored as they are


@dataclass(frozen=True)
class Bundle:
    locale: str
    path: Path
    files: int  # audio and schedules, without the README and SHA256SUMS
    bytes: int


@dataclass
class Verification:
    """What `verify_folder` found: files as listed, and every difference."""

    folder: Path
    ok: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    # not listed, left by earlier bundles (each is unzipped over the last): programs and playlists named for
    # a day before the bundle's week, and bulletins and messages it no longer has (a script expired or
    # removed). Not this bundle's and never aired from it: not a fault of the copy
    earlier: list[str] = field(default_factory=list)
    week_start: date | None = None  # the first day of the bundle's week, as its HUONG-DAN.txt names it

    @property
    def exit_code(self) -> int:
        return 1 if self.missing or self.changed or self.extra else 0


def bundle_folder(output: Path, week: Week) -> Path:
    return output / "bundles" / week.id


def write_bundles(output: Path, week: Week, locales: list[str], project_name: str) -> list[Bundle]:
    """One zip per commune in `locales` that the published `week` holds (under the build lock, so
    no build swaps the week meanwhile)."""
    with Lock(output):
        folder = output / week.id
        entries = manifest.published(folder)
        if not entries:
            raise UsageError(f"tuần {week.id} chưa được phát hành (no published week)",
                             fix=f"dựng tuần đó trước: broadcast build --week {week.id}")
        published = sorted({e.locale for e in entries.values() if e.locale})
        missing = [loc for loc in locales if loc not in published]
        if missing:
            raise UsageError(f"tuần {week.id} đã phát hành không có: {', '.join(missing)} (not in the published week)",
                             fix="dựng các xã đó trước, hoặc chọn xã khác")
        target = bundle_folder(output, week)
        target.mkdir(parents=True, exist_ok=True)
        by_locale: dict[str, list[manifest.Entry]] = {}
        for entry in entries.values():
            by_locale.setdefault(entry.locale, []).append(entry)
        return [_bundle(folder, target, week, loc, sorted(by_locale[loc], key=lambda e: e.path), project_name)
                for loc in (locales or published)]


def _bundle(week_folder: Path, target: Path, week: Week, locale: str, entries: list[manifest.Entry],
            project_name: str) -> Bundle:
    commune = PurePosixPath(locale).name
    path = target / f"{locale.replace('/', '_')}.zip"
    stamp = (week.monday.year, week.monday.month, week.monday.day, 0, 0, 0)  # the same zip for the same week
    sums, total = [], 0
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".zip.tmp", dir=target)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for entry in entries:
                rel = PurePosixPath(entry.path).relative_to(locale).as_posix()
                data = (week_folder / entry.path).read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                if digest != entry.sha256:
                    raise UsageError(f"tệp đã phát hành {entry.path} khác với manifest.json (bị sửa hoặc hỏng "
                                     "sau khi phát hành); không đóng gói (a published file changed)",
                                     file=str(week_folder / entry.path),
                                     fix=f"dựng lại tuần: broadcast build --week {week.id} --locale {locale}")
                _add(archive, f"{commune}/{rel}", data, stamp)
                sums.append(f"{digest}  {rel}")
                total += len(data)
            # for Notepad, the operator's reader: a BOM and CRLF, or Windows before 10 (1903) shows one
            # long line of garbled letters
            programs = [PurePosixPath(e.path).name for e in entries if e.kind == "program"]
            readme = ("\ufeff" + _readme(week, locale, project_name, len(entries), min(programs, default=""),
                                         _new_script(week_folder.parent, week, locale))
                      .replace("\n", "\r\n")).encode()
            _add(archive, f"{commune}/{README}", readme, stamp)
            sums.append(f"{hashlib.sha256(readme).hexdigest()}  {README}")
            _add(archive, f"{commune}/{SUMS}", ("\n".join(sums) + "\n").encode("utf-8"), stamp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return Bundle(locale, path, len(entries), total)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, stamp: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_STORED if PurePosixPath(name).suffix in _STORED else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _script_code(path: Path) -> str | None:
    """The code a Liquidsoap script names (`SCRIPT_CODE`): "" for one written before scripts named it,
    None where there is no script."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search("^" + re.escape(SCRIPT_CODE) + "([0-9a-f]+)", text, re.M)
    return found.group(1) if found else ""


def _new_script(output: Path, week: Week, locale: str) -> bool:
    """Whether the commune's Liquidsoap script this week is other code than the week before's: a station
    runs one script on, week after week, so it keeps the old code (and its mistakes) until restarted."""
    before = _script_code(output / Week.containing(week.monday - timedelta(days=7)).id / locale / LIQUIDSOAP)
    now = _script_code(output / week.id / locale / LIQUIDSOAP)
    return before is not None and now is not None and before != now


def _readme(week: Week, locale: str, project_name: str, files: int, example: str = "",
            new_script: bool = False) -> str:
    """The operator's guide; `example` is the week's first program file (the guide named a fixed date,
    2026-12-01, that no other week's folder holds); `new_script`: the Liquidsoap script changed."""
    days = f"{week.days[0]:%d/%m/%Y} đến {week.days[-1]:%d/%m/%Y}"
    example = example or f"{week.days[0]:%Y-%m-%d}_0600_sang.mp3"
    restart = (f"""
ĐÀI DÙNG LIQUIDSOAP, LƯU Ý TUẦN NÀY: kịch bản {LIQUIDSOAP} đã có bản mới (khác tuần trước).
Liquidsoap đang chạy vẫn dùng bản cũ: sau khi giải nén gói này, tắt rồi chạy lại Liquidsoap một
lần, vào lúc không có buổi phát.
""" if new_script else "")
    return f"""Gói phát thanh tuần {week.id} ({days})
{project_name} — {locale}
{restart}
Thư mục này có {files} tệp của tuần, đúng như đã dựng:
- mỗi buổi phát một tệp chương trình, tên là ngày và giờ phát (ví dụ {example}):
  đến giờ, mở đúng tệp đó và bấm phát;
- tệp bắt đầu bằng KHAN-CAP_ là tin khẩn cấp: phát ngay khi nhận;
- lich-phat-song.html: lịch để in và dán lên tường (mở bằng trình duyệt, bấm In);
- lich-phat-song.csv và lich-phat-song.ics: để nhập vào bộ điều khiển loa IP hoặc lịch;
- các tệp .m3u8: danh sách phát cho phần mềm phát; lich-phat-song.liq: kịch bản Liquidsoap;
- thư mục messages: từng bản tin riêng lẻ.

Kiểm tra sau khi chép (USB, mạng): mỗi tệp phải đúng từng byte như khi dựng.
- Có phần mềm broadcast: chạy   broadcast verify <thư mục này>
- Trên Linux: trong thư mục này chạy   sha256sum -c {SUMS}
Tệp {SUMS} ghi mã sha256 của mọi tệp. Nếu có tệp thiếu hoặc khác, đừng phát tệp đó:
chép lại từ gói gốc hoặc báo cho trung tâm văn hóa - thông tin.

Gói tuần sau giải nén đè lên thư mục này. Tệp của các gói trước (chương trình có tên là một ngày
trước {week.days[0]:%d/%m/%Y}, tin không còn trong {SUMS}) không thuộc gói này; phát xong rồi thì
xoá để ổ đĩa không đầy dần:
- Có phần mềm broadcast: chạy   broadcast verify --prune <thư mục này>
- Không có: xoá các tệp .mp3 và .m3u8 có tên là một ngày đã qua.
"""


def drop_stale(output: Path, week: Week) -> list[str]:
    """Delete the week's station bundles that no longer hold the published files (the week was
    rebuilt, or an emergency added, after they were made), so an old zip never goes to a station:
    it would verify, against its own SHA256SUMS, and air last build's audio. Returns their communes.
    Called with the build lock held, right after publishing."""
    folder = bundle_folder(output, week)
    if not folder.is_dir():
        return []
    published: dict[str, dict[str, str]] = {}
    for entry in manifest.published(output / week.id).values():
        if entry.locale:
            published.setdefault(entry.locale, {})[PurePosixPath(entry.path).relative_to(entry.locale).as_posix()] \
                = entry.sha256
    dropped = []
    for path in sorted(folder.glob("*.zip")):
        locale = path.stem.replace("_", "/", 1)  # ids are slugs: the first '_' is the province's '/'
        try:
            with zipfile.ZipFile(path) as archive:
                sums = archive.read(f"{PurePosixPath(locale).name}/{SUMS}").decode("utf-8", errors="replace")
            held = _parse_sums(sums, path)
            held.pop(README, None)
        except (OSError, KeyError, zipfile.BadZipFile, UsageError):
            held = None  # not a bundle it can read: not one to send either
        if held != published.get(locale):
            try:
                path.unlink(missing_ok=True)
                dropped.append(locale)
            except OSError as error:  # Windows: a zip someone has open cannot go; the week is published all
                dropped.append(f"{locale} (chưa xoá được {path.name}: {error.strerror}; đừng gửi tệp đó)")
    return dropped


def verify_folder(folder: Path) -> Verification:
    """Compare a copied commune folder with its SHA256SUMS, or a published week folder
    (output/<week>) with its manifest: every byte read, whatever a build last noted."""
    sums, week_manifest = folder / SUMS, folder / manifest.FILE
    if sums.is_file():
        own, expected = SUMS, _read_sums(sums)
    elif week_manifest.is_file():
        entries = manifest.published(folder)
        bad = [rel for rel in entries if not _inside(rel)]
        if bad:
            raise UsageError(f"{manifest.FILE} ghi một tệp ngoài thư mục tuần: {bad[0][:80]!r} (path outside the week)",
                             file=str(week_manifest), fix="dựng lại tuần bằng 'broadcast build'")
        own, expected = manifest.FILE, {rel: entry.sha256 for rel, entry in entries.items()}
    else:
        raise UsageError(f"không thấy {SUMS} hay {manifest.FILE} trong {folder} (not a bundle or week folder)",
                         file=str(folder), fix="chỉ đến thư mục xã đã giải nén từ gói .zip, hoặc output/<tuần>")
    result = Verification(folder)
    for rel, digest in expected.items():
        path = folder.joinpath(*PurePosixPath(rel).parts)
        if not path.is_file():
            result.missing.append(rel)
        elif sha256_file(path) != digest:
            result.changed.append(rel)
        else:
            result.ok.append(rel)
    monday = result.week_start = _bundle_monday(folder) if own == SUMS and README in result.ok else None
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != own and rel not in expected:
            day = _day_named(rel)
            left = monday is not None and (day < monday if day else bool(_LEFT_UNDATED.fullmatch(rel)))
            (result.earlier if left else result.extra).append(rel)
    return result


def remove_earlier(verification: Verification, today: date) -> tuple[list[str], int]:
    """Delete the files earlier bundles left (`Verification.earlier`) once they can no longer air: a
    program or playlist after its day, never one of today or later (next week's bundle unzipped on a
    Friday: this weekend's programs still air from the last one); a bulletin or message once the bundle's
    week has begun (the week before's playlists name its messages). Returns what was removed, bytes freed."""
    removed, freed = [], 0
    for rel in verification.earlier:
        day = _day_named(rel)
        path = verification.folder.joinpath(*PurePosixPath(rel).parts)
        over = day < today if day else verification.week_start is not None and verification.week_start <= today
        if not over or path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        path.unlink()
        removed.append(rel)
        freed += size
    return removed, freed


_DAY_NAMED = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})_[^/]+")  # a program or its playlist, at the folder's top
# a bulletin's program or playlist, a message: as a build names them (scripts' ids are slugs)
_LEFT_UNDATED = re.compile(r"KHAN-CAP_[a-z0-9-]+\.(?:mp3|wav|m3u8)|messages/[a-z0-9-]+\.(?:mp3|wav)")


def _day_named(rel: str) -> date | None:
    """The day a top-level file is named for (2026-12-01_0600_sang.mp3), or None."""
    found = _DAY_NAMED.fullmatch(rel)
    try:
        return date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        return None


def _bundle_monday(folder: Path) -> date | None:
    """The first day of the week the bundle unzipped in `folder` is of, as its HUONG-DAN.txt names it."""
    try:
        found = re.search(r"tuần ([0-9]{4}-W[0-9]{2})", (folder / README).read_text(encoding="utf-8-sig"))
        return Week.parse(found.group(1)).monday if found else None
    except (OSError, UnicodeError, ValueError, UsageError):
        return None


def _inside(rel: str) -> bool:
    """A path a list may name in its folder: relative, never up, and on Windows neither another drive
    ('C:/x' is absolute there, not here) nor a file's hidden stream ('x.mp3:y'): no ':' at all."""
    parts = PurePosixPath(rel).parts
    return (bool(rel) and not PurePosixPath(rel).is_absolute() and ".." not in parts
            and not any(c in rel for c in "\\:\0"))


def _read_sums(sums: Path) -> dict[str, str]:
    return _parse_sums(sums.read_text(encoding="utf-8", errors="replace"), sums)


def _parse_sums(text: str, sums: Path) -> dict[str, str]:
    """SHA256SUMS as `sha256sum` writes it: path -> sha256; a line that is not one, or names a path
    outside the folder, is refused at its number."""
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _SUM_LINE.match(line)
        if not match or not _inside(match.group(2)):
            raise UsageError(f"{SUMS} dòng {number} không hợp lệ: {line[:80]!r} (bad line)", file=str(sums),
                             line=number, fix="chép lại tệp SHA256SUMS từ gói gốc")
        expected[match.group(2)] = match.group(1)
    return expected
