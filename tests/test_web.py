"""Beyond the loudspeaker (issue 18): the week's web pages, podcast feeds and station bundles, read
back with real parsers (html5lib in strict mode, feedparser, zipfile, sha256sum)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import feedparser
import html5lib
import icalendar
import pytest

from broadcast.ffmpeg import decode
from conftest import MINIMAL, make_project, run

WEEK, NEXT = "2026-W49", "2026-W50"
URL = "https://loa.example.vn/ban-tin"
HOSTILE = """\
id: gia-danh
title: "Giả danh <script>alert(1)</script> & \\"công an\\""
source: "Công an tỉnh Lạng Sơn <b>04/12/2024</b>"
level: priority
valid: {from: 2024-12-04, until: 2027-12-31}
repeat: 1
body: |
  Kẻ gian gọi cho bà con {{ locale.name }} <img src=x onerror=alert(1)>, đòi chuyển tiền.

  Bà con gọi [đọc: CA | công an] xã theo số [từng số: 113].
"""


def _project(tmp_path: Path, public_url: str = URL) -> Path:
    settings = textwrap.dedent(MINIMAL["broadcast.yaml"]) + (f"public_url: {public_url}/\n" if public_url else "")
    return make_project(tmp_path / "p", {
        "broadcast.yaml": settings,
        "scripts/gia-danh.yaml": HOSTILE,
        "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n",
    })


def _bulletin_on_air(root: Path, monkeypatch) -> None:
    """An emergency script, and WEEK on air: ready for `broadcast emergency bao-dong`."""
    from datetime import date

    from broadcast import app

    (root / "scripts/bao-dong.yaml").write_text(textwrap.dedent("""\
        id: bao-dong
        title: "Khẩn cấp: giả danh công an"
        source: Công an tỉnh Lạng Sơn, 04/12/2024
        level: emergency
        valid: {from: 2024-12-04}
        body: Bà con {{ locale.name }} tuyệt đối không chuyển tiền cho người lạ. Gọi ngay 113.
        """), encoding="utf-8")
    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    root = _project(tmp_path_factory.mktemp("web"))
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    return root / "output" / WEEK


def _strict_html(path: Path):
    """Parsed by html5lib in strict mode: any parse error (what an HTML validator reports) fails."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(path.read_bytes())


ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
CHANNEL_TAGS = ("title", "link", "description", "language", f"{ITUNES}image", f"{ITUNES}category",
                f"{ITUNES}explicit", f"{ITUNES}author", "image/url")
ITEM_TAGS = ("title", "description", "enclosure", "guid", "pubDate", f"{ITUNES}duration", f"{ITUNES}explicit")


def _every_required_tag(path: Path) -> None:
    """Every tag RSS 2.0 and Apple Podcasts require (and the ones they recommend that we can fill)."""
    import xml.etree.ElementTree as ET

    rss = ET.parse(path).getroot()
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    for tag in CHANNEL_TAGS:
        assert channel.find(tag) is not None, tag
    assert channel.find(f"{ITUNES}explicit").text == "false"
    assert channel.find(f"{ITUNES}image").get("href").endswith("podcast.png")
    items = channel.findall("item")
    assert items
    for item in items:
        for tag in ITEM_TAGS:
            assert item.find(tag) is not None, tag
        enclosure = item.find("enclosure")
        assert {"url", "length", "type"} <= set(enclosure.attrib)
        assert item.find("guid").get("isPermaLink") == "false"


