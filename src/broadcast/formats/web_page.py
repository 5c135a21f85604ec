"""index.html: the commune's week as a web page, for people who listen on a phone and for the
commune's portal. Every message with a player, its text as written (not the spoken form), its
level, validity and source directive; then the week's schedule. The province's and the week's
index pages are site.py's.

One small self-contained page: inline CSS, no script, no font, no image, nothing from elsewhere,
so it works from a folder, a USB stick or any web server, and the players load nothing until
pressed (preload="none") on a weak connection. Accessible: the page's language, one h1 and h2 per
message, a link to skip to the messages, labelled players, a schedule table with a caption and
header cells, text at least 16 px with contrast above 7:1, and visible keyboard focus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from .html_schedule import LEVEL_LABELS, _clock, _weekday
from .model import MessageInfo, StationWeek
from .podcast import FEED

PAGE_NAME = "index.html"

STYLE = """
  * { box-sizing: border-box; }
  body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; font-size: 1rem;
         line-height: 1.55; color: #111; background: #fff; margin: 0 auto; padding: 0.75rem; max-width: 46rem; }
  a { color: #0b4ea2; }
  a:focus, audio:focus, summary:focus { outline: 3px solid #b35c00; outline-offset: 2px; }
  .skip { position: absolute; left: -999px; }
  .skip:focus { position: static; }
  h1 { font-size: 1.45rem; line-height: 1.25; margin: 0.5rem 0; }
  h2 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 0.4rem; }
  nav, .sub { font-size: 0.95rem; }
  article { border-top: 2px solid #555; padding: 0.9rem 0; }
  article.emergency { border: 3px solid #a00000; padding: 0.8rem; }
  .level { display: inline-block; font-weight: bold; padding: 0 0.4rem; border: 2px solid #333; }
  .emergency .level { color: #fff; background: #a00000; border-color: #a00000; }
  .priority .level { border-color: #111; }
  dl { margin: 0.4rem 0; display: grid; grid-template-columns: max-content 1fr; gap: 0 0.6rem; }
  dt { font-weight: bold; }
  dd { margin: 0; }
  audio { width: 100%; margin: 0.4rem 0; }
  .text p { margin: 0 0 0.6rem; }
  table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
  caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
  th, td { border: 1px solid #555; padding: 0.3rem 0.4rem; text-align: left; vertical-align: top; }
  th { background: #e6e6e6; }
  .draft { border: 3px solid #a00000; color: #a00000; font-weight: bold; padding: 0.5rem; }
  footer { font-size: 0.9rem; margin-top: 1rem; color: #333; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cảnh giác lừa đảo — {{ s.station }} — tuần {{ s.week.id }}</title>
<link rel="alternate" type="application/rss+xml" title="Podcast {{ s.station }}" href="{{ feed }}">
<style>{{ style }}</style>
</head>
<body>
<a class="skip" href="#tin">Bỏ qua, đến các bản tin</a>
<header>
<nav aria-label="Đường dẫn"><a href="../../index.html">Tuần {{ s.week.id }}</a> ›
<a href="../index.html">Tỉnh {{ s.province }}</a> › {{ s.name }}</nav>
<h1>Cảnh giác lừa đảo: bản tin của {{ s.station }}</h1>
<p class="sub">{{ s.name }}, tỉnh {{ s.province }}. Tuần {{ s.week.id }}: từ {{ days[0] }} đến {{ days[-1] }}.
<!--so-tin-->{{ s.messages | length }}<!--/so-tin--> bản tin, phát trên loa truyền thanh theo lịch ở cuối trang.
Nghe trên điện thoại: <a href="{{ feed }}">podcast (RSS)</a>.</p>
{% if s.draft %}<p class="draft" role="alert">BẢN NHÁP: còn chỗ cần điền, chưa dùng để phát sóng.</p>{% endif %}
</header>
<main id="tin">
<!--khan-cap-->{% for m in s.messages if m.level == "emergency" %}{{ article(m) }}{% endfor %}<!--/khan-cap-->
{% for m in s.messages if m.level != "emergency" %}{{ article(m) }}
{% endfor %}{% if not s.messages %}<p>Tuần này không có bản tin nào.</p>{% endif %}
<section aria-labelledby="lich">
<h2 id="lich">Lịch phát trên loa trong tuần</h2>
<table>
<caption>Các buổi phát của {{ s.station }}, tuần {{ s.week.id }}</caption>
<thead><tr><th scope="col">Ngày</th><th scope="col">Giờ</th><th scope="col">Buổi</th>
<th scope="col">Bản tin</th></tr></thead>
<tbody>
<!--khan-cap-lich-->{% for e in s.emergencies %}{{ at_once(e.messages[0]) }}{% endfor %}<!--/khan-cap-lich-->
{% for p in s.programs %}<tr><td>{{ weekday(p.scheduled.day) }}</td>
<td>{{ p.scheduled.start.strftime("%H:%M") }}</td><td>{{ p.scheduled.slot.label }}</td>
<td>{% for item in p.messages %}<a href="#{{ item.script_id }}">{{ item.title }}</a>
{%- if not loop.last %}; {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody>
</table>
</section>
</main>
<footer>Trang do phần mềm broadcast tạo từ kịch bản của trung tâm văn hóa - thông tin. Gặp lừa đảo, gọi ngay
Công an theo số 113.</footer>
</body>
</html>
"""

ARTICLE = """<article id="{{ m.script_id }}" class="{{ m.level }}" aria-labelledby="t-{{ m.script_id }}">
<h2 id="t-{{ m.script_id }}">{{ m.title }}</h2>
<p><span class="level">{{ levels[m.level] }}</span> · dài {{ clock(m.seconds) }}</p>
<audio controls preload="none" src="{{ m.file }}" aria-label="Nghe bản tin: {{ m.title }}"></audio>
<p><a href="{{ m.file }}" download>Tải tệp âm thanh ({{ megabytes(m.bytes) }})</a></p>
<dl>
<dt>Hiệu lực</dt><dd>từ {{ date(m.valid_from) }}{% if m.valid_until %} đến hết {{ date(m.valid_until) }}{% endif %}</dd>
<dt>Nguồn</dt><dd>{{ m.source }}</dd>
</dl>
<div class="text">{% for paragraph in paragraphs(m) %}<p>{% for line in paragraph %}{{ line }}{% if not loop.last %}<br>
{% endif %}{% endfor %}</p>{% endfor %}</div>
</article>"""

# The week's emergency bulletins stand first, between markers, so that `broadcast emergency` can add
# one to a published page without rebuilding the week (with_emergencies).
START, END = "<!--khan-cap-->", "<!--/khan-cap-->"

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_TEMPLATE = _ENV.from_string(TEMPLATE)
_ARTICLE = _ENV.from_string(ARTICLE)


def paragraphs(message: MessageInfo) -> list[list[str]]:
    """The text's paragraphs (blank-line separated), each a list of its lines."""
    blocks = [block.strip() for block in message.text.replace("\r\n", "\n").split("\n\n")]
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks if block]


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def article(message: MessageInfo) -> Markup:
    """One message's part of the page: title, level, player, facts and text, escaped."""
    return Markup(_ARTICLE.render(m=message, levels=LEVEL_LABELS, clock=_clock, megabytes=megabytes,
                                  date=_date, paragraphs=paragraphs))


def _date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def write(station: StationWeek) -> dict[str, bytes]:
    html = _TEMPLATE.render(s=station, style=STYLE, feed=FEED, article=article, at_once=at_once, weekday=_weekday,
                            date=_date,
                            days=[_date(d) for d in station.week.days])
    return {PAGE_NAME: html.encode("utf-8")}


def at_once(message: MessageInfo) -> Markup:
    """The schedule's row of a bulletin aired as soon as it arrives."""
    return Markup('<tr id="lich-{0}"><td colspan="3">Phát ngay khi nhận</td><td>{1} (khẩn cấp)</td></tr>\n').format(
        message.script_id, message.title)


def _between(text: str, start: str, end: str, change: Callable[[str], str]) -> str:
    """`text` with what is between the markers `start` and `end` changed (unchanged without them)."""
    a, b = text.find(start), text.find(end)
    if a < 0 or b < a:
        return text
    return text[:a + len(start)] + change(text[a + len(start):b]) + text[b:]


def with_emergencies(html: bytes, messages: tuple[MessageInfo, ...]) -> bytes | None:
    """A published page with these emergency bulletins first; one already there is replaced (a corrected
    bulletin kept its old text and length under the new audio). None if the page has no markers
    (published by an older version)."""
    text = html.decode("utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    region = text[start + len(START):end]
    for m in messages:  # articles do not nest: one runs to the first </article> after it
        at = region.find(f'<article id="{m.script_id}"')
        if at >= 0:
            close = region.find("</article>", at)
            region = region[:at] + region[close + len("</article>"):] if close >= 0 else region[:at]
    added = "".join(str(article(m)) for m in messages)
    text = text[:start + len(START)] + added + region + text[end:]
    # the page's count of bulletins and its schedule's 'at once' rows say it too (the header said 8 of 9)
    text = _between(text, "<!--so-tin-->", "<!--/so-tin-->", lambda _: str(text.count('<article id="')))

    def rows(old: str) -> str:  # the new bulletins' rows first, then the others already there
        kept = [row + "</tr>\n" for row in old.split("</tr>\n") if row.strip()
                and not any(f'id="lich-{m.script_id}"' in row for m in messages)]
        return "".join(str(at_once(m)) for m in messages) + "".join(kept)

    text = _between(text, "<!--khan-cap-lich-->", "<!--/khan-cap-lich-->", rows)
    return text.encode("utf-8")
