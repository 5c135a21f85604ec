"""Every format written from a planned week, parsed back by a real parser."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import icalendar
import m3u8

from broadcast.formats import FORMATS, ItemFile, ProgramFile, StationWeek
from broadcast.model import Slot, Week
from broadcast.plan import Airing, Program

WEEK = Week(2026, 49)
SANG = Slot("sang", "Buổi sáng", (1, 2, 3, 4, 5, 6, 7), time(6, 0), 15)
CHIEU = Slot("chieu", "Buổi chiều", (1, 3, 5), time(17, 30), 20)


def station() -> StationWeek:
    programs = []
    for day in WEEK.days:
        for slot in (SANG, CHIEU):
            if day.isoweekday() not in slot.days:
                continue
            items = (ItemFile("canh-bao-khan", "Cảnh báo khẩn: ảnh cắt ghép", "priority",
                              "messages/canh-bao-khan.mp3", 61.25),
                     ItemFile("cuoc-goi-deepfake", "Cảnh giác cuộc gọi video giả mạo, Deepfake", "normal",
                              "messages/cuoc-goi-deepfake.mp3", 95.5))
            program = Program("lang-son/xa-chi-lang", day, slot,
                              tuple(Airing(i.script_id, i.level, i.seconds) for i in items), slot.minutes * 60)
            programs.append(ProgramFile(program.name, program, f"{program.name}.mp3", 160.0, items))
    return StationWeek(WEEK, "lang-son/xa-chi-lang", "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng", "Lạng Sơn",
                       tuple(programs), ())


def written() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for writer in FORMATS.values():
        out.update(writer(station()))
    return out


def test_one_m3u8_per_slot_with_exact_durations_and_relative_paths():
    files = written()
    playlists = sorted(name for name in files if name.endswith(".m3u8"))
    assert len(playlists) == 10 and playlists[0] == "2026-11-30_0600_sang.m3u8"
    assert "2026-12-02_1730_chieu.m3u8" in playlists
    parsed = m3u8.loads(files[playlists[0]].decode("utf-8"))
    assert [s.uri for s in parsed.segments] == ["messages/canh-bao-khan.mp3", "messages/cuoc-goi-deepfake.mp3"]
    assert [s.duration for s in parsed.segments] == [61.25, 95.5]
    assert parsed.segments[1].title == "Cảnh giác cuộc gọi video giả mạo, Deepfake"
    assert files[playlists[0]].startswith(b"#EXTM3U\n")


def test_ics_one_event_per_slot_in_vietnam_time():
    cal = icalendar.Calendar.from_ical(written()["lich-phat-song.ics"])
    events = list(cal.walk("VEVENT"))
    assert len(events) == 10
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    first = events[0]
    assert first.decoded("dtstart") == datetime(2026, 11, 30, 6, 0, tzinfo=tz)
    # the event lasts as long as its program file plays (2 min 40 s), not the whole 15-minute slot
    assert first.decoded("dtend") == datetime(2026, 11, 30, 6, 2, 40, tzinfo=tz)
    assert first["dtstart"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [tz_["tzid"] for tz_ in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert "Cảnh giác cuộc gọi video giả mạo" in str(first["description"])
    assert len({str(e["uid"]) for e in events}) == 10


def test_csv_one_row_per_item_with_times_laid_end_to_end():
    text = written()["lich-phat-song.csv"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 20
    assert rows[0] == {"date": "2026-11-30", "start": "06:00:00.000", "end": "06:01:01.250", "slot": "sang",
                       "file": "messages/canh-bao-khan.mp3", "title": "Cảnh báo khẩn: ảnh cắt ghép",
                       "level": "priority", "script_id": "canh-bao-khan", "seconds": "61.250",
                       "program": "2026-11-30_0600_sang.mp3"}
    assert rows[1]["start"] == "06:01:01.250" and rows[1]["end"] == "06:02:36.750"


def test_html_is_self_contained_printable():
    html = written()["lich-phat-song.html"].decode("utf-8")
    assert '<html lang="vi">' in html and "@page wall { size: A4 landscape" in html and "@page { size: A4 portrait" in html
    assert "http" not in html and "<script" not in html and "<link" not in html
    grid, detail = html.split('<table class="grid">')[1].split("</table>")[0], html.split('<table class="list">')[1]
    assert grid.count("<tr>") == 3 and grid.count("<th>") == 7  # two slots x seven days, one header row
    assert detail.count("<tr>") == 11 and "Thứ Hai 30/11" in html and "17:30–17:50" in html


def test_liquidsoap_is_bound_to_dates_not_to_weekdays():
    liq = written()["lich-phat-song.liq"].decode("utf-8")
    assert 'commune = "lang-son/xa-chi-lang"' in liq and 'time.zone.set("Asia/Ho_Chi_Minh")' in liq
    assert "time.string(time=now, '%Y-%m-%d')" in liq and "KHAN-CAP_" in liq and "AS-RUN" in liq  # today's names
    assert not re.search(r"\b[1-7]w\b", liq)  # no weekday predicate: a file airs on its own date only
    assert "2026-11-30_0600_sang.mp3" not in liq  # it finds the week's files, so it runs on into the next week


def test_formats_are_deterministic():
    assert written() == written()


def test_notes_of_aired_bulletins_from_older_scripts_are_kept_for_the_week_on_air(tmp_path):
    """Scripts before noted a bulletin by name and size; the new ones by week and bytes. Unconverted, every
    bulletin of the week on air aired again at the first start of the new script."""
    import hashlib
    import os
    import time

    from broadcast.formats.liquidsoap import AIRED, upgrade_aired_notes

    output = tmp_path / "output"
    here = output / "2026-W49" / "lang-son" / "xa-chi-lang"
    here.mkdir(parents=True)
    (here / "KHAN-CAP_cu.mp3").write_bytes(b"da phat")  # aired: published before the last note
    (here / "KHAN-CAP_moi.mp3").write_bytes(b"chua phat")  # published after it: cannot have aired
    past = time.time() - 100
    os.utime(here / "KHAN-CAP_cu.mp3", (past, past))
    notes = output / AIRED
    notes.write_text("lang-son/xa-chi-lang/KHAN-CAP_cu.mp3:7\nlang-son/xa-chi-lang/KHAN-CAP_moi.mp3:9\n"
                     "lang-son/xa-chi-lang/KHAN-CAP_khac.mp3:5\n", encoding="utf-8")
    os.utime(notes, (past + 50, past + 50))
    assert upgrade_aired_notes(output, "2026-W49") == 1
    digest = hashlib.md5(b"da phat").hexdigest()
    assert notes.read_text(encoding="utf-8").splitlines()[-1] == f"lang-son/xa-chi-lang/2026-W49/KHAN-CAP_cu.mp3:{digest}"
    assert upgrade_aired_notes(output, "2026-W49") == 0  # once