def test_the_commune_page_has_every_message_with_player_text_and_facts(week):
    commune = week / "lang-son" / "xa-chi-lang"
    doc = _strict_html(commune / "index.html")
    assert doc.get("lang") == "vi"
    assert [h.text for h in doc.iter("h1")] == ["Cảnh giác lừa đảo: bản tin của Xã Chi Lăng"]
    articles = {a.get("id"): a for a in doc.iter("article")}
    assert set(articles) == {"canh-bao", "gia-danh"}
    hostile = articles["gia-danh"]
    text = " ".join("".join(hostile.itertext()).split())
    assert 'Giả danh <script>alert(1)</script> & "công an"' in text  # shown as text, never as markup
    assert "Kẻ gian gọi cho bà con Xã Chi Lăng <img src=x onerror=alert(1)>" in text
    assert "gọi CA xã theo số 113" in text  # as written: the markup's written side, not the spoken form
    assert "Ưu tiên" in text and "từ 04/12/2024 đến hết 31/12/2027" in text
    assert "Công an tỉnh Lạng Sơn <b>04/12/2024</b>" in text
    assert not list(doc.iter("script")) and not list(doc.iter("img"))
    audio = next(hostile.iter("audio"))
    assert audio.get("preload") == "none" and audio.get("aria-label") == (
        'Nghe bản tin: Giả danh <script>alert(1)</script> & "công an"')
    samples, rate = decode(commune / audio.get("src"))
    assert len(samples) / rate > 3.0
    rows = [r for r in doc.iter("tr") if r.find("td") is not None]
    assert len(rows) == 10  # 7 mornings, 3 afternoons
    for element in doc.iter():  # nothing from elsewhere: works from a folder or a USB stick
        for attribute in ("src", "href"):
            value = element.get(attribute) or ""
            assert not value.startswith(("http:", "https:", "//")) or value.startswith(URL), value
    assert (commune / "index.html").stat().st_size < 20_000  # small for a phone on a weak connection


