"""`broadcast emergency`: one bulletin added to the week on air, and nothing else published touched."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import m3u8
import pytest

from broadcast.ffmpeg import decode
from broadcast.publish import sha256_file
from conftest import MINIMAL, make_project, run

WEEK = "2026-W49"
EMERGENCY = """\
id: bao-dong
title: "Khẩn cấp: kẻ gian giả danh công an gọi điện đòi tiền"
source: Công an tỉnh Lạng Sơn, 04/12/2024
level: emergency
valid: {from: 2024-12-04}
repeat: 2
body: |
  Thông báo khẩn tới bà con {{ locale.name }}.
  Bà con tuyệt đối không chuyển tiền cho người gọi điện tự xưng là công an. Gọi ngay 113.
"""


@pytest.fixture(autouse=True)
def on_air(monkeypatch):
    """Today is Wednesday of WEEK, where the stations are: an emergency goes only into the week on air."""
    from broadcast import app

    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 2))


def _published(week: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(week).as_posix(): (sha256_file(p), p.stat().st_ino)
            for p in sorted(week.rglob("*")) if p.is_file()}


def test_an_emergency_is_added_to_the_week_on_air_and_nothing_else_changes(tmp_path):
    root = make_project(tmp_path / "p", {
        "broadcast.yaml": textwrap.dedent(MINIMAL["broadcast.yaml"]) + "opening: Đài truyền thanh xin thông báo.\n",
        "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n",
    })
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    week = root / "output" / WEEK
    before = _published(week)
    before_pages = {str(p.relative_to(week)): p.read_text(encoding="utf-8") for p in week.rglob("lich-phat-song.html")}
    (root / "scripts" / "bao-dong.yaml").write_text(EMERGENCY, encoding="utf-8")
    result = run("emergency", "bao-dong", "--week", WEEK, "--province", "lang-son", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "cho 2 xã" in result.output
    after = _published(week)
    schedules = {f"lang-son/{c}/lich-phat-song.html" for c in ("xa-chi-lang", "xa-huu-lung")}
    web = {f"lang-son/{c}/{name}" for c in ("xa-chi-lang", "xa-huu-lung") for name in ("index.html", "podcast.xml")}
    web.add("lang-son/podcast.xml")
    for rel, (digest, inode) in before.items():
        if rel != "manifest.json" and rel not in schedules | web:
            assert after[rel] == (digest, inode), rel  # not rewritten, not even replaced by the same bytes
    for rel in web:  # the bulletin comes first on the commune's page and in the feeds
        assert after[rel][0] != before[rel][0], rel
    page = (week / "lang-son/xa-chi-lang/index.html").read_text(encoding="utf-8")
    assert page.index('<article id="bao-dong"') < page.index('<article id="canh-bao"')
    import feedparser

    for feed_path, title in (("lang-son/xa-chi-lang/podcast.xml", "Khẩn cấp: kẻ gian"),
                             ("lang-son/podcast.xml", "Xã Chi Lăng: Khẩn cấp: kẻ gian")):
        feed = feedparser.parse((week / feed_path).read_bytes())
        assert feed.bozo == 0 and feed.entries[0].title.startswith(title), feed_path
        assert feed.entries[0].enclosures[0].href.endswith("messages/bao-dong.mp3")
    province_feed = feedparser.parse((week / "lang-son/podcast.xml").read_bytes())
    assert len(province_feed.entries) == 4  # two communes, each its warning and the bulletin
    for rel in schedules:  # the wall schedule's emergency box names the bulletin; the rest of the page is as it was
        page = (week / rel).read_text(encoding="utf-8")
        start, end = page.index("<!--khan-cap-->"), page.index("<!--/khan-cap-->")
        box = page[start:end]
        assert "Khẩn cấp: kẻ gian giả danh công an gọi điện đòi tiền" in box
        assert "<code>KHAN-CAP_bao-dong.mp3</code>" in box
        old = before_pages[rel]
        assert page[:start] == old[:old.index("<!--khan-cap-->")]
        assert page[end:] == old[old.index("<!--/khan-cap-->"):]
        assert "<!--khan-cap--><!--/khan-cap-->" in old  # there was no bulletin before
    added = sorted(set(after) - set(before))
    assert added == sorted(f"lang-son/{c}/{name}" for c in ("xa-chi-lang", "xa-huu-lung")
                           for name in ("KHAN-CAP_bao-dong.m3u8", "KHAN-CAP_bao-dong.mp3", "messages/bao-dong.mp3"))
    commune = week / "lang-son" / "xa-chi-lang"
    playlist = [s.uri for s in m3u8.load(str(commune / "KHAN-CAP_bao-dong.m3u8")).segments]
    assert playlist == ["messages/loi-mo-dau.mp3", "messages/bao-dong.mp3"]
    program, rate = decode(commune / "KHAN-CAP_bao-dong.mp3")
    parts = sum(len(decode(commune / uri)[0]) for uri in playlist)
    assert abs(len(program) - parts) / rate < 0.2
    data = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    kinds = {e["path"]: e["kind"] for e in data["files"]}
    assert kinds["lang-son/xa-chi-lang/KHAN-CAP_bao-dong.mp3"] == "emergency"
    assert kinds["lang-son/xa-huu-lung/messages/bao-dong.mp3"] == "message"
    for entry in data["files"]:
        assert sha256_file(week / entry["path"]) == entry["sha256"]
    again = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert again.exit_code == 0 and "(0 tệp mới)" in again.output  # the same bulletin twice changes nothing
    # the week changed after the build that published it: the next build is a real one, and keeps the bulletin
    rebuilt = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert rebuilt.exit_code == 0 and not json.loads(rebuilt.output)["stats"].get("unchanged"), rebuilt.output
    assert sha256_file(commune / "KHAN-CAP_bao-dong.mp3") == after["lang-son/xa-chi-lang/KHAN-CAP_bao-dong.mp3"][0]
    final = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert json.loads(final.output)["stats"].get("unchanged") is True


def test_only_an_emergency_script_into_a_published_week(tmp_path):
    root = make_project(tmp_path / "p", {"scripts/bao-dong.yaml": EMERGENCY})
    unpublished = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert unpublished.exit_code == 2 and "chưa được phát hành" in unpublished.output
    assert "dựng tuần đó trước" in unpublished.output  # not 'dựng tuần trước', 'build last week'
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    normal = run("emergency", "canh-bao", "--week", WEEK, "--project", str(root))
    assert normal.exit_code == 2 and "không phải khẩn cấp" in normal.output and "Traceback" not in normal.output


def test_an_emergency_that_is_not_valid_today_is_refused_it_would_air_at_once(tmp_path):
    """Valid on Tuesday and Wednesday of the week, issued on Sunday: it was published and aired."""
    from datetime import date

    from broadcast import app
    from broadcast.errors import UsageError

    expired = EMERGENCY.replace("valid: {from: 2024-12-04}", "valid: {from: 2026-12-01, until: 2026-12-02}")
    root = make_project(tmp_path / "p", {"scripts/bao-dong.yaml": expired})
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    before = _published(root / "output" / WEEK)
    workspace = app.open_workspace(root)
    try:
        workspace.emergency("bao-dong", today=date(2026, 12, 6))
        raise AssertionError("published a bulletin that ended on 02/12")
    except UsageError as refused:
        assert "không có hiệu lực hôm nay (06/12/2026)" in refused.message
    assert _published(root / "output" / WEEK) == before
    result = workspace.emergency("bao-dong", today=date(2026, 12, 2))  # on a day it is valid, it airs
    assert result.published == ["lang-son/xa-chi-lang"] and result.exit_code == 0


def test_an_emergency_says_which_later_week_published_without_it_to_rebuild(tmp_path):
    """Cron builds next week on Fridays: a bulletin issued after that reached only this week, silently."""
    root = make_project(tmp_path / "p")
    for week in (WEEK, "2026-W50"):
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "scripts" / "bao-dong.yaml").write_text(EMERGENCY, encoding="utf-8")  # issued after both builds
    result = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 1, result.output
    assert "tuần 2026-W50 đã dựng trước khi có tin này" in result.output
    assert "broadcast build --week 2026-W50" in result.output
    assert (root / "output" / WEEK / "lang-son/xa-chi-lang/KHAN-CAP_bao-dong.mp3").is_file()  # on air all the same

    assert run("build", "--week", "2026-W50", "--jobs", "1", "--project", str(root)).exit_code == 0
    again = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert again.exit_code == 0 and "2026-W50" not in again.output  # rebuilt: it has the bulletin now


def test_an_emergency_stopped_while_moving_into_the_week_is_finished_by_the_next_command(tmp_path, monkeypatch):
    """Killed half way through, the week held some of the new files and the old manifest (verify said
    changed and unlisted files) until someone ran the emergency or the build again."""
    import os

    from broadcast import app, publish

    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "scripts" / "bao-dong.yaml").write_text(EMERGENCY, encoding="utf-8")
    week = root / "output" / WEEK
    replace, moved = os.replace, []

    def dies_after_two(source, target):
        if "/.staging/" in str(source) and str(target).startswith(f"{week}/"):  # moving into the week
            if len(moved) == 2:
                raise KeyboardInterrupt  # as a kill would leave it: two files in, the rest still staged
            moved.append(target)
        return replace(source, target)
    monkeypatch.setattr(publish.os, "replace", dies_after_two)
    try:
        app.open_workspace(root).emergency("bao-dong", week=app.Week.parse(WEEK))
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(publish.os, "replace", replace)
    assert len(moved) == 2 and list((root / "output" / ".staging").glob(f"{WEEK}-*/{publish.PUBLISHING}"))
    # the operator checks the week first: verify finishes the publish (it said 'do not air' these files)
    checked = run("verify", str(week))
    assert checked.exit_code == 0, checked.output
    assert not list((root / "output" / ".staging").glob(f"{WEEK}-*/{publish.PUBLISHING}"))
    assert run("bundle", "--week", WEEK, "--project", str(root)).exit_code == 0
    data = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    listed = {e["path"]: e["sha256"] for e in data["files"]}
    on_disk = {p.relative_to(week).as_posix() for p in week.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk and all(sha256_file(week / rel) == sha for rel, sha in listed.items())
    assert "lang-son/xa-chi-lang/KHAN-CAP_bao-dong.mp3" in listed


def test_an_emergency_goes_only_into_the_week_on_air(tmp_path, monkeypatch):
    """On Friday 01/01/2027 the week on air is 2026-W53, and `--week 2027-W01` (next week) was taken:
    the bulletin went into a week whose script notes it as already in every slot, and aired nowhere;
    a past week's the same. Both are refused, saying what to do instead."""
    from broadcast import app

    root = make_project(tmp_path / "p", {"scripts/bao-dong.yaml": EMERGENCY})
    for week in (WEEK, "2026-W50"):
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0
    before = {week: _published(root / "output" / week) for week in (WEEK, "2026-W50")}
    ahead = run("emergency", "bao-dong", "--week", "2026-W50", "--project", str(root))
    assert ahead.exit_code == 2 and "tuần 2026-W50 chưa phát (tuần đang phát là 2026-W49)" in ahead.output
    assert "broadcast build --week 2026-W50" in ahead.output
    monkeypatch.setattr(app, "today_in", lambda timezone="": date(2026, 12, 9))  # a week later
    past = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert past.exit_code == 2 and f"tuần {WEEK} đã qua" in past.output and "Traceback" not in past.output
    assert {week: _published(root / "output" / week) for week in (WEEK, "2026-W50")} == before
    now = run("emergency", "bao-dong", "--project", str(root))  # the week on air, 2026-W50
    assert now.exit_code == 0 and "vào tuần 2026-W50" in now.output


