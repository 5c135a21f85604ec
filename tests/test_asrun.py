"""As-run: logs built from a published plan, with misses, delays and cuts injected, imported and reported."""

from __future__ import annotations

import csv
import io
import shutil
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import MINIMAL, make_project, run

WEEK = "2026-W49"
COMMUNE = "lang-son/xa-chi-lang"


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("asrun") / "p", {
        "broadcast.yaml": textwrap.dedent(MINIMAL["broadcast.yaml"]) + "min_airings: 1\nopening: Đài truyền thanh xã xin thông báo.\n",
    })
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    return root


def _plan(root: Path) -> list[dict[str, str]]:
    text = (root / "output" / WEEK / COMMUNE / "lich-phat-song.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _programs(rows: list[dict[str, str]]) -> dict[str, tuple[datetime, float]]:
    out: dict[str, tuple[datetime, float]] = {}
    for row in rows:
        start = datetime.fromisoformat(f"{row['date']}T{row['start']}")
        first, total = out.get(row["program"], (start, 0.0))
        out[row["program"]] = (min(first, start), total + float(row["seconds"]))
    return out


def _liquidsoap_line(at: datetime, event: str, file: str) -> str:
    return f"AS-RUN\t{at:%Y-%m-%dT%H:%M:%S}\t{event}\t../../../{WEEK}/{COMMUNE}/{file}"



def _statuses(root: Path, out: Path) -> dict[str, set[str]]:
    """The as-run report of WEEK, made now: each program's statuses (of the files it holds)."""
    assert run("asrun", "report", "--week", WEEK, "-o", str(out), "--project", str(root)).exit_code == 0
    rows = csv.DictReader(io.StringIO((out / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig")))
    by_program: dict[str, set[str]] = {}
    for row, plan_row in zip(rows, _plan(root)):
        by_program.setdefault(plan_row["program"], set()).add(row["status"])
    return by_program

def test_a_week_aired_as_planned_reports_nothing_wrong(week, tmp_path):
    root = week
    programs = _programs(_plan(root))
    log = ["2026/11/30 06:00:00 [lang:3] Liquidsoap's own line, ignored"]
    for name, (start, seconds) in sorted(programs.items()):
        log += [_liquidsoap_line(start + timedelta(seconds=1), "bat-dau", name),
                _liquidsoap_line(start + timedelta(seconds=1 + seconds), "ket-thuc", name)]
    path = tmp_path / "liquidsoap.log"
    path.write_text("\n".join(log) + "\n", encoding="utf-8")
    result = run("asrun", "import", str(path), "--locale", COMMUNE, "--project", str(root))
    assert result.exit_code == 0 and f"Đã nhập {len(programs)} lượt phát mới" in result.output, result.output
    again = run("asrun", "import", str(path), "--locale", COMMUNE, "--project", str(root))
    assert "Đã nhập 0 lượt phát mới" in again.output  # the same play is never counted twice
    report = run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root))
    assert report.exit_code == 0, report.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    assert rows and {r["status"] for r in rows} == {"aired"}, {r["status"] for r in rows}
    assert len(rows) == len(_plan(root))  # every planned file: the opening line and each message


def test_a_play_in_two_logs_is_one_play_and_other_weeks_stay_out_of_the_report(week, tmp_path):
    """A copied or rotated log made a cut program 'aired' (its plays added up), and every play of
    another week was listed as unplanned in this week's report."""
    root = tmp_path / "p3"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    name, (start, seconds) = sorted(_programs(_plan(root)).items())[0]
    cut = [_liquidsoap_line(start, "bat-dau", name), _liquidsoap_line(start + timedelta(seconds=seconds / 2),
                                                                       "ket-thuc", name)]
    other_week = [_liquidsoap_line(start - timedelta(days=7), "bat-dau", name),
                  _liquidsoap_line(start - timedelta(days=7, seconds=-30), "ket-thuc", name)]
    first, copy, older = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "old.log"
    first.write_text("\n".join(cut) + "\n", encoding="utf-8")
    copy.write_text("\n".join(cut) + "\n", encoding="utf-8")
    older.write_text("\n".join(other_week) + "\n", encoding="utf-8")
    assert "Đã nhập 1 lượt phát mới" in run("asrun", "import", str(first), "--locale", COMMUNE,
                                             "--project", str(root)).output
    again = run("asrun", "import", str(copy), str(older), "--locale", COMMUNE, "--project", str(root))
    assert "Đã nhập 1 lượt phát mới (1 lượt đã có từ trước)" in again.output, again.output
    assert run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    assert not [r for r in rows if r["status"] == "unplanned"]
    program = [r for r, plan_row in zip(rows, _plan(root)) if plan_row["program"] == name]
    assert "cut" in {r["status"] for r in program}  # half of it aired, once


def test_misses_delays_cuts_and_unplanned_plays_are_reported(week, tmp_path):
    root = tmp_path / "p2"  # the same published week, with an as-run store of its own
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    plan = _plan(root)
    programs = sorted(_programs(plan).items())
    assert len(programs) >= 4
    (missed, _), (late, (late_start, late_seconds)), (cut, (cut_start, cut_seconds)) = programs[0], programs[1], programs[2]
    log = []
    for name, (start, seconds) in programs[3:]:
        log += [_liquidsoap_line(start, "bat-dau", name), _liquidsoap_line(start + timedelta(seconds=seconds), "ket-thuc", name)]
    log += [_liquidsoap_line(late_start + timedelta(minutes=5), "bat-dau", late),
            _liquidsoap_line(late_start + timedelta(minutes=5, seconds=late_seconds), "ket-thuc", late),
            _liquidsoap_line(cut_start, "bat-dau", cut),  # stopped half way: a start with no end
            _liquidsoap_line(cut_start + timedelta(seconds=cut_seconds / 2), "ket-thuc", cut)]
    log_path = tmp_path / "liquidsoap.log"
    log_path.write_text("\n".join(log) + "\n", encoding="utf-8")
    # an IP console's export: a play of a file no plan has, in Vietnamese headers and day/month/year
    console = tmp_path / "ip.csv"
    console.write_text("Ngày;Giờ;Tệp;Thời lượng\n01/12/2026;09:15:00;quang-cao.mp3;30\n", encoding="utf-8-sig")
    assert run("asrun", "import", str(log_path), str(console), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    report = run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root))
    assert report.exit_code == 0, report.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    by_program: dict[str, set[str]] = {}
    planned_rows = [r for r in rows if r["status"] != "unplanned"]
    for row, plan_row in zip(planned_rows, plan):
        by_program.setdefault(plan_row["program"], set()).add(row["status"])
    assert by_program[missed] == {"missed"}
    assert by_program[late] == {"late"}
    assert "cut" in by_program[cut] and by_program[cut] <= {"aired", "cut", "missed"}
    assert all(by_program[name] == {"aired"} for name, _ in programs[3:])
    [unplanned] = [r for r in rows if r["status"] == "unplanned"]
    assert unplanned["file"] == "quang-cao.mp3" and unplanned["aired_seconds"] == "30.0"
    html = (tmp_path / "r" / f"phat-thuc-te-{WEEK}.html").read_text(encoding="utf-8")
    assert "không phát" in html and "phát muộn" in html and "bị cắt ngắn" in html and "ngoài lịch" in html
    assert "Tỉnh lang-son" in html and "Cộng 1 xã" in html


def test_a_console_csv_that_cannot_be_read_names_its_line(week, tmp_path):
    bad = tmp_path / "ip.csv"
    bad.write_text("date,time,file\n2026-12-01,06:00,a.mp3\n2026-13-45,xx,b.mp3\n", encoding="utf-8")
    result = run("asrun", "import", str(bad), "--locale", COMMUNE, "--project", str(week))
    assert result.exit_code == 2 and f"{bad}:3" in result.output and "Traceback" not in result.output
    headerless = tmp_path / "khong-tieu-de.csv"
    headerless.write_text("a,b\n1,2\n", encoding="utf-8")
    result = run("asrun", "import", str(headerless), "--locale", COMMUNE, "--project", str(week))
    assert result.exit_code == 2 and "không nhận ra cột" in result.output


@pytest.mark.parametrize("row, says", [
    ("2026-12-01,06:00,a.mp3,1e12", "thời lượng '1e12'"),  # past the year 9999: an OverflowError
    ("2026-12-01,06:00,a.mp3,inf", "thời lượng 'inf'"),
    ("2026-12-01,06:00,a.mp3,-30", "thời lượng '-30'"),
    ("2026-12-01,06:00:1e400,a.mp3,", "không đọc được ngày, giờ"),  # int(inf) seconds
    ("9999-12-31,23:59,a.mp3,", None),  # read: a day that exists
    ("9999-12-31,23:59,a.mp3,120", "sau năm 9999"),  # its end is after the last day there is
])
def test_a_console_csv_with_a_duration_or_time_no_clock_has_is_an_error_at_its_line(week, tmp_path, row, says):
    """A station's log is not ours: a duration of 1e12 or inf ended the import in a traceback."""
    log = tmp_path / "ip.csv"
    log.write_text(f"date,time,file,duration\n{row}\n", encoding="utf-8")  # a play of year 9999: in no report
    result = run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(week))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if says is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and f"{log}:2" in result.output and says in result.output, result.output