def test_the_commune_feed_is_a_podcast_feedparser_reads_without_complaint(week):
    commune = week / "lang-son" / "xa-chi-lang"
    feed = feedparser.parse((commune / "podcast.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    channel = feed.feed
    assert channel.language == "vi" and channel.title == "Cảnh giác lừa đảo — Xã Chi Lăng"
    assert channel.link == f"{URL}/{WEEK}/lang-son/xa-chi-lang/index.html"
    assert channel.author == "Xã Chi Lăng"
    assert channel.tags[0].term == "Government"
    _every_required_tag(commune / "podcast.xml")
    assert channel.image.href == f"{URL}/{WEEK}/podcast.png"  # Apple's cover art: a square PNG of 1400 px
    png = (week / "podcast.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1400, 1400)
    assert len(feed.entries) == 2
    for entry in feed.entries:
        enclosure = entry.enclosures[0]
        assert enclosure.href.startswith(f"{URL}/{WEEK}/lang-son/xa-chi-lang/messages/")
        local = commune / enclosure.href.removeprefix(f"{URL}/{WEEK}/lang-son/xa-chi-lang/")
        assert int(enclosure.length) == local.stat().st_size and enclosure.type == "audio/mpeg"
        samples, rate = decode(local)
        assert abs(int(entry.itunes_duration) - len(samples) / rate) <= 1
        assert entry.published == "Wed, 04 Dec 2024 00:00:00 +0700"  # valid from, Vietnam time
        assert entry.id.startswith("lang-son/xa-chi-lang/")
        assert entry.title and entry.summary
    hostile = next(e for e in feed.entries if e.id.startswith("lang-son/xa-chi-lang/gia-danh/"))
    assert hostile.title == 'Giả danh <script>alert(1)</script> & "công an"'


def test_guids_stay_the_same_from_week_to_week_for_the_same_audio(tmp_path):
    root = _project(tmp_path)
    for week_id in (WEEK, NEXT):
        assert run("build", "--week", week_id, "--jobs", "1", "--project", str(root)).exit_code == 0
    feeds = [feedparser.parse((root / "output" / w / "lang-son/xa-chi-lang/podcast.xml").read_bytes())
             for w in (WEEK, NEXT)]
    assert [e.id for e in feeds[0].entries] == [e.id for e in feeds[1].entries]
    files = [root / "output" / w / "lang-son/xa-chi-lang/messages/canh-bao.mp3" for w in (WEEK, NEXT)]
    assert files[0].read_bytes() != files[1].read_bytes()  # the tags name the week; the sound is the same
    script = root / "scripts" / "canh-bao.yaml"
    script.write_text(script.read_text(encoding="utf-8").replace("Hãy gọi", "Hãy gọi ngay"), encoding="utf-8")
    assert run("build", "--week", NEXT, "--jobs", "1", "--project", str(root)).exit_code == 0
    changed = feedparser.parse((root / "output" / NEXT / "lang-son/xa-chi-lang/podcast.xml").read_bytes())
    ids = {e.id.rsplit("/", 2)[1]: e.id for e in changed.entries}
    before = {e.id.rsplit("/", 2)[1]: e.id for e in feeds[1].entries}
    assert ids["canh-bao"] != before["canh-bao"] and ids["gia-danh"] == before["gia-danh"]


def test_the_week_and_province_pages_and_the_province_feed(week):
    index = _strict_html(week / "index.html")
    links = {a.get("href") for a in index.iter("a")}
    assert {"lang-son/index.html", "lang-son/xa-chi-lang/index.html", "lang-son/xa-huu-lung/index.html"} <= links
    province = _strict_html(week / "lang-son" / "index.html")
    assert {"xa-chi-lang/index.html", "xa-huu-lung/index.html", "podcast.xml"} <= {a.get("href")
                                                                                  for a in province.iter("a")}
    for href in links - {"#ds"}:
        assert (week / href).is_file(), href
    feed = feedparser.parse((week / "lang-son" / "podcast.xml").read_bytes())
    assert feed.bozo == 0 and len(feed.entries) == 4
    _every_required_tag(week / "lang-son" / "podcast.xml")
    assert {e.title.split(":", 1)[0] for e in feed.entries} == {"Xã Chi Lăng", "Xã Hữu Lũng"}
    assert len({e.id for e in feed.entries}) == 4


def test_without_a_public_address_links_are_relative_and_resolve(tmp_path):
    root = _project(tmp_path, public_url="")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    week = root / "output" / WEEK
    for feed_path in (week / "lang-son/xa-chi-lang/podcast.xml", week / "lang-son/podcast.xml"):
        feed = feedparser.parse(feed_path.read_bytes())
        assert feed.bozo == 0
        for entry in feed.entries:
            assert (feed_path.parent / entry.enclosures[0].href).is_file(), entry.enclosures[0].href


def test_a_public_address_that_is_not_one_is_a_clear_error(tmp_path):
    root = _project(tmp_path, public_url="javascript:alert(1)")
    result = run("lint", "--project", str(root))
    assert result.exit_code != 0
    assert "broadcast.yaml" in result.output and "public_url" in result.output
    assert "Traceback" not in result.output


def test_a_bundle_copied_to_the_station_verifies_and_a_damaged_copy_does_not(week, tmp_path):
    root = week.parent.parent
    result = run("bundle", "--week", WEEK, "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 0, result.output
    made = root / "output" / "bundles" / WEEK / "lang-son_xa-chi-lang.zip"
    with zipfile.ZipFile(made) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "usb")
    folder = tmp_path / "usb" / "xa-chi-lang"
    published = sorted(p.relative_to(week / "lang-son/xa-chi-lang").as_posix()
                       for p in (week / "lang-son/xa-chi-lang").rglob("*") if p.is_file())
    assert sorted(n.removeprefix("xa-chi-lang/") for n in names) == sorted(published + ["HUONG-DAN.txt",
                                                                                       "SHA256SUMS"])
    for rel in published:  # hard links resolved: every name holds the bytes
        assert (folder / rel).read_bytes() == (week / "lang-son/xa-chi-lang" / rel).read_bytes()
    guide = (folder / "HUONG-DAN.txt").read_bytes()  # as old Notepad reads it: a BOM, CRLF lines
    assert guide.startswith(b"\xef\xbb\xbf") and b"\r\n" in guide and b"\n" not in guide.replace(b"\r\n", b"")
    assert "broadcast verify" in guide.decode("utf-8-sig")
    first = min(p.name for p in folder.glob("*.mp3") if not p.name.startswith("KHAN-CAP"))
    assert f"(ví dụ {first})" in guide.decode("utf-8-sig")  # a file this folder has, not a fixed date
    if shutil.which("sha256sum"):  # the list is what coreutils checks
        assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder).returncode == 0
    ok = run("verify", str(folder))
    assert ok.exit_code == 0 and f"{len(published) + 1} tệp khớp" in ok.output

    program = next(folder.glob("2026-*_sang.mp3"))
    data = bytearray(program.read_bytes())
    data[len(data) // 2] ^= 0xFF
    program.write_bytes(bytes(data))
    (folder / "lich-phat-song.csv").unlink()
    (folder / "ghi-chu.txt").write_text("thêm", encoding="utf-8")
    bad = run("verify", str(folder))
    assert bad.exit_code == 1
    assert f"KHÁC (changed): {program.name}" in bad.output
    assert "THIẾU (missing): lich-phat-song.csv" in bad.output
    assert "ghi-chu.txt" in bad.output


def test_a_station_folder_unzipped_over_week_after_week_verifies_and_prunes_what_aired(tmp_path, monkeypatch):
    """Each week's bundle is unzipped over the station's folder (the Liquidsoap script runs in it): last
    week's programs stayed beside this week's, so `verify` failed every week from the second on ('not
    listed'), and the folder grew by a week of programs every week. They are counted apart, and `--prune`
    deletes those whose day is over, never one still to air (next week's bundle unzipped on a Friday)."""
    from datetime import date

    from broadcast import app

    root = _project(tmp_path)
    for week_id in (WEEK, NEXT):
        assert run("build", "--week", week_id, "--jobs", "1", "--project", str(root)).exit_code == 0
        assert run("bundle", "--week", week_id, "--locale", "xa-chi-lang", "--project", str(root)).exit_code == 0
    station = tmp_path / "tram"
    for week_id in (WEEK, NEXT):
        with zipfile.ZipFile(root / "output" / "bundles" / week_id / "lang-son_xa-chi-lang.zip") as archive:
            archive.extractall(station)
    folder = station / "xa-chi-lang"
    last_week = sorted(p.name for p in folder.iterdir() if p.name[:4] == "2026" and p.name < "2026-12-07")
    assert len(last_week) > 10 and "2026-11-30_0600_sang.mp3" in last_week
    # a script removed, a bulletin of last week: what earlier bundles left that this one no longer has
    left = [folder / "messages" / "thu-cu.mp3", folder / "KHAN-CAP_bao-dong.mp3", folder / "KHAN-CAP_bao-dong.m3u8"]
    for path in left:
        path.write_bytes(b"ID3")
    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 4))  # unzipped on Friday
    checked = run("verify", str(folder))
    assert checked.exit_code == 0, checked.output
    assert f"{len(last_week) + 3} tệp do các gói trước để lại" in checked.output and "THỪA" not in checked.output
    friday = run("verify", "--prune", str(folder))
    assert friday.exit_code == 0, friday.output
    kept = sorted(p.name for p in folder.iterdir() if p.name < "2026-12-07" and p.name[:4] == "2026")
    assert kept and all(name >= "2026-12-04" for name in kept)  # this weekend's still air
    assert sorted(set(last_week) - set(kept)) == [name for name in last_week if name < "2026-12-04"]
    assert all(path.exists() for path in left)  # this weekend's playlists may still name a message
    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 7))
    monday = run("verify", "--prune", str(folder))
    assert monday.exit_code == 0 and "Đã xoá" in monday.output, monday.output
    assert not [p for p in folder.iterdir() if p.name < "2026-12-07" and p.name[:4] == "2026"]
    assert not any(path.exists() for path in left)
    assert run("verify", str(folder)).output.startswith("Bản chép đúng")
    guide = (folder / "HUONG-DAN.txt").read_text(encoding="utf-8-sig")
    assert "broadcast verify --prune" in guide and "trước 07/12/2026" in guide
    (folder / "ghi-chu.txt").write_text("không phải của gói nào", encoding="utf-8")  # not a name a build makes
    assert run("verify", "--prune", str(folder)).exit_code == 1 and (folder / "ghi-chu.txt").exists()
    (folder / "ghi-chu.txt").unlink()
    # a program of the bundle's own week that it does not list (an earlier bundle of the week, before a
    # rebuild moved its slot) is no leftover of another week: still named, and the copy is not exact
    (folder / "2026-12-08_1100_trua.mp3").write_bytes(b"old")
    stale = run("verify", "--prune", str(folder))
    assert stale.exit_code == 1 and "THỪA, không có trong danh sách (not listed): 2026-12-08_1100_trua.mp3" \
        in stale.output and (folder / "2026-12-08_1100_trua.mp3").exists()