def test_a_later_week_is_checked_commune_by_commune(tmp_path):
    """Next week rebuilt for one commune after the bulletin came: the other commune's next week still
    lacked it, and the emergency said nothing (it looked for the bulletin in any commune)."""
    root = make_project(tmp_path / "p", {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    for week in (WEEK, "2026-W50"):
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "scripts" / "bao-dong.yaml").write_text(EMERGENCY, encoding="utf-8")
    rebuilt = run("build", "--week", "2026-W50", "--locale", "xa-chi-lang", "--jobs", "1", "--project", str(root))
    assert rebuilt.exit_code == 0, rebuilt.output
    result = run("emergency", "bao-dong", "--week", WEEK, "--locale", "xa-huu-lung", "--project", str(root))
    assert result.exit_code == 1, result.output
    assert "tuần 2026-W50 đã dựng trước khi có tin này" in result.output
    assert "1 xã chưa có đúng tin (lang-son/xa-huu-lung)" in result.output
    other = run("emergency", "bao-dong", "--week", WEEK, "--locale", "xa-chi-lang", "--project", str(root))
    assert other.exit_code == 0 and "2026-W50" not in other.output, other.output


def test_a_corrected_bulletin_already_in_every_slot_is_built_into_them_and_next_week_is_named(tmp_path):
    """Issued, then in every slot after a rebuild, then corrected and issued again: only its message file
    was replaced, under every slot's program, playlist and schedule, which all still said the old text
    and length (verify passed); next week, built with the old text, was not named."""
    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    script = root / "scripts" / "bao-dong.yaml"
    script.write_text(EMERGENCY, encoding="utf-8")
    assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
    for week in (WEEK, "2026-W50"):  # the bulletin first in every slot of both weeks
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0
    script.write_text(EMERGENCY.replace("Gọi ngay 113.", "Gọi ngay 113 hoặc đến trụ sở Công an xã gần nhất."),
                      encoding="utf-8")
    result = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 1, result.output
    assert "tuần 2026-W50" in result.output and "broadcast build --week 2026-W50" in result.output
    week = root / "output" / WEEK
    entries = {e["path"]: e for e in json.loads((week / "manifest.json").read_text(encoding="utf-8"))["files"]}
    message = entries["lang-son/xa-chi-lang/messages/bao-dong.mp3"]["seconds"]
    assert abs(decode(week / "lang-son/xa-chi-lang/messages/bao-dong.mp3", 44100)[0].size / 44100 - message) < 0.05
    slots = [p for p in (week / "lang-son/xa-chi-lang").glob("2026-*.m3u8")]
    assert slots
    for playlist in slots:  # every slot's playlist, program and schedule say the corrected bulletin
        parsed = m3u8.load(str(playlist))
        [said] = [s.duration for s in parsed.segments if s.uri.endswith("bao-dong.mp3")]
        assert abs(said - message) < 0.01, playlist.name
        program = playlist.with_suffix(".mp3")
        assert abs(decode(program, 44100)[0].size / 44100 - sum(s.duration for s in parsed.segments)) < 0.1
    schedule = (week / "lang-son/xa-chi-lang/lich-phat-song.csv").read_text(encoding="utf-8-sig")
    assert f"{message}" in schedule
    assert run("verify", str(week)).exit_code == 0


def test_a_corrected_bulletin_replaces_the_old_on_the_page_and_in_the_feeds(tmp_path):
    """Corrected and issued again (not yet in the slots): the page kept the old text and length under the
    new audio, and the feeds listed two items, the old one with the wrong length, for one enclosure."""
    import feedparser

    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    script = root / "scripts" / "bao-dong.yaml"
    script.write_text(EMERGENCY, encoding="utf-8")
    assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
    script.write_text(EMERGENCY.replace("Gọi ngay 113.", "Gọi ngay 113 hoặc đến Công an xã."), encoding="utf-8")
    assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    page = (commune / "index.html").read_text(encoding="utf-8")
    assert page.count('<article id="bao-dong"') == 1 and "đến Công an xã" in page
    for feed in (commune / "podcast.xml", commune.parent / "podcast.xml"):
        items = [e for e in feedparser.parse(str(feed)).entries if "/bao-dong/" in e.id]
        assert len(items) == 1, feed
        size = (commune / "messages" / "bao-dong.mp3").stat().st_size
        assert int(items[0].enclosures[0].length) == size


def test_the_page_counts_the_bulletin_and_lists_it_in_its_schedule_at_once(tmp_path):
    """After an emergency the page's header said '8 bản tin' over 9 articles, and its schedule had no row
    for the bulletin (the wall sheet had it)."""
    import re

    import html5lib

    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "scripts" / "bao-dong.yaml").write_text(EMERGENCY, encoding="utf-8")
    assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
    page = (root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "index.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    said = int(re.search(r"<!--so-tin-->(\d+)<!--/so-tin--> bản tin", page).group(1))
    assert said == page.count('<article id="') == 2
    assert 'id="lich-bao-dong"><td colspan="3">Phát ngay khi nhận</td><td>Khẩn cấp: kẻ gian giả danh' in page
    rebuilt = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))  # the same page, built whole
    assert rebuilt.exit_code == 0
    whole = (root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<!--so-tin-->(\d+)<!--/so-tin-->", whole).group(1) == "2" and 'id="lich-bao-dong"' in whole


def test_next_week_rebuilt_after_a_correction_is_not_named_again_though_its_text_says_its_own_week(tmp_path):
    """A bulletin saying its week's dates differs from week to week: compared by sound, next week was named
    for ever, rebuilt or not."""
    root = make_project(tmp_path / "p")
    body = EMERGENCY.replace("Gọi ngay 113.", "Tuần này từ ngày {{ week.start.day }}, gọi ngay 113.")
    script = root / "scripts" / "bao-dong.yaml"
    script.write_text(body, encoding="utf-8")
    for week in (WEEK, "2026-W50"):
        assert run("build", "--week", week, "--jobs", "1", "--project", str(root)).exit_code == 0
    script.write_text(body.replace("gọi ngay 113.", "gọi ngay 113 hoặc Công an xã."), encoding="utf-8")
    first = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert first.exit_code == 1 and "broadcast build --week 2026-W50" in first.output  # built before the correction
    assert run("build", "--week", "2026-W50", "--jobs", "1", "--project", str(root)).exit_code == 0
    again = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert again.exit_code == 0 and "2026-W50" not in again.output, again.output


def test_a_correction_not_yet_approved_keeps_the_approved_bulletin_in_the_slots(tmp_path):
    """Under 'approval: required' the correction issued again rebuilt the week, which held the unapproved
    script back: the bulletin left every slot and its KHAN-CAP file went, with exit 0."""
    from broadcast import records

    root = make_project(tmp_path / "p", {
        "broadcast.yaml": textwrap.dedent(MINIMAL["broadcast.yaml"]) + "approval: required\n",
        "scripts/bao-dong.yaml": EMERGENCY})
    with records.connect(root) as conn:
        for name in ("canh-bao", "bao-dong"):
            records.decide(conn, name, records.file_sha256(root / "scripts" / f"{name}.yaml"), "approved", "duyet", "")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    before = (commune / "KHAN-CAP_bao-dong.mp3").read_bytes()
    script = root / "scripts" / "bao-dong.yaml"
    script.write_text(EMERGENCY.replace("Gọi ngay 113.", "Gọi ngay 113 hoặc Công an xã."), encoding="utf-8")
    result = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 2 and "chưa được duyệt" in result.output, result.output
    assert (commune / "KHAN-CAP_bao-dong.mp3").read_bytes() == before
    assert any("bao-dong.mp3" in p.read_text(encoding="utf-8") for p in commune.glob("2026-*.m3u8"))


@pytest.mark.parametrize("issued_before", [False, True])
def test_a_bulletin_not_approved_is_not_published_at_once(tmp_path, issued_before):
    """Under 'approval: required' an emergency script nobody approved aired at once (exit 0), and a correction
    not approved replaced the approved bulletin's KHAN-CAP file in a week not rebuilt since it came."""
    from broadcast import records

    root = make_project(tmp_path / "p", {
        "broadcast.yaml": textwrap.dedent(MINIMAL["broadcast.yaml"]) + "approval: required\n"})
    script = root / "scripts" / "canh-bao.yaml"
    with records.connect(root) as conn:
        records.decide(conn, "canh-bao", records.file_sha256(script), "approved", "duyet", "")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    week = root / "output" / WEEK
    bulletin = root / "scripts" / "bao-dong.yaml"
    bulletin.write_text(EMERGENCY, encoding="utf-8")
    if issued_before:  # approved and on air; then corrected, the correction not approved
        with records.connect(root) as conn:
            records.decide(conn, "bao-dong", records.file_sha256(bulletin), "approved", "duyet", "")
        assert run("emergency", "bao-dong", "--week", WEEK, "--project", str(root)).exit_code == 0
        bulletin.write_text(EMERGENCY.replace("Gọi ngay 113.", "Gọi ngay 113 hoặc Công an xã."), encoding="utf-8")
    before = _published(week)
    result = run("emergency", "bao-dong", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 2 and "chưa được duyệt" in result.output, result.output
    assert _published(week) == before  # nothing published: the approved bulletin, if any, airs as it was
