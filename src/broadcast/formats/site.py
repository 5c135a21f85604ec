"""The week's web pages above the communes: `index.html` (every province and commune of the week)
and, per province, `index.html` (its communes) and `podcast.xml` (its communes' feeds in one);
and `latest`: the addresses that do not change from week to week (output/moi-nhat/).

Written from what the commune formats already wrote (their podcast.xml, staged or carried over),
so a build of some communes still lists every commune of the week and never re-derives a commune
it did not build. Same style and rules as the commune page (web_page.py).
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from jinja2 import Environment, select_autoescape

from ..model import Week
from . import icalendar_schedule, podcast
from .web_page import PAGE_NAME, STYLE


@dataclass(frozen=True)
class CommuneLink:
    locale_id: str  # "<province folder>/<commune folder>"
    name: str
    province: str  # the province's name

    @property
    def province_folder(self) -> str:
        return self.locale_id.split("/", 1)[0]


INDEX = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ style }}</style>
</head>
<body>
<a class="skip" href="#ds">Bỏ qua, đến danh sách</a>
<header>
{% if up %}<nav aria-label="Đường dẫn"><a href="../{{ page }}">Tuần {{ week.id }}</a> ›
Tỉnh {{ heading }}</nav>{% endif %}
<h1>{{ title }}</h1>
<p class="sub">{{ project }}. Tuần {{ week.id }}: từ {{ days[0] }} đến {{ days[-1] }}.
{% if feed %}Nghe trên điện thoại: <a href="{{ feed }}">podcast của tỉnh (RSS)</a>.{% endif %}</p>
</header>
<main id="ds">
{% for province, communes in groups %}
<section aria-labelledby="p-{{ loop.index }}">
<h2 id="p-{{ loop.index }}">{% if up %}Các xã, phường{% else %}<a href="{{ province.folder }}/{{ page }}">
Tỉnh {{ province.name }}</a>{% endif %}
({{ communes | length }})</h2>
<ul>{% for c in communes %}<li><a href="{{ link(c) }}">{{ c.name }}</a></li>{% endfor %}</ul>
</section>
{% endfor %}
</main>
<footer>Trang do phần mềm broadcast tạo. Gặp lừa đảo, gọi ngay Công an theo số 113.</footer>
</body>
</html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_INDEX = _ENV.from_string(INDEX)


@dataclass(frozen=True)
class _Province:
    folder: str
    name: str


def write(week: Week, project: str, public_url: str, communes: list[CommuneLink],
          feeds: dict[str, bytes]) -> dict[str, bytes]:
    """The week-level files by path in the week's folder. `feeds`: each commune's podcast.xml."""
    days = [f"{d:%d/%m/%Y}" for d in week.days]
    provinces: dict[str, list[CommuneLink]] = {}
    for commune in sorted(communes, key=lambda c: (c.province_folder, c.name)):
        provinces.setdefault(commune.province_folder, []).append(commune)
    groups = [(_Province(folder, members[0].province), members) for folder, members in sorted(provinces.items())]
    files = {podcast.COVER: podcast.cover_png(),
             PAGE_NAME: _page(f"Bản tin cảnh giác lừa đảo — tuần {week.id}", project, week, days, groups,
                              up=False, feed="", link=lambda c: f"{c.locale_id}/{PAGE_NAME}")}
    for province, members in groups:
        feed = _province_feed(week, public_url, province, members, feeds)
        if feed is not None:
            files[f"{province.folder}/{podcast.FEED}"] = feed
        files[f"{province.folder}/{PAGE_NAME}"] = _page(
            f"Bản tin cảnh giác lừa đảo — tỉnh {province.name}, tuần {week.id}", project, week, days,
            [(province, members)], up=True, feed=podcast.FEED if feed is not None else "",
            link=lambda c: f"{c.locale_id.split('/', 1)[1]}/{PAGE_NAME}", heading=province.name)
    return files


def _page(title: str, project: str, week: Week, days: list[str], groups, up: bool, feed: str, link,
          heading: str = "") -> bytes:
    return _INDEX.render(title=title, project=project, week=week, days=days, groups=groups, up=up, feed=feed,
                         link=link, page=PAGE_NAME, style=STYLE, heading=heading).encode("utf-8")


def _province_feed(week: Week, public_url: str, province: _Province, members: list[CommuneLink],
                   feeds: dict[str, bytes]) -> bytes | None:
    """Every item of the province's commune feeds, each title led by its commune's name."""
    here = province.folder
    rss = podcast.channel(
        title=f"Cảnh giác lừa đảo — tỉnh {province.name}",
        link=podcast.url(public_url, week.id, f"{here}/{PAGE_NAME}", here),
        self_link=podcast.url(public_url, week.id, f"{here}/{podcast.FEED}", here),
        description=f"Các bản tin cảnh báo lừa đảo phát trên loa truyền thanh các xã, phường tỉnh {province.name}, "
                    f"tuần {week.id}.",
        author=f"Tỉnh {province.name}", built=week.monday, cover=podcast.url(public_url, week.id, podcast.COVER, here))
    count = 0
    for commune in members:
        data = feeds.get(commune.locale_id)
        if data is None:
            continue
        commune_folder = commune.locale_id.split("/", 1)[1]
        for item in ET.fromstring(data).iter("item"):  # our own commune feed, written this build or before
            item = podcast.for_province(item, commune.name, commune_folder, public_url)
            rss[0].append(item)
            count += 1
    return podcast.to_bytes(rss) if count else None


# The addresses a portal links to and a podcast app subscribes to, the same every week: a week's own
# are under its folder (output/2026-W49/...), which the next week does not have and `clean` deletes.
LATEST = "moi-nhat"

REDIRECT = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url={{ target }}">
<title>Bản tin cảnh giác lừa đảo — tuần {{ week }}</title>
<style>{{ style }}</style>
</head>
<body>
<main>
<p>Bản tin mới nhất là của tuần {{ week }}: <a href="{{ target }}">mở trang tuần {{ week }}</a>.</p>
</main>
</body>
</html>
"""
_REDIRECT = _ENV.from_string(REDIRECT)