def test_console_csvs_as_excel_saves_them_are_read_and_a_binary_file_is_a_clear_error(week, tmp_path):
    rows = "date,time,file\r2026-12-01,06:00,a.mp3\r2026-12-01,17:00,b.mp3\r"  # Excel's "CSV (Macintosh)"
    mac = tmp_path / "mac.csv"
    mac.write_bytes(rows.encode("utf-8"))
    unicode_text = tmp_path / "unicode.csv"  # Excel's "Unicode Text": UTF-16 with its byte order mark
    unicode_text.write_bytes(rows.replace("\r", "\r\n").replace("2026-12-01", "2026-12-02").encode("utf-16"))
    for log, new in ((mac, 2), (unicode_text, 2)):
        result = run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(week))
        assert result.exit_code == 0, result.output
        assert f"Đã nhập {new} lượt phát mới" in result.output
    binary = tmp_path / "ghi-am.mp3"
    binary.write_bytes(bytes(range(256)) * 40)
    result = run("asrun", "import", str(binary), "--locale", COMMUNE, "--project", str(week))
    assert result.exit_code == 2 and str(binary) in result.output and "Traceback" not in result.output


def test_the_report_without_a_week_is_of_last_week_the_one_that_has_aired(week):
    """It was of next week, which has not aired: every file 'not aired'."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from broadcast.model import Week

    last = Week.containing((datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(days=7)).date())
    result = run("asrun", "report", "--project", str(week))
    assert last.id in result.output, result.output  # reported, or not published: either way that week


@pytest.mark.parametrize("tolerance", ["inf", "nan", "-5", "1e9"])
def test_a_tolerance_that_is_not_a_number_of_seconds_is_a_usage_error(week, tmp_path, tolerance):
    """'inf' ended in a traceback (the report's template), 'nan' and '-5' reported every play as
    on time or every one as late, with exit 0."""
    out = tmp_path / "r"
    result = run("asrun", "report", "--week", WEEK, "--tolerance", tolerance, "-o", str(out), "--project", str(week))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "--tolerance" in result.output and "Cách sửa:" in result.output, result.output
    assert not out.exists()


@pytest.mark.parametrize("saved", ["nfd", "cp1258"])
def test_a_console_log_saved_in_nfd_or_the_windows_code_page_matches_the_plan(week, tmp_path, saved):
    """A console's export by title, saved as NFD (some input methods) or in cp1258 (Excel's CSV on a
    Vietnamese Windows): 'imported 16 plays', exit 0, and every one of them outside the plan."""
    import unicodedata

    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    day = [row for row in _plan(root) if row["date"] == "2026-12-01"]
    lines = ["Ngày,Giờ phát,Tiêu đề,Thời lượng"] + [f"01/12/2026,{row['start'][:8]},{row['title']},{row['seconds']}"
                                                     for row in day]
    text = "\r\n".join(lines) + "\r\n"
    log = tmp_path / "may-dieu-khien.csv"
    log.write_bytes(unicodedata.normalize("NFD", text).encode("utf-8") if saved == "nfd" else _cp1258(text))
    result = run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root))
    assert result.exit_code == 0 and f"Đã nhập {len(day)} lượt phát mới" in result.output, result.output
    assert run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    that_day = [r for r in rows if r["planned_start"].startswith("2026-12-01")]
    assert that_day and {r["status"] for r in that_day} == {"aired"}, {r["status"] for r in that_day}
    assert not [r for r in rows if r["status"] == "unplanned"]


def _cp1258(text: str) -> bytes:
    """`text` as Windows writes it in its Vietnamese code page: letters with a circumflex, breve or horn
    are single bytes, the five tone marks combining characters after them."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def test_a_utf8_log_with_a_bad_byte_stays_utf8():
    """One byte cut by a power cut made the whole log be read in the code page: every title garbled."""
    from broadcast.asrun import decode_log

    text = "Ngày,Giờ phát,Tiêu đề\n01/12/2026,06:00:00,Cảnh báo lừa đảo qua mạng xã hội\n"
    cut = text.encode("utf-8") + "Lời kết thúc của xã".encode()[:-1]  # the last letter cut half way
    decoded = decode_log(cut)
    assert "Cảnh báo lừa đảo qua mạng xã hội" in decoded and decoded.startswith("Ngày,Giờ phát")
    assert decode_log(_cp1258(text)) == text  # the code page is still recognised


