"""lich-phat-song.html: the printable weekly schedule that hangs on the station wall.

Page 1 is the wall sheet: one A4 landscape page, a grid of slots x days, each cell the slot's
messages (short title, level, length) and the program file to play. The detailed list, every file
in the order it plays with its length, follows on A4 portrait pages. Self-contained (inline CSS,
no fonts, scripts or images from elsewhere), in Vietnamese.
"""

from __future__ import annotations

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from ..model import Slot
from ..plan import WEEKDAY_NAMES
from .model import ProgramFile, StationWeek

LEVEL_LABELS = {"normal": "Thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}

PAGE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Lịch phát sóng {{ s.station }} — tuần {{ s.week.id }}</title>
<style>
  @page wall { size: A4 landscape; margin: 8mm; }
  @page { size: A4 portrait; margin: 12mm; }
  body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5pt; color: #000; margin: 0; }
  .wall { page: wall; }
  .wall h1 { font-size: 17pt; margin: 0 0 1mm; }
  .wall p.sub { margin: 0 0 2mm; font-size: 11pt; }
  table.grid { width: 100%; border-collapse: collapse; table-layout: fixed; }
  table.grid th, table.grid td { border: 0.4mm solid #000; padding: 1mm 1.2mm; vertical-align: top; text-align: left; }
  table.grid th { background: #e0e0e0; font-size: 11pt; }
  table.grid th.slot { width: 22mm; }
  table.grid td { font-size: 9.5pt; line-height: 1.2; }
  table.grid td .file { display: block; font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; margin-top: 0.8mm;
                        word-break: break-all; }
  table.grid td ul { margin: 0; padding: 0; list-style: none; }
  table.grid td li { margin: 0 0 0.6mm; }
  table.grid td.none { color: #666; }
  table.grid td li.more { font-style: italic; }
  .legend { font-size: 9pt; margin-top: 1.5mm; }
  .detail { break-before: page; }
  h1 { font-size: 15pt; margin: 0 0 2mm; }
  h2 { font-size: 13pt; margin: 0 0 2mm; }
  p.sub { margin: 0 0 4mm; }
  table.list { width: 100%; border-collapse: collapse; page-break-inside: auto; }
  table.list th, table.list td { border: 0.3mm solid #444; padding: 1.2mm 1.8mm; vertical-align: top; text-align: left; }
  table.list th { background: #e8e8e8; }
  tr { page-break-inside: avoid; }
  td.time { white-space: nowrap; }
  ol { margin: 0; padding-left: 5mm; }
  .priority { font-weight: bold; }
  .emergency { font-weight: bold; color: #b00000; }
  .announcement { color: #444; }
  .box { border: 0.5mm solid #b00000; padding: 1.5mm; margin: 0 0 2mm; }
  footer { margin-top: 4mm; font-size: 9pt; }
  @media screen { body { max-width: 277mm; margin: 10mm auto; } }
  .draft { border: 0.8mm solid #b00000; color: #b00000; font-weight: bold; font-size: 13pt; padding: 2mm;
           margin: 0 0 3mm; text-align: center; }
</style>
</head>
<body>
<section class="wall">
{% if s.draft %}<div class="draft" role="alert">BẢN NHÁP — còn chỗ CẦN ĐIỀN, không dùng để phát sóng</div>{% endif %}
<h1>Lịch phát sóng tuần {{ s.week.id }} — {{ s.station }}</h1>
<p class="sub">{{ s.name }}, tỉnh {{ s.province }}. Từ {{ days[0] }} đến {{ days[-1] }}.
Mỗi buổi: mở đúng tệp chương trình ghi trong ô và bấm phát.</p>
{{ box }}
<table class="grid">
<thead><tr><th class="slot">Buổi</th>{% for day in week_days %}<th>{{ weekday(day) }}</th>{% endfor %}</tr></thead>
<tbody>
{% for slot, cells in grid %}<tr>
<th class="slot">{{ slot.start.strftime("%H:%M") }}<br>{{ slot.label }}</th>
{% for p in cells %}{% if p %}<td><ul>{% for item in shown(p.messages) %}<li class="{{ item.level }}">{{ short(item.title) }}{% if item.level == "emergency" %} (khẩn cấp){% endif %} · {{ clock(item.seconds) }}</li>{% endfor %}{% if p.messages | length > fit %}<li class="more">… và {{ p.messages | length - fit + 1 }} tin khác (xem trang sau)</li>{% endif %}</ul>
<span class="file">{{ p.file }}</span>cả buổi {{ clock(p.seconds) }}</td>{% else %}<td class="none">—</td>{% endif %}{% endfor %}
</tr>
{% endfor %}</tbody>
</table>
<p class="legend"><strong>Đậm</strong>: tin ưu tiên, phát đầu buổi. <span class="emergency">Đỏ</span>: tin khẩn cấp.
Thời lượng phút:giây. Trang sau: chi tiết từng tệp theo thứ tự phát.</p>
</section>
<section class="detail">
<h2>Chi tiết từng buổi phát — tuần {{ s.week.id }}</h2>
<table class="list">
<thead><tr><th>Ngày</th><th>Giờ</th><th>Buổi</th><th>Nội dung (theo thứ tự phát)</th><th>Tệp chương trình</th></tr></thead>
<tbody>
{% for p in s.programs %}<tr>
<td class="time">{{ weekday(p.program.day) }}</td>
<td class="time">{{ p.program.slot.start.strftime("%H:%M") }}–{{ p.program.end.strftime("%H:%M") }}</td>
<td>{{ p.program.slot.label }}</td>
<td><ol>{% for item in p.items %}<li class="{{ item.level }}">{{ item.title }}{% if item.level in ("priority", "emergency") %} ({{ levels[item.level] }}){% endif %} — {{ minutes(item.seconds) }}</li>{% endfor %}</ol></td>
<td><code>{{ p.file }}</code><br>{{ minutes(p.seconds) }}</td>
</tr>
{% endfor %}</tbody>
</table>
<footer>Tạo tự động bởi broadcast. Mỗi buổi: mở tệp chương trình và phát; hoặc nạp danh sách .m3u8 cùng tên.</footer>
</section>
</body>
</html>
"""

# The emergency box, between markers, so that `broadcast emergency` can redraw it in a published
# schedule without rebuilding the week (with_emergencies).
BOX_START, BOX_END = "<!--khan-cap-->", "<!--/khan-cap-->"
BOX = BOX_START + (
    '{% if emergencies %}<div class="box"><strong class="emergency">Tin khẩn cấp — phát ngay khi nhận:</strong>\n'
    '{% for title, file in emergencies %}{{ title }} (tệp <code>{{ file }}</code>){% if not loop.last %}; {% endif %}'
    '{% endfor %}</div>{% endif %}') + BOX_END

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(PAGE)
_BOX = _ENV.from_string(BOX)


def emergency_box(emergencies: list[tuple[str, str]]) -> Markup:
    """The box listing the week's emergency bulletins, (title, program file) each, escaped."""
    return Markup(_BOX.render(emergencies=emergencies))


def with_emergencies(html: bytes, emergencies: list[tuple[str, str]]) -> bytes | None:
    """A published schedule with its emergency box redrawn; None if it has no box markers."""
    text = html.decode("utf-8")
    start, end = text.find(BOX_START), text.find(BOX_END)
    if start < 0 or end < start:
        return None
    return (text[:start] + str(emergency_box(emergencies)) + text[end + len(BOX_END):]).encode("utf-8")


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} phút {whole % 60:02d} giây"


def _weekday(day) -> str:
    return f"{WEEKDAY_NAMES[day.isoweekday()]} {day:%d/%m}"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _short(title: str, limit: int = 26) -> str:
    """A title short enough for a grid cell: cut at a word, with an ellipsis."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0].rstrip(",:;—- ")
    return cut + "…"


# The wall sheet is one A4 landscape page (194 mm high inside its margins): the title, the header row
# and the legend take about 30 mm, each row of slots 13 mm besides its messages (the file's name, the
# length, the padding) and each message, its short title wrapped in two lines, 8.7 mm. A cell lists
# as many messages as the rows leave room for, the rest as one line that sends to the detailed list:
# three slots of 30 minutes with short messages made the grid seven pages, each row split in two, and
# page 1 only the title.
WALL_MM, ROW_MM, MESSAGE_MM = 164.0, 13.0, 8.7


def _fit(rows: int, emergencies: int, draft: bool) -> int:
    """How many messages each cell of the wall grid can list (one line of "... và N tin khác" included)."""
    # room for the emergency box always: `broadcast emergency` adds it to a published sheet
    room = WALL_MM - (8.0 + 6.0 * max(emergencies, 1)) - (12.0 if draft else 0.0)
    return max(1, int((room / max(rows, 1) - ROW_MM) // MESSAGE_MM))


def _grid(station: StationWeek) -> list[tuple[Slot, list[ProgramFile | None]]]:
    """Rows of slots (by start time), one cell per day of the week: the program there, or None."""
    by_slot: dict[tuple[str, str], dict[int, ProgramFile]] = {}
    slots: dict[tuple[str, str], Slot] = {}
    for program in station.programs:
        slot = program.scheduled.slot
        key = (slot.start.strftime("%H:%M"), slot.name)
        slots[key] = slot
        by_slot.setdefault(key, {})[program.scheduled.day.isoweekday()] = program
    return [(slots[key], [by_slot[key].get(day) for day in range(1, 8)]) for key in sorted(slots)]


def write(station: StationWeek) -> dict[str, bytes]:
    days = [f"{d:%d/%m/%Y}" for d in station.week.days]
    box = emergency_box([(e.messages[0].title, e.file) for e in station.emergencies])
    grid = _grid(station)
    fit = _fit(len(grid), len(station.emergencies), station.draft)

    def shown(messages: tuple) -> tuple:
        return messages if len(messages) <= fit else messages[:fit - 1]

    html = _TEMPLATE.render(s=station, box=box, days=days, week_days=station.week.days, grid=grid, fit=fit,
                            shown=shown, levels=LEVEL_LABELS, minutes=_minutes, clock=_clock, short=_short,
                            weekday=_weekday)
    return {"lich-phat-song.html": html.encode("utf-8")}
