"""As-run: what actually aired, against what the week planned.

Import reads playback logs into the project's `asrun/<province>/<commune>.csv` (one line per play,
kept across imports, the same play never twice):

- the `AS-RUN` lines the generated Liquidsoap script prints (`formats/liquidsoap.py`): a time, an
  event (`bat-dau` start, `ket-thuc` end) and the file; an interrupted program (an emergency cut in)
  is two plays of one file; a program joined late (a station started in its slot) says at what second
  of it the play began, and the files before that second did not air;
- a CSV exported by an IP loudspeaker console: a date, a time, and a file or a title (headers in
  Vietnamese or English; an end or a duration when the console gives one: without either, a play
  is taken to have aired whole, and only a miss or a late start can be seen).

The report compares, for one published week, each file the commune's `lich-phat-song.csv` planned
(the station's lines and every message, at its planned start and length) with those plays: aired,
missed, late (started beyond a tolerance), cut short (aired for less than its length), and plays no
plan explains (an emergency, or a file from elsewhere), with totals per commune and per province.
A program file's plays stand for the files it holds, at their offsets.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from .errors import ContentError, Problem
from .formats.liquidsoap import ASRUN_JOINED, ASRUN_MARK

FOLDER = "asrun"
# "end_or_whole": a play with no end (a console that logs only starts) aired whole. Files written with
# the old header ("end") meant a play cut off by an empty end (a Liquidsoap start whose end never came):
# read as ending where it started, as they were reported then.
COLUMNS = ("start", "end_or_whole", "file", "title", "source", "from_second")  # from_second: a late join
_OLD_COLUMNS = ("start", "end", "file", "title", "source")
LATE_SECONDS = 60.0  # default tolerance: a file that starts later than this is late
CUT_SECONDS = 2.0  # a file aired for this much less than its length is cut short
MAX_LOG_BYTES = 200_000_000
MAX_PLAY_SECONDS = 24 * 3600  # one play of one file: a day at most

_DATE_NAMES = ("date", "ngay", "ngày")
_TIME_NAMES = ("time", "start", "gio", "giờ", "bat dau", "bắt đầu", "gio phat", "giờ phát")
_FILE_NAMES = ("file", "tep", "tệp", "ten tep", "tên tệp", "filename")
_TITLE_NAMES = ("title", "tieu de", "tiêu đề", "noi dung", "nội dung", "ten ban tin", "tên bản tin")
_END_NAMES = ("end", "ket thuc", "kết thúc")
_DURATION_NAMES = ("duration", "seconds", "thoi luong", "thời lượng", "giay", "giây")


@dataclass(frozen=True)
class Play:
    """One play of one file, as a log records it."""

    start: datetime
    end: datetime | None
    file: str  # the file's name (no folder), or "" when the console gave only a title
    title: str = ""
    source: str = ""  # the log it came from
    offset: float = 0.0  # the second of the file it began at: a program joined late

    def row(self) -> tuple[str, str, str, str, str, str]:
        return (self.start.isoformat(timespec="milliseconds"),
                self.end.isoformat(timespec="milliseconds") if self.end else "", self.file, self.title, self.source,
                f"{self.offset:g}" if self.offset else "")


@dataclass(frozen=True)
class Planned:
    """One file of the week's plan: when it should start and for how long."""

    start: datetime
    seconds: float
    file: str  # e.g. "goi-113.mp3" (the name, as plays record it)
    title: str
    program: str  # the program file that holds it
    offset: float  # seconds into the program


@dataclass
class Line:
    """The report's line for one planned file."""

    planned: Planned
    aired_start: datetime | None = None
    aired_seconds: float = 0.0
    late_after: float = LATE_SECONDS

    @property
    def status(self) -> str:
        if self.aired_start is None or self.aired_seconds <= 0:
            return "missed"
        if (self.aired_start - self.planned.start).total_seconds() > self.late_after:
            return "late"
        if self.aired_seconds < self.planned.seconds - CUT_SECONDS:
            return "cut"
        return "aired"