def test_a_file_name_from_a_station_log_is_never_a_formula_in_the_report(tmp_path):
    """An unplanned play's file name went into the report's CSV as the log wrote it: '=HYPERLINK(…)' from a
    console's export, or a Liquidsoap log line, ran as a formula when the province opened the report in Excel."""
    from broadcast.asrun import CommuneReport, parse_log, write_report

    console = "date,time,file,title\n2026-12-01,09:15:00,\"=HYPERLINK(CHAR(104),\"\"bấm\"\")\",=1+2\n"
    liquidsoap = "AS-RUN\t2026-12-01T10:00:00\tbat-dau\t@SUM(A1)\nAS-RUN\t2026-12-01T10:00:30\tket-thuc\t@SUM(A1)\n"
    plays = parse_log(console, "ip.csv") + parse_log(liquidsoap, "liquidsoap.log")
    _, csv_path = write_report(WEEK, [CommuneReport(COMMUNE, [], plays)], tmp_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert [(r["file"], r["title"]) for r in rows] == [("'=HYPERLINK(CHAR(104),\"bấm\")", "'=1+2"), ("'@SUM(A1)", "")]


def test_a_console_csv_of_start_times_only_reports_its_plays_as_aired(week, tmp_path):
    """The README's console export, 'date, time, file or title', without an end or a length: every
    file of every program it names was reported 'không phát' (missed), as if nothing had aired."""
    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    programs = sorted(_programs(_plan(root)).items())
    lines = ["Ngày,Giờ,Tệp"] + [f"{start:%d/%m/%Y},{start:%H:%M:%S},{name}" for name, (start, _) in programs[1:]]
    console = tmp_path / "ban-dieu-khien.csv"
    console.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("asrun", "import", str(console), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    by_program: dict[str, set[str]] = {}
    for row, plan_row in zip(rows, _plan(root)):
        by_program.setdefault(plan_row["program"], set()).add(row["status"])
    assert by_program[programs[0][0]] == {"missed"}  # the one program the console did not name
    assert all(by_program[name] == {"aired"} for name, _ in programs[1:]), by_program


def test_a_liquidsoap_start_with_no_end_is_still_not_aired_whole(week, tmp_path):
    """A program the player stopped (a start, then the log ends) is not taken as aired to its end."""
    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    name, (start, _) = sorted(_programs(_plan(root)).items())[0]
    log = tmp_path / "liquidsoap.log"
    log.write_text(_liquidsoap_line(start, "bat-dau", name) + "\n", encoding="utf-8")
    assert run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    program = [r for r, plan_row in zip(rows, _plan(root)) if plan_row["program"] == name]
    assert program and "aired" not in {r["status"] for r in program}


def test_a_program_joined_late_is_reported_from_the_second_it_joined_at(week, tmp_path):
    """A station started (a power cut) in a program's slot joins it where it would be now, and its script's
    start line says at what second (vao-muon=...). Read from its first file on, the program was reported as
    if its first files aired (late) and its last ones were cut: the files before that second are what did
    not air, the rest aired, also after a bulletin cut in (the resumed play goes on where the joined one
    stopped)."""
    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    plan = _plan(root)
    (first, (first_start, first_seconds)), (second, (second_start, second_seconds)) = sorted(_programs(plan).items())[:2]
    rows = [r for r in plan if r["program"] == first]
    assert len(rows) == 2 and sum(r["program"] == second for r in plan) == 2  # the opening, a message
    lengths = [float(r["seconds"]) for r in rows]
    early, late = lengths[0] / 2, lengths[0] + lengths[1] / 2  # into the first file; into the second
    at, later = first_start + timedelta(seconds=early), second_start + timedelta(seconds=late)
    log = tmp_path / "liquidsoap.log"
    log.write_text("\n".join([
        _liquidsoap_line(at, "bat-dau", first) + f"\tvao-muon={early:g}",
        _liquidsoap_line(at + timedelta(seconds=2), "ket-thuc", first),  # a bulletin cuts in for 3 s
        _liquidsoap_line(at + timedelta(seconds=5), "bat-dau", first),
        _liquidsoap_line(at + timedelta(seconds=3 + first_seconds - early), "ket-thuc", first),
        _liquidsoap_line(later, "bat-dau", second) + f"\tvao-muon={late:g}",
        _liquidsoap_line(later + timedelta(seconds=second_seconds - late), "ket-thuc", second)]) + "\n",
        encoding="utf-8")
    assert run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root)).exit_code == 0
    report = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    by_program: dict[str, list[dict[str, str]]] = {}
    for row, plan_row in zip(report, plan):
        by_program.setdefault(plan_row["program"], []).append(row)
    assert [r["status"] for r in by_program[first]] == ["cut", "aired"], by_program[first]
    # to the second: the log's times are whole seconds
    assert [float(r["aired_seconds"]) for r in by_program[first]] == pytest.approx([lengths[0] / 2, lengths[1]], abs=1)
    assert [r["status"] for r in by_program[second]] == ["missed", "cut"], by_program[second]
    assert float(by_program[second][1]["aired_seconds"]) == pytest.approx(lengths[1] / 2, abs=1)