def test_verify_refuses_a_list_that_points_outside_the_folder(tmp_path):
    folder = tmp_path / "xa"
    folder.mkdir()
    for outside in ("../../etc/passwd", "C:/Windows/win.ini", "C:x", "canh-bao.mp3:luong-an"):  # Windows: a drive
        (folder / "SHA256SUMS").write_text(f"{hashlib.sha256(b'').hexdigest()}  {outside}\n", encoding="utf-8")
        result = run("verify", str(folder))
        assert result.exit_code == 2 and "SHA256SUMS dòng 1" in result.output and "Traceback" not in result.output
    assert run("verify", str(tmp_path)).exit_code == 2  # no list at all


def test_a_bundle_of_a_week_not_published_is_a_clear_error(tmp_path):
    root = _project(tmp_path)
    result = run("bundle", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 2 and "chưa được phát hành" in result.output
    # 'dựng tuần trước' read as 'build last week': the fix names that week
    assert f"dựng tuần đó trước: broadcast build --week {WEEK}" in result.output, result.output


def test_a_published_file_damaged_since_is_never_bundled(tmp_path):
    root = _project(tmp_path)
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    damaged = root / "output" / WEEK / "lang-son/xa-chi-lang/messages/canh-bao.mp3"
    data = bytearray(damaged.read_bytes())
    data[5000] ^= 0x01
    damaged.write_bytes(bytes(data))
    result = run("bundle", "--week", WEEK, "--locale", "xa-chi-lang", "--project", str(root))
    assert result.exit_code == 2 and "messages/canh-bao.mp3" in result.output and "--locale" in result.output
    assert not list((root / "output" / "bundles" / WEEK).glob("*.zip*"))  # nothing half-written left


def test_a_file_where_the_bundles_folder_must_be_is_a_machine_error_naming_it(tmp_path):
    root = _project(tmp_path)
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "output" / "bundles").write_text("không phải thư mục\n", encoding="utf-8")
    result = run("bundle", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 3, result.output
    assert "output/bundles" in result.output and "xóa hoặc đổi tên" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)



