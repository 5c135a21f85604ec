"""podcast.xml: the commune's week as an RSS 2.0 podcast feed with the iTunes (Apple Podcasts)
tags, for people who listen on a phone; the province's feed (site.py) gathers its communes'.

One item per message: its text as written, an enclosure (URL, length in bytes, type), a guid
made of the commune, the script and the digest of the sound without its tags (the same audio
keeps its guid from week to week, so a podcast app does not offer it again), the day it became
valid as pubDate, and its duration. Links start
with `public_url` from broadcast.yaml (where output/ is served); without it they are relative
to the feed, which a browser or a plain web server follows but a podcast app may not.

Written with ElementTree from the standard library, which escapes every text and attribute: the
RSS and iTunes vocabulary is a dozen fixed elements, and a feed library (feedgen) would add lxml
for no element we lack.
"""

from __future__ import annotations

import copy
import posixpath
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, datetime, time
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np

from ..ffmpeg import ffmpeg_exe
from .model import MessageInfo, StationWeek
from .text import one_line, xml_text

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FEED = "podcast.xml"
TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
LEVELS = {"normal": "Tin thường", "priority": "Tin ưu tiên", "emergency": "TIN KHẨN CẤP"}

ET.register_namespace("itunes", ITUNES)
ET.register_namespace("atom", ATOM)


def url(public_url: str, week_id: str, path: str, here: str) -> str:
    """The address of `path` (relative to the week's folder) in a file in the week's folder `here`:
    absolute under the public address, else relative to `here`."""
    if public_url:
        return f"{public_url}/{week_id}/{quote(path)}"
    return quote(posixpath.relpath(path, here or "."))


def rfc822(day: date) -> str:
    return format_datetime(datetime.combine(day, time(0, 0), tzinfo=TZ))


def channel(title: str, link: str, self_link: str, description: str, author: str, built: date,
            cover: str) -> ET.Element:
    """The feed's <rss> with its <channel> and the channel's tags; items are appended to it.
    `cover`: the address of the cover art (COVER, in the week's folder)."""
    rss = ET.Element("rss", {"version": "2.0"})
    ch = ET.SubElement(rss, "channel")
    for tag, text in (("title", title), ("link", link), ("description", description), ("language", "vi"),
                      ("lastBuildDate", rfc822(built)), ("generator", "broadcast")):
        ET.SubElement(ch, tag).text = one_line(text)
    ET.SubElement(ch, f"{{{ATOM}}}link", {"href": self_link, "rel": "self", "type": "application/rss+xml"})
    image = ET.SubElement(ch, "image")
    for tag, text in (("url", cover), ("title", one_line(title)), ("link", link)):
        ET.SubElement(image, tag).text = text
    ET.SubElement(ch, f"{{{ITUNES}}}image", {"href": cover})
    ET.SubElement(ch, f"{{{ITUNES}}}author").text = one_line(author)
    ET.SubElement(ch, f"{{{ITUNES}}}summary").text = one_line(description)
    ET.SubElement(ch, f"{{{ITUNES}}}category", {"text": "Government"})
    ET.SubElement(ch, f"{{{ITUNES}}}explicit").text = "false"
    ET.SubElement(ch, f"{{{ITUNES}}}type").text = "episodic"
    return rss


def new_item(message: MessageInfo, title: str, enclosure: str, link: str) -> ET.Element:
    item = ET.Element("item")
    ET.SubElement(item, "title").text = one_line(title)
    ET.SubElement(item, "link").text = link
    until = f", đến hết {message.valid_until:%d/%m/%Y}" if message.valid_until else ""
    about = (f"{LEVELS.get(message.level, message.level)}. Hiệu lực từ {message.valid_from:%d/%m/%Y}{until}. "
             f"Nguồn: {one_line(message.source)}.")
    ET.SubElement(item, "description").text = xml_text(f"{message.text}\n\n{about}")
    suffix = message.file[message.file.rfind("."):]
    ET.SubElement(item, "enclosure", {"url": enclosure, "length": str(message.bytes),
                                      "type": TYPES.get(suffix, "application/octet-stream")})
    ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = message.guid
    ET.SubElement(item, "pubDate").text = rfc822(message.valid_from)
    ET.SubElement(item, f"{{{ITUNES}}}duration").text = str(max(1, round(message.seconds)))
    ET.SubElement(item, f"{{{ITUNES}}}summary").text = one_line(about)
    ET.SubElement(item, f"{{{ITUNES}}}episodeType").text = "full"
    ET.SubElement(item, f"{{{ITUNES}}}explicit").text = "false"
    return item


