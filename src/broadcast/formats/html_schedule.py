"""lich-phat-song.html: the printable A4 weekly schedule that hangs on the station wall.

Self-contained (inline CSS, no fonts, scripts or images from elsewhere), in Vietnamese.
"""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from ..plan import WEEKDAY_NAMES
from .model import StationWeek

LEVEL_LABELS = {"normal": "Thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}

PAGE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Lịch phát sóng {{ s.station }} — tuần {{ s.week.id }}</title>
<style>
  @page { size: A4 portrait; margin: 12mm; }
  body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #000; margin: 0; }
  h1 { font-size: 15pt; margin: 0 0 2mm; }
  p.sub { margin: 0 0 4mm; }
  table { width: 100%; border-collapse: collapse; page-break-inside: auto; }
  th, td { border: 0.3mm solid #444; padding: 1.2mm 1.8mm; vertical-align: top; text-align: left; }
  th { background: #e8e8e8; }
  tr { page-break-inside: avoid; }
  td.time { white-space: nowrap; }
  ol { margin: 0; padding-left: 5mm; }
  .priority { font-weight: bold; }
  .emergency { font-weight: bold; color: #b00000; }
  .box { border: 0.5mm solid #b00000; padding: 2mm; margin: 0 0 4mm; }
  footer { margin-top: 4mm; font-size: 9pt; }
  @media screen { body { max-width: 190mm; margin: 10mm auto; } }
  .draft { border: 0.8mm solid #b00000; color: #b00000; font-weight: bold; font-size: 13pt; padding: 2mm;
           margin: 0 0 4mm; text-align: center; }
  @media print { .draft { position: fixed; top: 0; left: 0; right: 0; background: #fff; }
                 body.has-draft { padding-top: 16mm; } }
</style>
</head>
<body{% if s.draft %} class="has-draft"{% endif %}>
{% if s.draft %}<div class="draft" role="alert">BẢN NHÁP — còn chỗ CẦN ĐIỀN, không dùng để phát sóng</div>{% endif %}
<h1>Lịch phát sóng tuần {{ s.week.id }}</h1>
<p class="sub">{{ s.station }} — {{ s.name }}, tỉnh {{ s.province }}.
Từ {{ days[0] }} đến {{ days[-1] }}.</p>
{% if s.emergencies %}<div class="box"><strong>Tin khẩn cấp — phát ngay khi nhận:</strong>
<ul>{% for e in s.emergencies %}<li>{{ e.messages[0].title }} — tệp <code>{{ e.file }}</code></li>{% endfor %}</ul></div>{% endif %}
<table>
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
</body>
</html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(PAGE)


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} phút {whole % 60:02d} giây"


def _weekday(day) -> str:
    return f"{WEEKDAY_NAMES[day.isoweekday()]} {day:%d/%m}"


def write(station: StationWeek) -> dict[str, bytes]:
    days = [f"{d:%d/%m/%Y}" for d in station.week.days]
    html = _TEMPLATE.render(s=station, days=days, levels=LEVEL_LABELS, minutes=_minutes, weekday=_weekday)
    return {"lich-phat-song.html": html.encode("utf-8")}
