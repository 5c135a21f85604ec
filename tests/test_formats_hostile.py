"""Hostile titles, names and labels in every format, read back by that format's real parser:
nothing an editor types can add a playlist entry, a calendar event, a spreadsheet formula,
HTML markup or Liquidsoap code."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import time
from html.parser import HTMLParser

import icalendar
import m3u8
import pytest

from broadcast.formats import FORMATS, ItemFile, MessageInfo, ProgramFile, StationWeek, site
from broadcast.formats.site import CommuneLink
from broadcast.formats.text import csv_cell, liquidsoap_string, one_line
from broadcast.model import Slot, Week
from broadcast.plan import Airing, Program

WEEK = Week(2026, 49)
EVIL_URL = "http://evil.example/x.mp3"
TITLES = (
    f"Cảnh báo\r{EVIL_URL}",  # a CR: today a new URI line in every playlist
    f"Lừa đảo\n#EXTINF:1,x\n{EVIL_URL}\r\n",
    "=HYPERLINK(\"http://evil.example\";\"bấm\")",
    "+84 912 345 678",
    "-1+1",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "<script>alert(1)</script></title><b>đậm</b>",
    "Bình thường\u2028\u0085tiếp",
    "Ngắt dòng\r\nBEGIN:VEVENT\r\nSUMMARY:giả\r\nEND:VEVENT",
    "Không phải ký tự\ufffe\uffff]]><!--",  # XML cannot hold U+FFFE/U+FFFF even escaped
)
STATION = 'Đài xã\nsystem("touch /tmp/pwned")\n# \r\nprint("x") <i>; a, b \\n'
NAME = "Xã Chi Lăng\rEND:VCALENDAR\ufffe"
PROVINCE = "Lạng Sơn</p><script>x()</script>"
LABEL = "Buổi sáng\r\nDTSTART:19700101T000000Z"
FILE = 'sang" ^ system("id") ^ "#{system("id")}\\x\n.mp3'


def hostile() -> StationWeek:
    slot = Slot("sang", LABEL, (1, 3), time(6, 0), 30)
    programs = []
    for day in WEEK.days:
        if day.isoweekday() not in slot.days:
            continue
        items = tuple(ItemFile(f"script-{i}", title, "priority" if i % 2 else "normal", f"messages/script-{i}.mp3",
                               10.0 + i) for i, title in enumerate(TITLES))
        program = Program("lang-son/xa-chi-lang", day, slot,
                          tuple(Airing(i.script_id, i.level, i.seconds) for i in items), slot.minutes * 60)
        programs.append(ProgramFile(program.name, program, f"{program.name}-{FILE}", 200.0, items))
    messages = tuple(MessageInfo(f"script-{i}", title, "normal", f"Nội dung {title}", title, WEEK.monday, None,
                                 f"messages/script-{i}.mp3", 10.0 + i, 1000, f"x/script-{i}/abc")
                     for i, title in enumerate(TITLES))
    return StationWeek(WEEK, "lang-son/xa-chi-lang", NAME, STATION, PROVINCE, tuple(programs), (),
                       messages=messages)


def written() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for writer in FORMATS.values():
        out.update(writer(hostile()))
    return out


def test_one_line_removes_every_line_break_and_control_character():
    assert one_line("a\rb\nc\r\nd\te\x00f\x7fg\x85h\u2028i\u2029j") == "a b c d e f g h i j"
    assert one_line("  Xã\r\n  Chi Lăng \n") == "Xã Chi Lăng"


def test_m3u8_a_hostile_title_adds_no_entry():
    files = written()
    playlists = sorted(name for name in files if name.endswith(".m3u8"))
    assert len(playlists) == 2
    for name in playlists:
        text = files[name].decode("utf-8")
        parsed = m3u8.loads(text)
        assert [s.uri for s in parsed.segments] == [f"messages/script-{i}.mp3" for i in range(len(TITLES))]
        # (the m3u8 package drops "#EXTINF:" from inside a title: its quirk, not an entry)
        assert [s.title for s in parsed.segments] == [one_line(t).replace("#EXTINF:", "") for t in TITLES]
        assert EVIL_URL not in [s.uri for s in parsed.segments]
        assert "\r" not in text and text.count("\n") == 1 + 2 * len(TITLES)


def test_csv_no_cell_is_a_formula_and_rows_stay_rows():
    text = written()["lich-phat-song.csv"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 2 * len(TITLES)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert "\r" not in value and "\n" not in value
    titles = [row["title"] for row in rows[: len(TITLES)]]
    assert titles == [csv_cell(t) for t in TITLES]
    assert titles[2].startswith("'=HYPERLINK") and titles[3] == "'+84 912 345 678" and titles[6] == "'=1+1"
    assert rows[0]["slot"] == "sang" and rows[0]["seconds"] == "10.000"


def test_ics_hostile_text_adds_no_event_or_property():
    data = written()["lich-phat-song.ics"]
    cal = icalendar.Calendar.from_ical(data)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2
    assert len(list(cal.walk("VCALENDAR"))) == 1
    for event in events:
        assert str(event["location"]) == one_line(NAME)
        assert str(event["summary"]).startswith(one_line(LABEL) + ":")
        assert "DTSTART" not in event["summary"] or ":" in str(event["summary"])
        assert event.decoded("dtstart").hour == 6
        description = str(event["description"])
        assert description.count("\n") == len(TITLES)  # one line per item after the file line
        for title in TITLES:
            assert one_line(title) in description
    # TEXT (icalendar keeps an X- property's value raw): the backslash, semicolon and comma escaped
    assert str(cal["x-wr-calname"]) == icalendar.vText(
        f"Lịch phát sóng {one_line(STATION)} — tuần {WEEK.id}").to_ical().decode("utf-8")
    assert "\\; a\\, b \\\\n" in str(cal["x-wr-calname"])
    # every content line of the file is a property: nothing broke a line
    for line in data.decode("utf-8").split("\r\n"):
        assert "\r" not in line and "\n" not in line


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_feeds_with_hostile_text_parse_and_keep_it_as_text():
    feed = written()["podcast.xml"]
    titles = [t.text for t in ET.fromstring(feed).iter("title")]
    assert "Không phải ký tự ]]><!--" in titles
    links = [CommuneLink("lang-son/xa-chi-lang", NAME, PROVINCE)]
    province = site.write(WEEK, "Dự án", "", links, {"lang-son/xa-chi-lang": feed})["lang-son/podcast.xml"]
    items = [t.text or "" for t in ET.fromstring(province).iter("item") for t in t.iter("title")]
    assert len(items) == len(TITLES)
    assert all(t.startswith("Xã Chi Lăng END:VCALENDAR : ") for t in items), items[0]


def test_html_hostile_text_is_text_not_markup():
    html = written()["lich-phat-song.html"].decode("utf-8")
    parser = _Collect()
    parser.feed(html)
    assert "script" not in parser.tags and "i" not in parser.tags and "b" not in parser.tags
    assert parser.tags.count("title") == 1
    text = "".join(parser.text)
    assert "<script>alert(1)</script></title><b>đậm</b>" in text
    assert "Lạng Sơn</p><script>x()</script>" in text


# --- Liquidsoap: a small lexer of its comments and strings, enough to see where text went ------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|#[^\n]*|[^"#]+', re.S)
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|[0-7]{3}|.)", re.S)


def _unescape(body: str) -> str:
    """A literal's body as Liquidsoap reads it (`\\xHH` and `\\ooo` are bytes of the UTF-8 text)."""
    out, at = bytearray(), 0
    for match in _ESCAPE.finditer(body):
        out += body[at:match.start()].encode("utf-8")
        code = match.group(1)
        if code[0] == "x":
            out.append(int(code[1:], 16))
        elif len(code) == 3:
            out.append(int(code, 8))
        else:
            out += {"n": "\n", "t": "\t", "r": "\r"}.get(code, code).encode("utf-8")
        at = match.end()
    out += body[at:].encode("utf-8")
    return out.decode("utf-8")