def test_a_bundle_whose_liquidsoap_script_is_new_code_says_to_restart_it(tmp_path):
    """A station runs one Liquidsoap script week after week (it finds each new week by itself), so after a
    broadcast update it kept the old code, and the mistakes the update fixed, for ever: nothing told the
    operator to restart it. The week whose script is other code than the week before's says so, first."""
    root = _project(tmp_path)
    for week in (WEEK, NEXT):
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0

    def guide() -> str:
        assert run("bundle", "--week", NEXT, "--locale", "xa-chi-lang", "--project", str(root)).exit_code == 0
        with zipfile.ZipFile(root / "output" / "bundles" / NEXT / "lang-son_xa-chi-lang.zip") as archive:
            return archive.read("xa-chi-lang/HUONG-DAN.txt").decode("utf-8-sig")

    assert "LƯU Ý TUẦN NÀY" not in guide()  # the same code as last week: nothing to do
    before = root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "lich-phat-song.liq"
    code = re.search(r"^# mã kịch bản: ([0-9a-f]+)", before.read_text(encoding="utf-8"), re.M)
    assert code, "the script names its code"
    before.write_text(before.read_text(encoding="utf-8").replace(code.group(1), "0123456789ab"), encoding="utf-8")
    said = guide()
    assert "LƯU Ý TUẦN NÀY" in said and "tắt rồi chạy lại Liquidsoap" in said
    assert said.index("LƯU Ý TUẦN NÀY") < said.index("Thư mục này có")  # before anything else
    # a script of a version that did not name its code: an update since, the same advice
    before.write_text(re.sub(r"^# mã kịch bản: .*\n", "", before.read_text(encoding="utf-8"), flags=re.M),
                      encoding="utf-8")
    assert "LƯU Ý TUẦN NÀY" in guide()