def latest(week_id: str, files: dict[str, bytes], earlier: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The files of output/moi-nhat/ for the week `week_id`, the newest published: `files` are its web
    pages, feeds and calendars by path in its folder (`index.html`, `podcast.xml`,
    `lich-phat-song.ics`), `earlier` the calendars of the week before it. Each page becomes one that
    sends the browser on to the week's (a static server cannot redirect, and a copy's links would
    lead nowhere); each feed a copy whose links lead into the week's folder and whose own address
    (atom:link self) is the one here, which a podcast app keeps; each calendar both weeks' events."""
    out = {}
    for rel, data in sorted(files.items()):
        folder, name = posixpath.split(rel)
        # up out of moi-nhat/ and into the week folder
        week_folder = "../" * (rel.count("/") + 1) + f"{week_id}/" + (f"{folder}/" if folder else "")
        if name == PAGE_NAME:
            out[rel] = _REDIRECT.render(target=quote(week_folder + PAGE_NAME), week=week_id, style=STYLE).encode()
        elif name == podcast.FEED:
            out[rel] = _rebased_feed(data, week_id, rel, week_folder)
        elif name == icalendar_schedule.FILE:
            out[rel] = icalendar_schedule.joined(data, [c for c in [(earlier or {}).get(rel)] if c is not None])
    return out


def _rebased_feed(data: bytes, week_id: str, rel: str, week_folder: str) -> bytes:
    """A week's feed (ours) as output/moi-nhat/`rel`: relative links made to lead into the week's
    folder, and its own address this one (absolute if it was)."""
    rss = ET.fromstring(data)

    def rebased(url: str) -> str:
        return url if urlsplit(url).scheme or url.startswith("/") else week_folder + url

    for element in rss.iter():
        if element.tag == f"{{{podcast.ATOM}}}link" and element.get("rel") == "self":
            href = element.get("href", "")
            own = f"/{week_id}/{quote(rel)}"
            element.set("href", href[: -len(own)] + f"/{LATEST}/{quote(rel)}" if href.endswith(own)
                        else posixpath.basename(rel))
        elif element.tag == "enclosure" or element.tag == f"{{{podcast.ITUNES}}}image":
            attribute = "url" if element.tag == "enclosure" else "href"
            element.set(attribute, rebased(element.get(attribute, "")))
        elif element.tag in ("link", "url") and element.text:
            element.text = rebased(element.text)
    return podcast.to_bytes(rss)