@dataclass
class CommuneReport:
    locale_id: str
    lines: list[Line] = field(default_factory=list)
    unplanned: list[Play] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(line.status == status for line in self.lines)

    @property
    def planned_seconds(self) -> float:
        return sum(line.planned.seconds for line in self.lines)

    @property
    def aired_seconds(self) -> float:
        return sum(min(line.aired_seconds, line.planned.seconds) for line in self.lines)


STATUS_NAMES = {"aired": "đã phát", "missed": "không phát", "late": "phát muộn", "cut": "bị cắt ngắn"}


# --- import ------------------------------------------------------------------------------------------


def decode_log(data: bytes) -> str:
    """A log's text as the console or Excel saved it, in NFC: UTF-16 with its byte order mark (Excel's
    "Unicode Text"), UTF-8 (with or without one), else Windows' Vietnamese code page cp1258 (Excel's
    "CSV" on a Vietnamese Windows; its tone marks are combining characters, composed by NFC). Titles
    typed as NFD or saved in cp1258 were compared as other text: every play was 'outside the plan'."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        letters = sum(1 for c in text if c > "\x7f") - bad
        # a few bad bytes in UTF-8 text (a log cut mid-letter by a power cut) stay UTF-8, each replaced; a
        # file whose high bytes are mostly not UTF-8 is the code page's
        if bad > 2 and bad * 20 > letters:
            text = data.decode("cp1258", errors="replace")
    return unicodedata.normalize("NFC", text)


def parse_log(text: str, source: str) -> list[Play]:
    """Plays in `text`: Liquidsoap AS-RUN lines, or an IP console's CSV. ContentError (file:line) for a
    line that cannot be read."""
    if ASRUN_MARK + "\t" in text:
        return _liquidsoap_plays(text, source)
    return _console_plays(text, source)


def _liquidsoap_plays(text: str, source: str) -> list[Play]:
    plays: list[Play] = []
    open_: dict[str, tuple[datetime, float]] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith(ASRUN_MARK + "\t"):
            continue  # Liquidsoap's own log lines
        parts = line.split("\t")
        try:
            _, when, event, path = parts[:4]
            at = _stations_clock(datetime.fromisoformat(when))
            joined = parts[4] if len(parts) > 4 else ""  # a program joined late: vao-muon=<its second>
            offset = float(joined.removeprefix(ASRUN_JOINED)) if joined.startswith(ASRUN_JOINED) else 0.0
            if not 0 <= offset < 86_400:  # also nan and inf
                raise ValueError(offset)
        except ValueError:
            problems.append(Problem(source, number, "", f"dòng AS-RUN không đọc được: {line[:80]!r}",
                                    "dòng phải có dạng AS-RUN<tab>thời gian<tab>bat-dau|ket-thuc<tab>tệp"
                                    f"[<tab>{ASRUN_JOINED}<giây>]"))
            continue
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        if event == "bat-dau":
            if name in open_:  # a start with no end: the player stopped (cut short), when is not known
                start, began = open_.pop(name)
                plays.append(Play(start, start, name, source=source, offset=began))
            open_[name] = (at, offset)
        elif event == "ket-thuc" and name in open_:
            start, began = open_.pop(name)
            plays.append(Play(start, at, name, source=source, offset=began))
    plays += [Play(start, start, name, source=source, offset=began) for name, (start, began) in open_.items()]
    if problems:
        raise ContentError(problems)
    return sorted(plays, key=lambda p: p.start)


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    wanted = {_norm(n) for n in names}
    return next((i for i, h in enumerate(header) if _norm(h) in wanted), None)


def _console_plays(text: str, source: str) -> list[Play]:
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline=None: CR-only lines (Excel's "CSV (Macintosh)") and CRLF read as lines
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ContentError([Problem(source, reader.line_num, "", f"dòng CSV không đọc được: {exc} (not CSV)",
                                    "lưu lại nhật ký dạng CSV (UTF-8) từ bàn điều khiển rồi nhập lại")]) from None
    if not rows:
        return []
    header = rows[0]
    when_date, when_time = _column(header, _DATE_NAMES), _column(header, _TIME_NAMES)
    file_col, title_col = _column(header, _FILE_NAMES), _column(header, _TITLE_NAMES)
    end_col, length_col = _column(header, _END_NAMES), _column(header, _DURATION_NAMES)
    if when_date is None or when_time is None or (file_col is None and title_col is None):
        raise ContentError([Problem(source, 1, "", "không nhận ra cột ngày, giờ và tệp (hoặc tiêu đề) trong tệp CSV "
                                    f"(columns not recognised): {', '.join(header)[:200]}",
                                    "dòng đầu cần có các cột: date (ngày), time (giờ), file (tệp) hoặc title (tiêu đề)")])
    plays, problems = [], []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            day = _date(row[when_date])
            start = datetime.combine(day, _time(row[when_time]))
            end = None
            if end_col is not None and end_col < len(row) and row[end_col].strip():
                end = datetime.combine(day, _time(row[end_col]))
                end += timedelta(days=1) if end < start else timedelta()
        except (ValueError, IndexError, OverflowError):  # 06:00:1e400, the end past 9999-12-31
            problems.append(Problem(source, number, "", f"dòng {number} không đọc được ngày, giờ: {','.join(row)[:80]!r}",
                                    "ngày dạng 2026-12-01 hoặc 01/12/2026, giờ dạng 06:00 hoặc 06:00:05"))
            continue
        if end is None and length_col is not None and length_col < len(row) and row[length_col].strip():
            try:
                seconds = float(row[length_col].replace(",", "."))
            except ValueError:
                seconds = -1.0
            if not 0 <= seconds <= MAX_PLAY_SECONDS:  # also nan; inf and 1e12 ended the import in a traceback
                problems.append(Problem(source, number, "", f"dòng {number}: thời lượng {row[length_col].strip()[:20]!r} "
                                        f"không phải số giây từ 0 đến {MAX_PLAY_SECONDS} (invalid duration)",
                                        "ghi thời lượng bằng số giây, ví dụ 95 hoặc 95,5"))
                continue
            try:
                end = start + timedelta(seconds=seconds)
            except OverflowError:  # ends after 9999-12-31
                problems.append(Problem(source, number, "", f"dòng {number}: lượt phát kết thúc sau năm 9999 "
                                        f"(date out of range): {','.join(row)[:80]!r}", "kiểm tra lại ngày của dòng này"))
                continue
        name = row[file_col].strip().replace("\\", "/").rsplit("/", 1)[-1] if file_col is not None \
            and file_col < len(row) else ""
        title = row[title_col].strip() if title_col is not None and title_col < len(row) else ""
        plays.append(Play(start, end, name, title, source))
    if problems:
        raise ContentError(problems)
    return sorted(plays, key=lambda p: p.start)


STATIONS_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the Liquidsoap script's clock (formats/liquidsoap.py)


def _stations_clock(at: datetime) -> datetime:
    """A time as the stations' clock reads it, without a zone: a log line written with one
    ('2026-12-01T06:00:00+07:00', '...Z': another program, a log edited by hand) was stored as it was,
    and every report after it failed comparing it with the plan's times."""
    return at.astimezone(STATIONS_ZONE).replace(tzinfo=None) if at.tzinfo is not None else at