def lex(script: str) -> tuple[str, list[str], list[str]]:
    """(the code with every string as "S" and every comment as "#C", the strings, the comments)."""
    code, strings, comments = [], [], []
    for token in _TOKEN.findall(script):
        if token.startswith('"'):
            strings.append(token[1:-1])
            code.append('"S"')
        elif token.startswith("#"):
            comments.append(token)
            code.append("#C")
        else:
            code.append(token)
    assert "".join(_TOKEN.findall(script)) == script  # the lexer saw every character
    return "".join(code), strings, comments


def _value(expression: str) -> str:
    """The text a literal or a ("a" ^ "b") concatenation of literals holds."""
    code, strings, _ = lex(expression)
    assert re.fullmatch(r'"S"|\("S"(?: \^ "S")+\)', code), code
    for body in strings:
        assert "#{" not in _unescape(body)  # no literal interpolates
    return "".join(_unescape(body) for body in strings)


def test_liquidsoap_string_holds_exactly_its_text():
    for text in (FILE, "#{", "a#{b#{c", "##{", "x\\\"y", "Đài\x85\u2028", "plain.mp3"):
        assert _value(liquidsoap_string(text)) == text


def test_liquidsoap_hostile_names_stay_inside_comments_and_strings():
    script = written()["lich-phat-song.liq"].decode("utf-8")
    benign = FORMATS["liquidsoap"](StationWeek(WEEK, "lang-son/xa-chi-lang", "Xã", "Đài xã", "Lạng Sơn",
                                               hostile().programs, ()))["lich-phat-song.liq"].decode("utf-8")
    code, _, comments = lex(script)
    benign_code, _, _ = lex(benign)
    # the liquidsoap_string of each file is a concatenation: compare with strings folded
    fold = re.compile(r'\("S"(?: \^ "S")+\)')
    assert fold.sub('"S"', code) == fold.sub('"S"', benign_code)  # same program, only text differs
    assert "system(" not in fold.sub("", code)
    assert comments[0].startswith(f"# Lịch phát sóng {one_line(STATION)}, tuần")
    commune = re.search(r"^commune = (.*)$", script, re.M).group(1)
    assert _value(commune) == "lang-son/xa-chi-lang"


@pytest.mark.system  # needs Debian's liquidsoap: .ci/run installs it and runs `pytest -m "browser or system"`
def test_liquidsoap_accepts_the_hostile_script_and_runs_none_of_it(tmp_path):
    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    pwned = tmp_path / "pwned"
    station = f'Đài\nignore(file.write(data="x", "{pwned}"))\n'
    week = hostile()
    programs = tuple(ProgramFile(p.name, p.program, f'{p.file}#{{file.write(data="x", "{pwned}")}}', p.seconds,
                                 p.items) for p in week.programs)
    week = StationWeek(WEEK, f'x"#{{file.write(data="x", "{pwned}")}}', week.name, station, week.province,
                       programs, ())
    path = tmp_path / "lich-phat-song.liq"
    path.write_bytes(FORMATS["liquidsoap"](week)["lich-phat-song.liq"])
    run = subprocess.run(["liquidsoap", "--check", str(path)], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not pwned.exists()