def test_a_bundle_older_than_its_week_is_removed_when_the_week_changes(tmp_path, monkeypatch):
    """A zip made before its week was rebuilt verifies against its own SHA256SUMS and would air the old
    audio: a build that changes a commune's files removes that commune's zip (and says so), and leaves
    a zip that still holds what is published; an emergency added to the week does the same."""
    root = _project(tmp_path)
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    assert run("bundle", "--week", WEEK, "--project", str(root)).exit_code == 0
    bundles = root / "output" / "bundles" / WEEK
    chi_lang, huu_lung = bundles / "lang-son_xa-chi-lang.zip", bundles / "lang-son_xa-huu-lung.zip"
    kept = huu_lung.read_bytes()
    commune = root / "locales/lang-son/xa-chi-lang.yaml"
    commune.write_text(commune.read_text(encoding="utf-8").replace("Xã Chi Lăng", "Xã Chi Lăng Mới"), encoding="utf-8")
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert not chi_lang.exists() and huu_lung.read_bytes() == kept
    assert "lang-son/xa-chi-lang" in result.output and f"broadcast bundle --week {WEEK}" in result.output
    assert "xa-huu-lung" not in result.output.split("Gói mang tới đài")[1]

    assert run("bundle", "--week", WEEK, "--project", str(root)).exit_code == 0
    unchanged = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root), "--json")
    assert unchanged.exit_code == 0 and '"bundles_dropped": []' in unchanged.output and chi_lang.is_file()
    _bulletin_on_air(root, monkeypatch)
    emergency = run("emergency", "bao-dong", "--week", WEEK, "--locale", "xa-huu-lung", "--project", str(root))
    assert emergency.exit_code == 0, emergency.output
    assert not huu_lung.exists() and chi_lang.is_file() and "lang-son/xa-huu-lung" in emergency.output


def test_a_stale_zip_that_cannot_be_removed_is_named_and_the_build_succeeds(tmp_path, monkeypatch):
    """Windows refuses to delete a zip someone has open: the build, its week already published, failed."""
    import errno

    from broadcast import bundle

    root = _project(tmp_path)
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    assert run("bundle", "--week", WEEK, "--locale", "xa-chi-lang", "--project", str(root)).exit_code == 0
    commune = root / "locales/lang-son/xa-chi-lang.yaml"
    commune.write_text(commune.read_text(encoding="utf-8").replace("Xã Chi Lăng", "Xã Chi Lăng Mới"), encoding="utf-8")
    real = Path.unlink

    def held_open(self, missing_ok=False):
        if self.suffix == ".zip":
            raise PermissionError(errno.EACCES, "The process cannot access the file")
        return real(self, missing_ok=missing_ok)

    monkeypatch.setattr(bundle.Path, "unlink", held_open)
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "chưa xoá được lang-son_xa-chi-lang.zip" in result.output and "đừng gửi" in result.output


def _refresh_target(page: Path) -> Path:
    """Where a page of output/moi-nhat/ sends the browser (its meta refresh), as a file."""
    tree = _strict_html(page)
    meta = [m for m in tree.iter("meta") if (m.get("http-equiv") or "").lower() == "refresh"]
    assert len(meta) == 1
    delay, url = meta[0].get("content").split(";", 1)
    assert delay.strip() == "0" and url.strip().startswith("url=")
    target = url.strip()[4:]
    assert target in {a.get("href") for a in tree.iter("a")}  # a link too, for a browser that does not refresh
    return (page.parent / target).resolve()