def _date(text: str) -> date:
    text = text.strip()
    found = re.fullmatch(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})", text)
    if found:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))  # Vietnamese day/month/year
    return date.fromisoformat(text)


def _time(text: str) -> dtime:
    text = text.strip().replace("h", ":")
    parts = text.split(":")
    seconds = float(parts[2]) if len(parts) > 2 and parts[2] else 0.0
    if not 0 <= seconds < 60:  # also nan and inf (int(inf) is an OverflowError)
        raise ValueError(seconds)
    whole = int(seconds)
    return datetime.min.replace(hour=int(parts[0]), minute=int(parts[1] or 0), second=whole,
                                microsecond=int(round((seconds - whole) * 1e6))).time()


def store(root: Path, locale_id: str, plays: Iterable[Play]) -> tuple[int, int]:
    """Add plays to the commune's as-run file (atomically); (new plays, plays already there).

    A play is its start, file and title, whichever log it came from: the same log imported from two
    files (a copy, a rotated daily log beside the whole one) is one play, and a play a log cut off
    (no end) is completed by the log that has its end."""
    path = root / FOLDER / f"{locale_id}.csv"
    by_play: dict[tuple[str, str, str], tuple[str, str, str, str, str, str]] = {}
    for row in _read_rows(path):
        by_play[(row[0], row[2], row[3])] = _later(by_play.get((row[0], row[2], row[3])), row)
    known = set(by_play)
    incoming = {(row[0], row[2], row[3]): row for row in (p.row() for p in plays)}
    for key, row in incoming.items():
        by_play[key] = _later(by_play.get(key), row)
    new = [key for key in incoming if key not in known]
    rows = sorted(by_play.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(COLUMNS)
    out.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # a full disk names no file: the message named output/, where the as-run file is not
        tmp.unlink(missing_ok=True)
        exc.filename = exc.filename or str(path)
        raise
    return len(new), len(incoming) - len(new)


def _later(kept: tuple[str, str, str, str, str, str] | None,
           row: tuple[str, str, str, str, str, str]) -> tuple[str, str, str, str, str, str]:
    """Of two records of one play, the one that saw it end latest (ISO times sort as text). A play whose
    end was never seen (stored ending where it started: a Liquidsoap start with no end, or a console's
    start-only play imported before that meant aired whole) is completed by an end, or by a console's
    record of it aired whole (no end): importing that log again after an update is how such plays
    come right, and it said they were already there, still not aired."""
    if kept is None or row[1] > kept[1]:
        return row
    return row if row[1] == "" and kept[1] == kept[0] else kept


def _read_rows(path: Path) -> list[tuple[str, str, str, str, str, str]]:
    if not path.is_file():
        return []
    # NFC: plays imported before logs were composed match the plan, and a log imported again
    rows = list(csv.reader(io.StringIO(unicodedata.normalize("NFC", path.read_text(encoding="utf-8")))))
    out = [tuple((r + [""] * 6)[:6]) for r in rows[1:] if r]  # stored before from_second: none
    if rows and tuple(rows[0]) == _OLD_COLUMNS:  # stored before an empty end meant "aired whole"
        out = [(r[0], r[1] or r[0], *r[2:]) for r in out]
    # stored with its zone before (a log line '...+07:00'): the same play as that log imported again now
    return [(_clock_text(r[0]), _clock_text(r[1]), *r[2:]) for r in out]  # type: ignore[misc]


def _clock_text(text: str) -> str:
    """A stored time as plays are stored now: on the stations' clock, without a zone."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:  # "" (aired whole), or a line mended by hand: read, and said, as before
        return text
    return _stations_clock(at).isoformat(timespec="milliseconds") if at.tzinfo is not None else text


def stored(root: Path, locale_id: str) -> list[Play]:
    out = []
    for start, end, name, title, source, offset in _read_rows(root / FOLDER / f"{locale_id}.csv"):
        out.append(Play(datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None, name, title,
                        source, float(offset or 0)))
    return out


# --- the report ---------------------------------------------------------------------------------------


def planned(week_folder: Path, locale_id: str) -> list[Planned]:
    """What the commune's published week planned, file by file, from its lich-phat-song.csv."""
    path = week_folder / locale_id / "lich-phat-song.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    out: list[Planned] = []
    program_start: dict[tuple[str, str], datetime] = {}
    for row in rows:
        start = datetime.fromisoformat(f"{row['date']}T{row['start']}")
        program = row.get("program") or f"{row['date']}_{row['slot']}"
        program_start.setdefault((program, row["date"]), start)
        offset = (start - program_start[(program, row["date"])]).total_seconds()
        out.append(Planned(start, float(row["seconds"]), row["file"].rsplit("/", 1)[-1], row["title"], program, offset))
    return out


def compare(locale_id: str, plan: list[Planned], plays: list[Play], late_after: float = LATE_SECONDS,
            week_days: Iterable[date] = ()) -> CommuneReport:
    """Each planned file against the plays of its date. Plays on other days than the week's
    (`week_days`, else the plan's) belong to other weeks' reports and are left out."""
    report = CommuneReport(locale_id, [Line(p, late_after=late_after) for p in plan])
    days = {p.start.date() for p in plan} | set(week_days)
    by_program: dict[tuple[str, date], list[Line]] = {}
    for line in report.lines:
        by_program.setdefault((line.planned.program, line.planned.start.date()), []).append(line)
    reached: dict[tuple[str, date], float] = {}  # how far into each program its plays got
    for play in (p for p in plays if p.start.date() in days):
        key = (play.file, play.start.date())
        if play.file and key in by_program:  # a program file: it stands for the files it holds
            reached[key] = _cover(by_program[key], play, reached.get(key, 0.0))
            continue
        candidates = [line for line in report.lines if line.planned.start.date() == play.start.date()
                      and ((play.file and line.planned.file == play.file)
                           or (not play.file and play.title and line.planned.title == play.title))]
        if not candidates:
            report.unplanned.append(play)
            continue
        line = min(candidates, key=lambda c: (c.aired_start is not None, abs((c.planned.start - play.start).total_seconds())))
        seconds = (play.end - play.start).total_seconds() if play.end else line.planned.seconds  # no end: whole
        if line.aired_start is None or play.start < line.aired_start:
            line.aired_start = play.start
        line.aired_seconds += seconds
    return report


def _cover(lines: list[Line], play: Play, reached: float) -> float:
    """A play of a program: the files it reached, at their offsets. A resumed program (two plays of one
    file) continues where the earlier plays got (`reached`); one joined late (a station started in its
    slot) begins at the second it joined at, and the files before it did not air. A play whose log gives
    no end (a console that logs only starts) airs the rest of the program. Returns how far it got."""
    done = max(reached, play.offset)
    seconds = (play.end - play.start).total_seconds() if play.end \
        else max(line.planned.offset + line.planned.seconds for line in lines) - done
    for line in lines:
        begin, length = line.planned.offset, line.planned.seconds
        covered = max(0.0, min(begin + length, done + seconds) - max(begin, done))
        if covered <= 0:
            continue
        if line.aired_start is None:
            line.aired_start = play.start + timedelta(seconds=max(0.0, begin - done))
        line.aired_seconds += covered
    return done + seconds


@dataclass(frozen=True)
class Totals:
    planned: int
    aired: int
    missed: int
    late: int
    cut: int
    unplanned: int
    planned_seconds: float
    aired_seconds: float


def totals_of(reports: Iterable[CommuneReport]) -> Totals:
    reports = list(reports)
    return Totals(sum(len(r.lines) for r in reports), sum(r.count("aired") for r in reports),
                  sum(r.count("missed") for r in reports), sum(r.count("late") for r in reports),
                  sum(r.count("cut") for r in reports), sum(len(r.unplanned) for r in reports),
                  sum(r.planned_seconds for r in reports), sum(r.aired_seconds for r in reports))


def write_report(week: str, reports: list[CommuneReport], out: Path, late_after: float = LATE_SECONDS) -> list[Path]:
    """The report as printable HTML and CSV in `out`."""
    from jinja2 import Environment, select_autoescape

    out.mkdir(parents=True, exist_ok=True)
    provinces: dict[str, list[CommuneReport]] = {}
    for report in reports:
        provinces.setdefault(report.locale_id.split("/")[0], []).append(report)
    totals = {province: totals_of(communes) for province, communes in provinces.items()}
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_HTML).render(week=week, provinces=sorted(provinces.items()), names=STATUS_NAMES,
                                         totals=totals,
                                         minutes=lambda s: f"{int(s // 60)} phút {int(round(s % 60)):02d} giây",
                                         late=late_after)
    html_path, csv_path = out / f"phat-thuc-te-{week}.html", out / f"phat-thuc-te-{week}.csv"
    html_path.write_text(html, encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("commune", "planned_start", "file", "title", "planned_seconds", "aired_start", "aired_seconds",
                     "status"))
    for report in reports:
        for line in report.lines:
            writer.writerow((report.locale_id, line.planned.start.isoformat(timespec="seconds"), _cell(line.planned.file),
                             _cell(line.planned.title), f"{line.planned.seconds:.1f}",
                             line.aired_start.isoformat(timespec="seconds") if line.aired_start else "",
                             f"{line.aired_seconds:.1f}", line.status))
        for play in report.unplanned:
            # the file's name is as the station's log wrote it: a log is not ours, its names are text too
            writer.writerow((report.locale_id, "", _cell(play.file), _cell(play.title), "", play.start.isoformat(timespec="seconds"),
                             f"{(play.end - play.start).total_seconds():.1f}" if play.end else "", "unplanned"))
    csv_path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return [html_path, csv_path]