def commune_items(station: StationWeek) -> list[ET.Element]:
    """The feed items of the commune's messages, as its feed has them."""
    week, base, folder = station.week.id, station.public_url, station.locale_id
    return [new_item(message, message.title, url(base, week, f"{folder}/{message.file}", folder),
                     url(base, week, f"{folder}/index.html", folder) + f"#{message.script_id}")
            for message in station.messages]


def for_province(item: ET.Element, commune: str, commune_folder: str, public_url: str) -> ET.Element:
    """A commune feed's item as the province's feed has it: its title led by the commune's name,
    and relative links (no public address) made relative to the province's folder."""
    item = copy.deepcopy(item)
    title = item.find("title")
    if title is not None:
        title.text = one_line(f"{commune}: {title.text or ''}")
    if not public_url:
        enclosure, link = item.find("enclosure"), item.find("link")
        if enclosure is not None:
            enclosure.set("url", f"{commune_folder}/{enclosure.get('url', '')}")
        if link is not None:
            link.text = f"{commune_folder}/{link.text or ''}"
    return item


def with_items(feed: bytes, items: list[ET.Element]) -> bytes:
    """A published feed (ours) with these items first; an item whose guid it has is left out, and an
    item of the same commune's same message with other audio (`commune/script/sound`: a corrected
    bulletin) is taken out, or the feed listed both under one enclosure."""
    rss = ET.fromstring(feed)
    channel = rss[0]
    guids = {i.findtext("guid") or "" for i in items}
    replaced = {g.rsplit("/", 1)[0] + "/" for g in guids if g.count("/") >= 2}
    for old in channel.findall("item"):
        guid = old.findtext("guid") or ""
        if guid not in guids and any(guid.startswith(prefix) for prefix in replaced):
            channel.remove(old)
    known = {guid.text for guid in channel.iter("guid")}
    first = next((i for i, child in enumerate(channel) if child.tag == "item"), len(channel))
    for item in reversed([i for i in items if i.findtext("guid") not in known]):
        channel.insert(first, item)
    return to_bytes(rss)


def to_bytes(rss: ET.Element) -> bytes:
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def write(station: StationWeek) -> dict[str, bytes]:
    week, base = station.week.id, station.public_url
    folder = station.locale_id
    rss = channel(title=f"Cảnh giác lừa đảo — {station.station}",
                  link=url(base, week, f"{folder}/index.html", folder),
                  self_link=url(base, week, f"{folder}/{FEED}", folder),
                  description=f"Các bản tin cảnh báo lừa đảo phát trên loa truyền thanh {station.name}, tỉnh "
                              f"{station.province}, tuần {week} (từ {station.week.days[0]:%d/%m/%Y} đến "
                              f"{station.week.days[-1]:%d/%m/%Y}).",
                  author=station.station, built=station.week.monday, cover=url(base, week, COVER, folder))
    rss[0].extend(commune_items(station))
    return {FEED: to_bytes(rss)}


COVER = "podcast.png"


@lru_cache(maxsize=1)
def cover_png() -> bytes:
    """The feeds' cover art (Apple asks for a square of 1400 to 3000 pixels): a white loudspeaker
    sending waves on the pages' blue, drawn here with numpy and encoded to PNG by FFmpeg."""
    size, (cx, cy) = 1400, (600, 700)
    y, x = np.mgrid[0:size, 0:size]
    body = (np.abs(x - 430) < 130) & (np.abs(y - cy) < 170)
    horn = (x > 430) & (x < 700) & (np.abs(y - cy) < x - 430 + 170)
    radius = np.hypot(x - cx, y - cy)
    waves = (x > 760) & (np.mod(radius, 170) < 50) & (np.abs(y - cy) < (x - cx) * 1.1) & (radius < 640)
    white = body | horn | waves
    image = np.empty((size, size, 3), np.uint8)
    image[...] = (11, 78, 162)
    image[white] = 255
    done = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size}x{size}",
                           "-i", "-", "-frames:v", "1", "-c:v", "png", "-f", "image2pipe", "-"],
                          input=image.tobytes(), capture_output=True, check=True)
    return done.stdout