def test_a_play_stored_cut_off_before_an_empty_end_meant_whole_is_still_not_aired(week, tmp_path):
    """Stored by the version before (header 'end'), an empty end was a Liquidsoap start whose end never came:
    the new meaning of an empty end (a console's start-only play, aired whole) turned those into 'aired'."""
    from broadcast import asrun

    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    (first, (start, _)), (second, (later, _)) = sorted(_programs(_plan(root)).items())[:2]
    stored = root / asrun.FOLDER / f"{COMMUNE}.csv"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("start,end,file,title,source\n"
                      f"{start.isoformat(timespec='milliseconds')},,{first},,liquidsoap.log\n", encoding="utf-8")

    def statuses() -> dict[str, set[str]]:
        return _statuses(root, tmp_path / "r")

    assert "aired" not in statuses()[first]
    console = tmp_path / "ban-dieu-khien.csv"  # then a console's start-only export: its play aired whole
    console.write_text(f"Ngày,Giờ,Tệp\n{later:%d/%m/%Y},{later:%H:%M:%S},{second}\n", encoding="utf-8")
    assert run("asrun", "import", str(console), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert stored.read_text(encoding="utf-8").splitlines()[0] == ",".join(asrun.COLUMNS)  # rewritten the new way
    after = statuses()
    assert "aired" not in after[first] and after[second] == {"aired"}, after


def test_console_plays_stored_before_an_update_air_whole_once_their_log_is_imported_again(week, tmp_path):
    """A console's start-only export imported by a version before start-only meant aired whole is stored
    with an empty end under the old header, read since as cut off (the meaning it had then): every one
    of its plays 'không phát'. Importing the same export again after the update said they were all
    already there and changed nothing, so the report never came right."""
    from broadcast import asrun

    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    programs = sorted(_programs(_plan(root)).items())
    stored = root / asrun.FOLDER / f"{COMMUNE}.csv"
    stored.parent.mkdir(parents=True, exist_ok=True)
    console = tmp_path / "ban-dieu-khien.csv"
    stored.write_text("start,end,file,title,source\n" + "".join(
        f"{start.isoformat(timespec='milliseconds')},,{name},,{console}\n" for name, (start, _) in programs),
        encoding="utf-8")

    def statuses() -> dict[str, set[str]]:
        return _statuses(root, tmp_path / "r")

    assert all("aired" not in found for found in statuses().values())  # as it was reported then
    console.write_text("Ngày,Giờ,Tệp\n" + "".join(f"{start:%d/%m/%Y},{start:%H:%M:%S},{name}\n"
                                                  for name, (start, _) in programs), encoding="utf-8")
    assert run("asrun", "import", str(console), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert all(found == {"aired"} for found in statuses().values())
    # an end a log saw is never undone by a start-only record of the same play
    name, (start, seconds) = programs[0]
    log = tmp_path / "liquidsoap.log"
    log.write_text(_liquidsoap_line(start, "bat-dau", name) + "\n"
                   + _liquidsoap_line(start + timedelta(seconds=seconds / 2), "ket-thuc", name) + "\n", encoding="utf-8")
    assert run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert run("asrun", "import", str(console), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    assert "cut" in statuses()[name]


def test_an_import_the_full_disk_refuses_names_the_as_run_file_and_keeps_the_one_there(week, tmp_path, monkeypatch):
    """Found on a real full tmpfs: the message said output/ could not be written (the as-run file is in
    asrun/), and the half-written '.xa-chi-lang.csv.tmp' stayed beside the file."""
    import errno

    root = tmp_path / "p"
    shutil.copytree(week, root, symlinks=True)
    name, (start, seconds) = sorted(_programs(_plan(root)).items())[0]
    first, second = tmp_path / "1.log", tmp_path / "2.log"
    first.write_text(_liquidsoap_line(start, "bat-dau", name) + "\n", encoding="utf-8")
    second.write_text(_liquidsoap_line(start + timedelta(seconds=seconds), "ket-thuc", name) + "\n", encoding="utf-8")
    assert run("asrun", "import", str(first), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    store = root / "asrun" / f"{COMMUNE}.csv"
    before = store.read_bytes()
    real = Path.write_text

    def full(self, text, *args, **kwargs):
        if self.name.endswith(".csv.tmp"):
            real(self, text[: len(text) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    result = run("asrun", "import", str(second), "--locale", COMMUNE, "--project", str(root))
    assert result.exit_code == 3 and "ổ đĩa đã đầy" in result.output, result.output
    assert f"asrun/{COMMUNE}.csv" in result.output.replace("\\", "/"), result.output
    assert store.read_bytes() == before and sorted(p.name for p in store.parent.iterdir()) == [store.name]


@pytest.mark.parametrize("renamed", [True, False])
def test_the_logs_of_a_commune_renamed_or_removed_since_its_week_aired_are_imported(week, tmp_path, renamed):
    """Staff rename a commune (or remove it) the week after: its station's logs of the week it aired under
    the old name were refused ('unknown locale'), and that week's report, which lists it from the published
    week, said none of its programs aired."""
    root = tmp_path / "p"
    shutil.copytree(week, root)
    shutil.rmtree(root / "asrun", ignore_errors=True)  # other tests' plays
    old = root / "locales" / "lang-son" / "xa-chi-lang.yaml"
    if renamed:
        old.rename(old.with_name("xa-quang-lac.yaml"))
    else:
        (root / "locales" / "lang-son" / "xa-huu-lung.yaml").write_text("name: Xã Hữu Lũng\ncode: '06385'\n",
                                                                        encoding="utf-8")
        old.unlink()
    programs = _programs(_plan(root))
    log = []
    for name, (start, seconds) in sorted(programs.items()):
        log += [_liquidsoap_line(start, "bat-dau", name), _liquidsoap_line(start + timedelta(seconds=seconds),
                                                                          "ket-thuc", name)]
    path = tmp_path / "liquidsoap.log"
    path.write_text("\n".join(log) + "\n", encoding="utf-8")
    for named in (COMMUNE, "xa-chi-lang"):  # by its full id or its commune part, as for a commune of the project
        result = run("asrun", "import", str(path), "--locale", named, "--project", str(root))
        assert result.exit_code == 0, result.output
    assert (root / "asrun" / f"{COMMUNE}.csv").is_file()
    report = run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    assert report.exit_code == 0 and {r["status"] for r in rows} == {"aired"}, report.output
    unknown = run("asrun", "import", str(path), "--locale", "xa-khong-co", "--project", str(root))
    assert unknown.exit_code == 2 and "unknown locale" in unknown.output  # never published either: still refused


def test_a_log_written_with_a_time_zone_is_read_on_the_stations_clock(week, tmp_path):
    """A log line with its zone ('+07:00', or UTC's 'Z': another program, a log edited by hand) was stored as it
    was, and every report after it ended in a traceback comparing it with the plan's times."""
    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    (first, (start, seconds)), *_ = sorted(_programs(_plan(root)).items())
    end = start + timedelta(seconds=seconds)
    path = f"../../../{WEEK}/{COMMUNE}/{first}"
    utc_end = end - timedelta(hours=7)  # the same moment on UTC's clock
    log = tmp_path / "liquidsoap.log"
    log.write_text(f"AS-RUN\t{start:%Y-%m-%dT%H:%M:%S}+07:00\tbat-dau\t{path}\n"
                   f"AS-RUN\t{utc_end:%Y-%m-%dT%H:%M:%S}Z\tket-thuc\t{path}\n", encoding="utf-8")
    assert run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root)).exit_code == 0
    report = run("asrun", "report", "--week", WEEK, "-o", str(tmp_path / "r"), "--project", str(root))
    assert report.exit_code == 0 and "Traceback" not in report.output, report.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / f"phat-thuc-te-{WEEK}.csv").read_text(encoding="utf-8-sig"))))
    aired = [r for r, p in zip(rows, _plan(root)) if p["program"] == first]
    assert aired and {r["status"] for r in aired} == {"aired"}, aired