@pytest.mark.parametrize("public_url", [URL, ""])
def test_the_newest_week_s_pages_and_feeds_keep_one_address_from_week_to_week(tmp_path, monkeypatch, public_url):
    """A portal links to a commune's page, a phone subscribes to its feed: each week's are under the week's
    folder, which the next week does not have and `clean` deletes. output/moi-nhat/ holds the newest
    week's, the feeds' links leading into that week, their own address the one that stays."""
    root = _project(tmp_path, public_url=public_url)
    latest = root / "output" / "moi-nhat"
    for week_id in (WEEK, NEXT):
        assert run("build", "--week", week_id, "--jobs", "1", "--project", str(root)).exit_code == 0
        week = root / "output" / week_id
        for rel in ("index.html", "lang-son/index.html", "lang-son/xa-chi-lang/index.html",
                    "lang-son/xa-huu-lung/index.html"):
            assert _refresh_target(latest / rel) == (week / rel).resolve(), rel
        for rel in ("lang-son/xa-chi-lang/podcast.xml", "lang-son/podcast.xml"):
            feed = feedparser.parse((latest / rel).read_bytes())
            assert feed.bozo == 0 and len(feed.entries) == len(feedparser.parse((week / rel).read_bytes()).entries)
            _every_required_tag(latest / rel)
            own = next(link.href for link in feed.feed.links if link.rel == "self")
            assert own == (f"{URL}/moi-nhat/{rel}" if public_url else "podcast.xml"), own
            for entry in feed.entries:
                href = entry.enclosures[0].href
                file = (latest / rel).parent / href if not public_url else root / "output" / href[len(URL) + 1:]
                assert file.resolve().is_file() and file.resolve().is_relative_to(week.resolve()), href
        # the calendar: this week's events and the week before's, so a subscribed calendar keeps the week on air
        built = [w for w in (WEEK, NEXT) if w <= week_id]
        calendar = icalendar.Calendar.from_ical((latest / "lang-son/xa-chi-lang/lich-phat-song.ics").read_bytes())
        events = {(str(e["uid"]), e.decoded("dtstart")) for e in calendar.walk("VEVENT")}
        assert events == {(str(e["uid"]), e.decoded("dtstart")) for w in built for e in icalendar.Calendar.from_ical(
            (root / "output" / w / "lang-son/xa-chi-lang/lich-phat-song.ics").read_bytes()).walk("VEVENT")}
        assert len(events) > 7 * len(built) and "tuần" not in str(calendar["x-wr-calname"])
        assert sorted(p.relative_to(latest).as_posix() for p in latest.rglob("*") if p.is_file()) == [
            "index.html", "lang-son/index.html", "lang-son/podcast.xml", "lang-son/xa-chi-lang/index.html",
            "lang-son/xa-chi-lang/lich-phat-song.ics", "lang-son/xa-chi-lang/podcast.xml",
            "lang-son/xa-huu-lung/index.html", "lang-son/xa-huu-lung/lich-phat-song.ics",
            "lang-son/xa-huu-lung/podcast.xml"]

    # an older week rebuilt changes nothing here; a commune the newest week lacks is gone from here
    (root / "locales/lang-son/xa-huu-lung.yaml").unlink()
    before = {p: p.read_bytes() for p in latest.rglob("*") if p.is_file()}
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    assert {p: p.read_bytes() for p in latest.rglob("*") if p.is_file()} == before
    assert run("build", "--week", "2026-W51", "--jobs", "1", "--project", str(root)).exit_code == 0
    assert not (latest / "lang-son/xa-huu-lung").exists() and (latest / "lang-son/xa-chi-lang/podcast.xml").is_file()
    assert _refresh_target(latest / "index.html") == (root / "output" / "2026-W51" / "index.html").resolve()

    # a bulletin in the week on air, when it is the newest, is in the feed that stays
    shutil.rmtree(root / "output" / NEXT)
    shutil.rmtree(root / "output" / "2026-W51")
    _bulletin_on_air(root, monkeypatch)
    assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
    feed = feedparser.parse((latest / "lang-son/xa-chi-lang/podcast.xml").read_bytes())
    assert feed.entries[0].title.startswith("Khẩn cấp") and _refresh_target(latest / "index.html") == (
        root / "output" / WEEK / "index.html").resolve()


def test_the_stable_addresses_never_write_through_a_planted_link(tmp_path):
    root = _project(tmp_path, public_url="")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "lang-son").mkdir(parents=True)
    (elsewhere / "lang-son" / "index.html").write_text("not ours", encoding="utf-8")
    (root / "output" / "moi-nhat").mkdir(parents=True)
    (root / "output" / "moi-nhat" / "lang-son").symlink_to(elsewhere / "lang-son", target_is_directory=True)
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    assert (elsewhere / "lang-son" / "index.html").read_text(encoding="utf-8") == "not ours"
    assert sorted(p.name for p in (elsewhere / "lang-son").iterdir()) == ["index.html"]
    assert not (root / "output" / "moi-nhat" / "lang-son").is_symlink()
    assert _refresh_target(root / "output" / "moi-nhat" / "lang-son" / "index.html").is_file()


def test_a_bundle_without_a_week_is_of_next_week_once_built_else_of_the_week_on_air(tmp_path, monkeypatch):
    """On a Monday, before Friday's build of next week, 'broadcast bundle' asked to build next week: the
    station still needs the week on air."""
    from datetime import date

    from broadcast import app

    root = _project(tmp_path)
    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 11, 30))  # Monday of WEEK
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    made = run("bundle", "--project", str(root))
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in (root / "output" / "bundles").iterdir()) == [WEEK]
    assert run("build", "--week", NEXT, "--jobs", "1", "--project", str(root)).exit_code == 0
    assert run("bundle", "--project", str(root)).exit_code == 0
    assert sorted(p.name for p in (root / "output" / "bundles").iterdir()) == [WEEK, NEXT]