def _cell(text: str) -> str:
    from .formats.text import csv_cell

    return csv_cell(text)


_HTML = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo phát thực tế tuần {{ week }}</title>
<style>
  @page { size: A4 portrait; margin: 12mm; }
  body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 4mm; }
  th, td { border: 0.3mm solid #444; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
  th { background: #e8e8e8; }
  .missed, .cut { color: #b00000; font-weight: bold; }
  .late { color: #8a5a00; font-weight: bold; }
  h2 { break-before: auto; }
</style></head><body>
<h1>Báo cáo phát thực tế tuần {{ week }}</h1>
<p>So sánh lịch đã dựng với nhật ký phát. Muộn: bắt đầu chậm quá {{ late | int }} giây.</p>
{% for province, communes in provinces %}
<h2>Tỉnh {{ province }}</h2>
<table><thead><tr><th>Xã</th><th>Số tệp theo lịch</th><th>Đã phát</th><th>Không phát</th><th>Muộn</th><th>Bị cắt</th>
<th>Ngoài lịch</th><th>Thời lượng phát / theo lịch</th></tr></thead><tbody>
{% for c in communes %}<tr><td>{{ c.locale_id }}</td><td>{{ c.lines | length }}</td><td>{{ c.count("aired") }}</td>
<td>{{ c.count("missed") }}</td><td>{{ c.count("late") }}</td><td>{{ c.count("cut") }}</td><td>{{ c.unplanned | length }}</td>
<td>{{ minutes(c.aired_seconds) }} / {{ minutes(c.planned_seconds) }}</td></tr>{% endfor %}
{% set t = totals[province] %}<tr><th>Cộng {{ communes | length }} xã</th><th>{{ t.planned }}</th><th>{{ t.aired }}</th>
<th>{{ t.missed }}</th><th>{{ t.late }}</th><th>{{ t.cut }}</th><th>{{ t.unplanned }}</th>
<th>{{ minutes(t.aired_seconds) }} / {{ minutes(t.planned_seconds) }}</th></tr>
</tbody></table>
{% for c in communes %}
<h3>{{ c.locale_id }}</h3>
<table><thead><tr><th>Theo lịch</th><th>Tệp</th><th>Nội dung</th><th>Phát lúc</th><th>Đã phát</th><th>Kết quả</th></tr></thead><tbody>
{% for line in c.lines if line.status != "aired" %}<tr><td>{{ line.planned.start.strftime("%d/%m %H:%M:%S") }}</td><td>{{ line.planned.file }}</td>
<td>{{ line.planned.title }}</td><td>{{ line.aired_start.strftime("%H:%M:%S") if line.aired_start else "—" }}</td>
<td>{{ minutes(line.aired_seconds) }} / {{ minutes(line.planned.seconds) }}</td><td class="{{ line.status }}">{{ names[line.status] }}</td></tr>
{% else %}<tr><td colspan="6">Mọi tệp đã phát đúng lịch.</td></tr>{% endfor %}
{% for play in c.unplanned %}<tr><td>—</td><td>{{ play.file }}</td><td>{{ play.title }}</td><td>{{ play.start.strftime("%d/%m %H:%M:%S") }}</td><td></td><td>ngoài lịch</td></tr>{% endfor %}
</tbody></table>
{% endfor %}
{% endfor %}
</body></html>
"""