def test_plays_stored_with_their_time_zone_are_the_same_plays_when_their_log_is_imported_again(week, tmp_path):
    """A version before the stations' clock stored such a log's plays with their zone ('...+07:00'); after the
    update its reports read them, but importing that log again (what its traceback had people do) stored each
    play a second time, said new: the file's plays are one per start on the stations' clock."""
    from broadcast import asrun

    root = tmp_path / "p"
    shutil.copytree(week, root, ignore=shutil.ignore_patterns("asrun"))
    (first, (start, seconds)), *_ = sorted(_programs(_plan(root)).items())
    zone = timezone(timedelta(hours=7))
    at, end = start.replace(tzinfo=zone), (start + timedelta(seconds=seconds)).replace(tzinfo=zone)
    log = tmp_path / "liquidsoap.log"
    path = f"../../../{WEEK}/{COMMUNE}/{first}"
    log.write_text(f"AS-RUN\t{at.isoformat()}\tbat-dau\t{path}\nAS-RUN\t{end.isoformat()}\tket-thuc\t{path}\n",
                   encoding="utf-8")
    stored = root / asrun.FOLDER / f"{COMMUNE}.csv"  # as that version stored it
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(",".join(asrun.COLUMNS) + f"\n{at.isoformat(timespec='milliseconds')},"
                      f"{end.isoformat(timespec='milliseconds')},{first},,{log}\n", encoding="utf-8")
    again = run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(root))
    assert again.exit_code == 0 and "0 lượt phát mới (1 lượt đã có từ trước)" in again.output, again.output
    rows = list(csv.reader(io.StringIO(stored.read_text(encoding="utf-8"))))[1:]
    assert [row[:3] for row in rows] == [[at.replace(tzinfo=None).isoformat(timespec="milliseconds"),
                                       end.replace(tzinfo=None).isoformat(timespec="milliseconds"), first]]


@pytest.mark.parametrize("second", ["inf", "nan", "-30", "1e400"])
def test_a_late_join_at_no_second_of_a_program_is_an_error_at_its_line(week, tmp_path, second):
    """vao-muon=inf was read as joined after the program's end (all of it missed), nan was dropped."""
    log = tmp_path / "liquidsoap.log"
    log.write_text("AS-RUN\t2026-12-01T06:00:00\tbat-dau\t2026-12-01_0600_sang.mp3\tvao-muon=0\n"
                   f"AS-RUN\t2026-12-01T07:00:00\tbat-dau\t2026-12-01_0700_sang.mp3\tvao-muon={second}\n",
                   encoding="utf-8")
    result = run("asrun", "import", str(log), "--locale", COMMUNE, "--project", str(week))
    assert result.exit_code == 2 and "liquidsoap.log:2" in result.output and "Traceback" not in result.output, \
        result.output
