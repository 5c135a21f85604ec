"""The weekly build end to end on a small project: outputs parsed back, idempotence, crash safety."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import imageio_ffmpeg
import m3u8
import mutagen
import numpy as np
import pytest

from broadcast import build as build_stage
from broadcast.audio import get_preset
from broadcast.ffmpeg import measure_ebur128
from broadcast.manifest import Manifest
from broadcast.publish import Lock, sha256_file
from conftest import make_project, run

WEEK = "2026-W49"
SCHEDULE = """\
id: sang-chieu
slots:
  - {name: sang, label: Buổi sáng, days: [t2, t4], start: "06:00", minutes: 5}
  - {name: chieu, label: Buổi chiều, days: [t2], start: "17:00", minutes: 5}
"""


def script(sid: str, level: str, body: str) -> str:
    return (f"id: {sid}\ntitle: Tin {sid} cho bà con\nsource: Công an tỉnh Lạng Sơn, 04/12/2024\nlevel: {level}\n"
            f"valid: {{from: 2024-12-04}}\nrepeat: 1\nbody: |\n" + "".join(f"  {x}\n" for x in body.splitlines()))


FILES = {
    "broadcast.yaml": "name: Thử\nmin_airings: 1\nopening: Đài truyền thanh xin thông báo.\n",
    "schedules/sang-chieu.yaml": SCHEDULE,
    "scripts/canh-bao.yaml": None,
    "scripts/goi-113.yaml": script("goi-113", "priority", "Bà con {{ locale.name }} nhớ gọi 113."),
    "scripts/khong-chuyen-tien.yaml": script("khong-chuyen-tien", "normal", "Tuyệt đối không chuyển tiền.\n\nXin cảm ơn."),
    # valid only in 2024, and only from next year: neither airs in the built week, neither stops the build
    "scripts/het-han.yaml": script("het-han", "normal", "Tin cũ.").replace("{from: 2024-12-04}",
                                                                          "{from: 2024-01-01, until: 2024-12-31}"),
    "scripts/nam-sau.yaml": script("nam-sau", "priority", "Tin mới.").replace("2024-12-04", "2027-01-04"),
}


def decoded_seconds(path: Path) -> float:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", "44100", "-"], capture_output=True, check=True)
    assert out.stderr == b"", out.stderr  # decodes without errors
    return len(out.stdout) / 2 / 44100


def published(root: Path) -> dict[str, tuple[str, int]]:
    week = root / "output" / WEEK
    return {p.relative_to(week).as_posix(): (sha256_file(p), p.stat().st_ino)
            for p in sorted(week.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("b") / "p", FILES)
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    return root, result.output


def test_layout_and_summary(built):
    root, output = built
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    names = sorted(p.name for p in commune.iterdir())
    assert names == ["2026-11-30_0600_sang.m3u8", "2026-11-30_0600_sang.mp3", "2026-11-30_1700_chieu.m3u8",
                     "2026-11-30_1700_chieu.mp3", "2026-12-02_0600_sang.m3u8", "2026-12-02_0600_sang.mp3",
                     "index.html", "lich-phat-song.csv", "lich-phat-song.html", "lich-phat-song.ics",
                     "lich-phat-song.liq", "messages", "podcast.xml"]
    assert sorted(p.name for p in (commune / "messages").iterdir()) == ["goi-113.mp3", "khong-chuyen-tien.mp3",
                                                                          "loi-mo-dau.mp3"]
    assert not list((root / "output").glob(".staging/*")), "nothing left in staging"
    assert [p.name for p in (root / "output" / WEEK).iterdir() if p.name.startswith(".")] == []
    assert "Tuần 2026-W49: 1 xã, 2 tệp tin, 3 chương trình" in output


def test_scripts_outside_the_week_are_left_out_not_fatal(built):
    root, output = built  # the fixture's build exited 0 with het-han and nam-sau in scripts/
    manifest = json.loads((root / "output" / WEEK / "manifest.json").read_text())
    assert not [e for e in manifest["files"] if "het-han" in e["path"] or "nam-sau" in e["path"]]


def test_published_files_are_readable_by_other_users(built):
    root, _ = built
    umask = os.umask(0o022)
    os.umask(umask)
    files = [p for p in (root / "output" / WEEK).rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_playlists_reference_existing_files_with_exact_durations(built):
    root, _ = built
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    for playlist in commune.glob("*.m3u8"):
        parsed = m3u8.load(str(playlist))
        # the station's opening line, then the priority message first
        assert [s.uri for s in parsed.segments][:2] == ["messages/loi-mo-dau.mp3", "messages/goi-113.mp3"]
        for segment in parsed.segments:
            target = commune / segment.uri
            assert target.is_file()
            assert abs(decoded_seconds(target) - segment.duration) < 0.1


def test_program_file_is_the_sum_of_its_parts(built):
    root, _ = built
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    parts = sum(s.duration for s in m3u8.load(str(commune / "2026-11-30_0600_sang.m3u8")).segments)
    program = decoded_seconds(commune / "2026-11-30_0600_sang.mp3")
    assert abs(program - parts) < 0.1  # the opening line is in the playlist too
    other = decoded_seconds(commune / "2026-12-02_0600_sang.mp3")
    assert abs(other - program) < 0.1  # same messages, same opening


def test_calendar_and_csv(built):
    root, _ = built
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    cal = icalendar.Calendar.from_ical((commune / "lich-phat-song.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 3
    assert all(e["dtstart"].params["TZID"] == "Asia/Ho_Chi_Minh" for e in events)
    assert events[0].decoded("dtstart").hour == 6 and events[1].decoded("dtstart").hour == 17
    rows = list(csv.DictReader(io.StringIO((commune / "lich-phat-song.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 9 and {r["level"] for r in rows} == {"priority", "normal", "announcement"}
    for row in rows:
        assert (commune / row["file"]).is_file()


def test_manifest_lists_every_file_with_its_hash(built):
    root, _ = built
    week = root / "output" / WEEK
    manifest = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    on_disk = {p for p in published(root) if p != "manifest.json"}
    assert {e["path"] for e in manifest["files"]} == on_disk
    for entry in manifest["files"]:
        assert sha256_file(week / entry["path"]) == entry["sha256"]
    message = next(e for e in manifest["files"] if e["path"].endswith("messages/goi-113.mp3"))
    assert message["kind"] == "message" and message["voice"] == "espeak-vi" and message["engine"] == "espeak"
    assert message["true_peak_dbtp"] <= -1.0
    # loudness and true peak measured independently, by ffmpeg's ebur128, on messages and programs
    for entry in manifest["files"]:
        if entry["kind"] in ("message", "program"):
            measured = measure_ebur128(week / entry["path"])
            integrated, peak = measured.integrated_lufs, measured.true_peak_dbtp
            assert -17.0 <= integrated <= -15.0 and peak <= -1.0, (entry["path"], integrated, peak)
    stats = manifest["build"]
    assert stats["engine_calls"] == stats["sentences"] > 0
    assert set(stats["stages"]) >= {"speak", "synthesise", "master", "plan", "programs"}


def test_rebuild_is_byte_identical_and_rewrites_nothing(built):
    root, _ = built
    before = published(root)
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["stats"]["engine_calls"] == 0 and summary["stats"]["mastered"] == 0
    after = published(root)
    assert before.keys() == after.keys()
    changed = [p for p in before if before[p] != after[p] and p != "manifest.json"]
    assert changed == []  # same bytes and the same inode: operators' copies stay valid


def test_editing_one_script_rewrites_only_files_containing_it(built):
    root, _ = built
    before = published(root)
    path = root / "scripts" / "khong-chuyen-tien.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Xin cảm ơn.", "Xin chân thành cảm ơn."), encoding="utf-8")
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stats"]["engine_calls"] == 1  # only the edited sentence
    after = published(root)
    changed = sorted(p for p in before if before[p][0] != after[p][0] and p != "manifest.json")
    prefix = "lang-son/xa-chi-lang/"
    assert prefix + "messages/khong-chuyen-tien.mp3" in changed
    assert prefix + "messages/goi-113.mp3" not in changed
    assert before[prefix + "messages/goi-113.mp3"] == after[prefix + "messages/goi-113.mp3"]


def test_lock_names_the_holder(built):
    root, _ = built
    with Lock(root / "output"):
        result = run("build", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 1 and "pid" in result.output and "đang chạy" in result.output


def test_placeholders_refused_unless_allowed(project):
    root = project({**FILES, "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n"
                    "  police:\n    phone: '<<CẦN ĐIỀN: số trực ban>>'\n"})
    result = run("build", "--week", WEEK, "--project", str(root))
    assert result.exit_code == 2 and "xa-chi-lang.yaml:5" in result.output and "--allow-placeholders" in result.output
    assert not (root / "output" / WEEK).exists()


def test_a_draft_says_so_and_never_speaks_a_placeholder(project, monkeypatch, tmp_path):
    root = project({**FILES, "locales/lang-son/xa-chi-lang.yaml": "name: Xã Chi Lăng\ncode: '06463'\ncontacts:\n"
                    "  police:\n    phone: '<<CẦN ĐIỀN: số trực ban>>'\n",
                    "scripts/goi-113.yaml": script("goi-113", "priority",
                                                   "Bà con {{ locale.name }} nhớ gọi 113.\n"
                                                   "Số trực ban là {{ locale.contacts.police.phone }}.\n\n"
                                                   "Xin cảm ơn."),
                    "scripts/chi-cho-trong.yaml": script("chi-cho-trong", "normal", "<<CẦN ĐIỀN: nội dung tin>>")})
    asked: list[str] = []
    real = build_stage.synthesize_all

    def recording(requests, *args, **kwargs):
        asked.extend(text for _, text in requests)
        return real(requests, *args, **kwargs)

    monkeypatch.setattr(build_stage, "synthesize_all", recording)
    result = run("build", "--week", WEEK, "--jobs", "1", "--allow-placeholders", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "BẢN NHÁP (draft)" in result.output and "2 câu có chỗ cần điền đã bỏ khỏi âm thanh" in result.output
    manifest = json.loads((root / "output" / WEEK / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["draft"] is True and manifest["placeholders_left_out"] == 2
    sheet = (root / "output" / WEEK / "lang-son/xa-chi-lang/lich-phat-song.html").read_text(encoding="utf-8")
    assert "BẢN NHÁP" in sheet  # the printed schedule says it on every page (a fixed banner in print)
    # nothing the voices were asked to say holds the placeholder or reads it out
    said = " ".join(asked).lower()
    assert "nhớ gọi" in said and "cần điền" not in said and "trực ban" not in said and "<<" not in said
    # a complete week is not a draft
    complete = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project",
                   str(make_project(tmp_path / "complete", FILES)))
    assert json.loads(complete.output)["draft"] is False
    sheet = (tmp_path / "complete" / "output" / WEEK / "lang-son/xa-chi-lang/lich-phat-song.html").read_text("utf-8")
    assert "BẢN NHÁP" not in sheet


def test_kill_during_build_leaves_previous_week_intact(built, tmp_path):
    root, _ = built
    copy = tmp_path / "k"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".cache"))
    before = {p: h for p, (h, _) in published(copy).items()}
    path = copy / "scripts" / "goi-113.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("nhớ gọi", "hãy nhớ gọi ngay"), encoding="utf-8")
    cmd = [sys.executable, "-m", "broadcast.cli", "build", "--week", WEEK, "--jobs", "1", "--project", str(copy)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((copy / "output" / ".staging").glob("*/lang-son/*/messages/*")):
        time.sleep(0.02)  # wait until it is half-way through writing the new week
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert {p: h for p, (h, _) in published(copy).items()} == before  # the previous week, untouched
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(copy))
    assert result.exit_code == 0, result.output
    after = published(copy)
    assert after.keys() == before.keys()
    assert after["lang-son/xa-chi-lang/messages/goi-113.mp3"][0] != before["lang-son/xa-chi-lang/messages/goi-113.mp3"]
    assert not (copy / "output" / ".staging").exists()  # cleaned up, and no empty folder left


def test_say_writes_a_playable_file(built, tmp_path):
    root, _ = built
    out = tmp_path / "cau.mp3"
    result = run("say", "Gọi 113 khi bị đe dọa.", "-o", str(out), "--project", str(root))
    assert result.exit_code == 0, result.output
    seconds = decoded_seconds(out)
    assert 2.0 < seconds < 15.0 and f"{seconds:.1f}" in result.output
    bad = run("say", "x", "-o", str(tmp_path / "x.ogg"), "--project", str(root))
    assert bad.exit_code == 2 and ".mp3" in bad.output and "Traceback" not in bad.output
    for nothing in ("", "...", "!!!", "[đọc: | ]"):  # nothing a voice can read: it crashed in assembly
        silent = run("say", nothing, "-o", str(tmp_path / "x.mp3"), "--project", str(root))
        assert silent.exit_code == 2 and "không có chữ nào để đọc" in silent.output, silent.output
        assert not (tmp_path / "x.mp3").exists()


def test_say_script_is_the_message_exactly_as_it_airs(built, tmp_path):
    """The preview of a message is the published message file, byte for byte: chime, repeats
    with "Xin nhắc lại", the commune's preset; nothing left out."""
    root, _ = built
    out = tmp_path / "nghe-thu.mp3"
    result = run("say", "--script", "goi-113", "--locale", "xa-chi-lang", "--week", WEEK, "-o", str(out),
                 "--project", str(root))
    assert result.exit_code == 0, result.output
    aired = root / "output" / WEEK / "lang-son" / "xa-chi-lang" / "messages" / "goi-113.mp3"
    assert sha256_file(out) == sha256_file(aired)
    wrong = run("say", "--script", "goi-113", "--locale", "xa-chi-lang", "-o", str(tmp_path / "x.wav"),
                "--project", str(root))
    assert wrong.exit_code == 2 and ".mp3" in wrong.output and not (tmp_path / "x.wav").exists()


def test_cache_prune_drops_only_unused_clips(built):
    root, _ = built
    from broadcast.tts import Clip, ClipCache

    cache = ClipCache(root / ".cache" / "clips")
    before, _ = cache.stats()
    cache.put("f" * 64, Clip(b"\0\0" * 100, 22050))
    result = run("cache", "prune", "--project", str(root))
    assert result.exit_code == 0, result.output
    after, _ = cache.stats()
    assert cache.get("f" * 64) is None
    rebuild = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert json.loads(rebuild.output)["stats"]["engine_calls"] == 0  # everything in use was kept
    assert after <= before


def test_cache_prune_never_deletes_through_a_symlink(project, tmp_path):
    """A shard (or a clip) that is a symlink led prune to delete what it pointed at, outside the project."""
    root = project()
    victim = tmp_path / "victim"
    victim.mkdir()
    for name in ("file1.wav", ("f" * 64) + ".pcm"):
        (victim / name).write_bytes(b"du lieu quan trong")
    clips = root / ".cache" / "clips"
    (clips / "ab").mkdir(parents=True)
    (clips / "zz").symlink_to(victim)
    (clips / "ab" / ("a" * 64 + ".pcm")).symlink_to(victim / "file1.wav")
    result = run("cache", "prune", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in victim.iterdir()) == sorted(["file1.wav", ("f" * 64) + ".pcm"])


def test_emergency_gets_a_standalone_program(project):
    root = project({**FILES, "scripts/khan-cap.yaml": script("khan-cap", "emergency", "Bão lừa đảo khẩn cấp, gọi 113.")})
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    standalone = commune / "KHAN-CAP_khan-cap.mp3"
    extra = decoded_seconds(standalone) - decoded_seconds(commune / "messages" / "khan-cap.mp3")
    assert 1.0 < extra < 8.0  # the message with the station's opening line before it
    assert [s.uri for s in m3u8.load(str(commune / "KHAN-CAP_khan-cap.m3u8")).segments] == [
        "messages/loi-mo-dau.mp3", "messages/khan-cap.mp3"]
    for playlist in commune.glob("2026-*.m3u8"):  # first in every slot, after the station's opening line
        assert m3u8.load(str(playlist)).segments[1].uri == "messages/khan-cap.mp3"
    assert "Tin khẩn cấp" in (commune / "lich-phat-song.html").read_text(encoding="utf-8")
    manifest = json.loads((root / "output" / WEEK / "manifest.json").read_text(encoding="utf-8"))
    assert [e["kind"] for e in manifest["files"] if e["path"].endswith("KHAN-CAP_khan-cap.mp3")] == ["emergency"]


def test_a_failing_commune_does_not_stop_the_others(project):
    files = {**FILES,
             "voices/ghi-am.yaml": "id: ghi-am\nengine: recorded\nparams: {folder: ghi-am}\n",
             "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\nvoice: ghi-am\n"}
    root = project(files)
    (root / "ghi-am").mkdir()
    lint = run("lint", "--project", str(root))
    assert lint.exit_code == 2 and "voices/ghi-am.yaml" in lint.output and "missing recording" in lint.output
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 1, result.output
    assert "LỖI: lang-son/xa-huu-lung" in result.output
    week = root / "output" / WEEK
    assert (week / "lang-son" / "xa-chi-lang" / "2026-11-30_0600_sang.mp3").is_file()
    assert not (week / "lang-son" / "xa-huu-lung").exists()
    manifest = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failures"] and manifest["locales"] == ["lang-son/xa-chi-lang"]


def test_shared_sentences_are_mastered_once_for_all_communes(project):
    body = ("Kính thưa bà con {{ locale.name }}!\n\nKẻ gian giả danh thám tử để tống tiền.\nBà con đừng chuyển tiền.\n"
            "\nHãy báo cho {{ locale.contacts.police.name }}.")
    root = project({**FILES, "scripts/goi-113.yaml": None,
                    "scripts/khong-chuyen-tien.yaml": script("khong-chuyen-tien", "normal", body),
                    "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\ncontacts:\n  police:\n"
                    "    name: Công an xã Hữu Lũng\n"})
    result = run("build", "--week", WEEK, "--jobs", "2", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)["stats"]
    # one chime + the two sentences of the shared middle paragraph once + greeting and contact
    # for each of 2 communes
    assert stats["segments"] == 1 + 2 + 2 * 2
    # unique sentences: shared ones once, commune ones per commune (+ opening line; no reminder: repeat 1)
    assert stats["engine_calls"] == stats["sentences"] == 2 + 2 * 2 + 1
    week = root / "output" / WEEK
    a = decoded_seconds(week / "lang-son/xa-chi-lang/messages/khong-chuyen-tien.mp3")
    b = decoded_seconds(week / "lang-son/xa-huu-lung/messages/khong-chuyen-tien.mp3")
    assert a > 5 and abs(a - b) < 1.5


def test_a_repeated_message_masters_each_paragraph_once(project):
    repeated = script("khong-chuyen-tien", "normal", "Tuyệt đối không chuyển tiền.\n\nHãy báo cho {{ locale.name }}.")
    root = project({**FILES, "scripts/goi-113.yaml": None,
                    "scripts/khong-chuyen-tien.yaml": repeated.replace("repeat: 1", "repeat: 2")})
    result = run("build", "--week", WEEK, "--jobs", "1", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)["stats"]
    # chime, reminder and the two sentences: the last sentence is the same segment before the
    # repeat and at the end, only the pause after it differs
    assert stats["segments"] == 1 + 1 + 2
    # after the chime, between paragraphs, before the repeat, after the reminder, the tail
    assert stats["pauses"] == 5
    preset = get_preset("loa")
    seconds = decoded_seconds(root / "output" / WEEK / "lang-son/xa-chi-lang/messages/khong-chuyen-tien.mp3")
    pauses = (preset.after_chime + 2 * preset.pause_paragraph + preset.pause_repeat + preset.pause_sentence
              + preset.tail)
    assert seconds > pauses + 2.0


def test_slots_airing_the_same_messages_share_one_file(project):
    later = script("goi-113", "priority", "Bà con {{ locale.name }} nhớ gọi 113.").replace("2024-12-04", "2026-12-02")
    root = project({**FILES, "scripts/goi-113.yaml": later})
    result = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    aired = {p.with_suffix(".mp3").name: tuple(s.uri for s in m3u8.load(str(p)).segments)
             for p in commune.glob("*.m3u8")}
    assert aired["2026-11-30_0600_sang.mp3"] == aired["2026-11-30_1700_chieu.mp3"] != aired["2026-12-02_0600_sang.mp3"]
    inode = {name: (commune / name).stat().st_ino for name in aired}
    for a in aired:
        for b in aired:
            assert (inode[a] == inode[b]) == (aired[a] == aired[b]), (a, b)
    manifest = {e["path"]: e for e in json.loads((root / "output" / WEEK / "manifest.json").read_text())["files"]}
    monday = [manifest[f"lang-son/xa-chi-lang/{n}"] for n in ("2026-11-30_0600_sang.mp3", "2026-11-30_1700_chieu.mp3")]
    assert monday[0]["sha256"] == monday[1]["sha256"] == sha256_file(commune / "2026-11-30_1700_chieu.mp3")
    # the tags name the station and the week; the file name says the slot
    tags = mutagen.File(commune / "2026-11-30_0600_sang.mp3")
    assert "Xã Chi Lăng" in str(tags["TIT2"]) and "(1 tin)" in str(tags["TIT2"]) and "2026-W49" in str(tags["TALB"])
    assert abs(decoded_seconds(commune / "2026-12-02_0600_sang.mp3")
               - decoded_seconds(commune / "2026-11-30_0600_sang.mp3")
               - manifest["lang-son/xa-chi-lang/messages/goi-113.mp3"]["seconds"]) < 0.1


def test_output_does_not_depend_on_the_number_of_workers(tmp_path, monkeypatch):
    """One process, threads of it (an edit's few segments) and worker processes (many): the same bytes."""
    from broadcast import master

    files = {**FILES, "locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n",
             "locales/lang-son/xa-ba-son.yaml": "name: Xã Ba Sơn\ncode: '06250'\n"}
    weeks = []
    for jobs, threads_up_to in (("1", 0), ("2", 10_000), ("2", 0)):
        monkeypatch.setattr(master, "THREADS_UP_TO", threads_up_to)
        root = make_project(tmp_path / f"jobs-{jobs}-{threads_up_to}", files)  # each with its own empty caches
        result = run("build", "--week", WEEK, "--jobs", jobs, "--json", "--project", str(root))
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["stats"]["segments"] > 3  # each path taken with 2 workers
        week = root / "output" / WEEK
        manifest = json.loads((week / "manifest.json").read_text(encoding="utf-8"))
        del manifest["build"]  # timings
        weeks.append(({p.relative_to(week).as_posix(): p.read_bytes() for p in week.rglob("*")
                       if p.is_file() and p.name != "manifest.json"}, manifest))
    assert len(weeks[0][0]) > 3 * 10
    for other in weeks[1:]:
        assert sorted(weeks[0][0]) == sorted(other[0])
        assert [name for name in weeks[0][0] if weeks[0][0][name] != other[0][name]] == []
        assert weeks[0][1] == other[1]


def test_a_week_with_nothing_to_air_is_published_empty_not_a_crash(project):
    """Every script expired (or, under approval: required, none approved): the week is published with no
    program files and the schedule says so; it used to stop with "nothing to concatenate"."""
    from conftest import MINIMAL
    root = project({"scripts/canh-bao.yaml": MINIMAL["scripts/canh-bao.yaml"].replace("until: 2027-12-31",
                                                                                       "until: 2025-01-01")})
    result = run("build", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 0, result.output
    folder = root / "output" / "2026-W49" / "lang-son" / "xa-chi-lang"
    assert not list(folder.glob("*.mp3")) and (folder / "lich-phat-song.csv").is_file()


def _samples(path: Path) -> np.ndarray:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", "24000", "-"], capture_output=True, check=True)
    return np.frombuffer(out.stdout, dtype="<i2")


def test_playlist_csv_and_calendar_describe_exactly_what_the_program_plays(tmp_path):
    """For every slot: the playlist's files decoded one after another are the program decoded (within one
    MP3 frame per join), and every CSV row and calendar line starts at the program's start plus the
    length of everything before it (within 50 ms), the station's opening and closing lines included."""
    root = make_project(tmp_path / "p", {**FILES, "broadcast.yaml": FILES["broadcast.yaml"]
                                         + "closing: Xin cảm ơn bà con đã lắng nghe.\n"})
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    commune = root / "output" / WEEK / "lang-son" / "xa-chi-lang"
    rows = list(csv.DictReader(io.StringIO((commune / "lich-phat-song.csv").read_text(encoding="utf-8-sig"))))
    events = list(icalendar.Calendar.from_ical((commune / "lich-phat-song.ics").read_bytes()).walk("VEVENT"))
    frame = 1152 / 24000  # the longest MP3 frame at the rate decoded here
    programs = sorted(commune.glob("2026-*.mp3"))
    assert len(programs) == 3
    for program in programs:
        playlist = m3u8.load(str(program.with_suffix(".m3u8")))
        uris = [s.uri for s in playlist.segments]
        assert uris[0] == "messages/loi-mo-dau.mp3" and uris[-1] == "messages/loi-ket-thuc.mp3"
        whole = _samples(program)
        joined = np.concatenate([_samples(commune / uri) for uri in uris])
        assert abs(len(whole) - len(joined)) <= frame * 24000 * (len(uris) - 1)
        # the same audio, not only the same length: each part where the playlist says it is
        at = 0
        for uri in uris:
            part = _samples(commune / uri)
            piece = whole[at:at + len(part)].astype(float)
            assert np.corrcoef(piece[: len(part)], part[: len(piece)].astype(float))[0, 1] > 0.9, uri
            at += len(part)
        # CSV rows and calendar lines of this slot: start = slot start + everything before
        name = program.stem  # 2026-11-30_0600_sang
        day, start = name.split("_")[0], f"{name.split('_')[1][:2]}:{name.split('_')[1][2:]}:00"
        slot_rows = [r for r in rows if r["date"] == day and r["slot"] == name.split("_")[2]]
        assert [r["file"] for r in slot_rows] == uris
        elapsed = 0.0
        event = next(e for e in events if e.decoded("dtstart").strftime("%Y-%m-%d_%H%M") == name[:15])
        lines = str(event["description"]).split("\n")[1:]
        for row, uri, line in zip(slot_rows, uris, lines):
            expected = datetime.fromisoformat(f"{day}T{start}") + timedelta(seconds=elapsed)
            actual = datetime.fromisoformat(f"{day}T{row['start']}")
            assert abs((actual - expected).total_seconds()) < 0.05, (uri, actual, expected)
            listed = datetime.fromisoformat(f"{day}T{line[:8]}")  # the calendar lists whole seconds
            assert abs((listed - expected).total_seconds()) <= 0.5 + 0.05 and uri in line
            elapsed += len(_samples(commune / uri)) / 24000
        assert abs(elapsed - len(whole) / 24000) < frame * len(uris)
        dtstart, dtend = event.decoded("dtstart"), event.decoded("dtend")
        assert abs((dtend - dtstart).total_seconds() - len(whole) / 24000) <= 0.5 + 0.05


def test_clean_keeps_the_last_weeks_and_never_this_or_next_week(built, tmp_path):
    """`clean --keep N` under the lock: older published weeks go, this week and next week never do, a
    leftover staging folder goes; output/ then holds only weeks, its README and the lock."""
    from broadcast import app

    source, _ = built
    root = tmp_path / "p"
    shutil.copytree(source, root, symlinks=True)
    output = root / "output"
    today = app.Week.containing(app.today_in())  # the stations' today: from 17:00 UTC, tomorrow in Vietnam
    weeks = ["2025-W01", "2025-W02", "2025-W03", today.id, app.Week.containing(today.days[0]
                                                                               + __import__("datetime").timedelta(days=7)).id]
    stamps = root / ".cache" / "published"
    for week in weeks:
        if week != WEEK:
            shutil.copytree(output / WEEK, output / week)
            (stamps / f"{week}.json").write_text('{"files": {}}', encoding="utf-8")
    (output / ".staging" / "2026-W50-99999").mkdir(parents=True)  # left by a killed build
    for week in ("2025-W01", today.id):  # a station bundle of a week that goes, and of one that stays
        (output / "bundles" / week).mkdir(parents=True)
        (output / "bundles" / week / "xa-chi-lang.zip").write_bytes(b"PK")
    # a week deleted by hand (rm -rf output/2024-W10): its zips and stamps were left for ever
    (output / "bundles" / "2024-W10").mkdir()
    (output / "bundles" / "2024-W10" / "xa-chi-lang.zip").write_bytes(b"PK" * 1000)
    (stamps / "2024-W10.json").write_text('{"files": {}}', encoding="utf-8")
    dry = run("clean", "--keep", "2", "--dry-run", "--project", str(root))
    assert dry.exit_code == 0 and "Sẽ xoá" in dry.output and (output / "2025-W01").is_dir()
    result = run("clean", "--keep", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in output.iterdir())
    newest = sorted(weeks + [WEEK])[-1]
    assert set(left) == {".lock", "bundles", "moi-nhat", today.id, weeks[-1], newest}, left
    assert sorted(p.name for p in (output / "bundles").iterdir()) == [today.id]  # the removed week's went too
    assert {p.stem for p in stamps.iterdir()} <= set(left)  # a removed week's stamps go with it
    assert not (stamps / "2025-W01.json").exists() and (stamps / f"{weeks[-1]}.json").exists()
    assert "2025-W01" in result.output and "MB" in result.output
    assert not (stamps / "2024-W10.json").exists() and "2024-W10" in result.output
    assert run("clean", "--keep", "0", "--project", str(root)).exit_code == 2


def test_a_build_leaves_no_empty_staging_folder(built):
    root, _ = built
    assert not (root / "output" / ".staging").exists()
    assert {p.name for p in (root / "output").iterdir()} <= {"README.md", ".lock", "moi-nhat", WEEK}


def test_a_warm_build_reads_no_published_file_whose_stamp_holds_and_each_file_once_without(tmp_path, monkeypatch):
    """A warm build trusts a published file whose stamp (inode, size, times) is as the last build
    left it, and reads nothing. Without the stamps every file is read to check it, once however
    many names it has: slots that air the same program share one file by hard link (a
    province's warm build hashed 9 GB for 4 GB of files)."""
    from broadcast import publish
    from broadcast.app import Workspace
    from broadcast.model import Week

    root = make_project(tmp_path / "p")
    week = Week(2026, 49)
    Workspace(root).build(week, jobs=1)
    published = [p for p in (root / "output" / week.id).rglob("*") if p.is_file() and p.name != "manifest.json"]
    inodes = {p.stat().st_ino for p in published}
    assert len(inodes) < len(published)  # some programs are shared
    hashed: list[int] = []  # the inode of every file hashed
    real = publish.sha256_file
    monkeypatch.setattr(publish, "sha256_file", lambda path: hashed.append(path.stat().st_ino) or real(path))
    settings = root / "broadcast.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "# ghi chú\n", encoding="utf-8")  # every stage runs
    result = Workspace(root).build(week, jobs=1)
    assert not result.stats.get("unchanged") and result.stats["reused"] >= len(published)
    assert result.stats["mastered"] == 0 and result.stats["read_back"] == 0
    assert hashed == []
    before = {p: p.stat().st_ino for p in published}

    (root / publish.STAMPS / f"{week.id}.json").unlink()
    result = Workspace(root).build(week, jobs=1)
    assert result.stats["mastered"] == 0
    assert len(hashed) == len(set(hashed)) == result.stats["read_back"] <= len(inodes)
    assert len(hashed) >= len(inodes) - 2  # every file was checked (but the station's lines, written anew)
    assert {p: p.stat().st_ino for p in published} == before  # all carried over, none remade


def test_a_build_of_unchanged_inputs_has_nothing_to_do_and_any_change_builds_again(tmp_path, monkeypatch):
    """The same inputs (files, program, options) and every published file as it was published:
    the week is left exactly as it is (bytes, inodes, the manifest too). A changed script, an
    edit that puts the file's time back, a damaged published file, a stray file in the week, or
    a new version of the program each make a real build."""
    import broadcast.build as build_module
    from broadcast.app import Workspace
    from broadcast.model import Week

    root = make_project(tmp_path / "p")
    week = Week(2026, 49)
    folder = root / "output" / week.id

    def state() -> dict[str, tuple[int, bytes]]:
        return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.read_bytes())
                for p in sorted(folder.rglob("*")) if p.is_file()}

    first = Workspace(root).build(week, jobs=1)
    assert first.stats["inputs"] and not first.stats.get("unchanged")
    before = state()
    again = Workspace(root).build(week, jobs=1)
    assert again.stats["unchanged"] is True and again.stats["mastered"] == 0
    assert state() == before  # not a byte or an inode changed, the manifest included
    assert [e.path for e in again.files] == [e.path for e in first.files] and again.exit_code == 0
    assert run("build", "--week", week.id, "--project", str(root)).exit_code == 0
    assert state() == before

    def rebuilt() -> bool:
        result = Workspace(root).build(week, jobs=1)
        return not result.stats.get("unchanged")

    script = root / "scripts" / "canh-bao.yaml"
    info = script.stat()
    text = script.read_text(encoding="utf-8")
    assert "Hãy gọi" in text
    script.write_text(text.replace("Hãy gọi", "Hãy hỏi", 1), encoding="utf-8")
    assert script.stat().st_size == info.st_size
    os.utime(script, ns=(info.st_atime_ns, info.st_mtime_ns))  # and the time put back
    assert rebuilt()
    assert not rebuilt()

    message = next(folder.rglob("messages/canh-bao.mp3"))
    with message.open("r+b") as handle:
        handle.seek(message.stat().st_size // 2)
        handle.write(b"\0" * 32)
    assert rebuilt()
    assert sha256_file(message) == next(e.sha256 for e in Manifest.read(folder, week).files
                                        if folder / e.path == message)
    assert not rebuilt()

    stray = message.parent / "ghi-chu.txt"
    stray.write_text("thêm tay\n", encoding="utf-8")
    assert rebuilt() and not stray.exists()

    monkeypatch.setattr(build_module, "_code", lambda: "a new release")
    assert rebuilt()
    assert not rebuilt()


def test_the_stations_lines_are_mastered_once_and_kept_like_segments(tmp_path, monkeypatch):
    """The opening and closing lines are kept in the segment store: a rebuild that runs every
    stage masters none of them, and a damaged one is made again with the same bytes."""
    from broadcast import master
    from broadcast.app import Workspace
    from broadcast.model import Week

    root = make_project(tmp_path / "p", FILES)
    week = Week(2026, 49)
    Workspace(root).build(week, jobs=1)
    opening = next((root / "output" / week.id).rglob("messages/loi-mo-dau.mp3")).read_bytes()
    calls: list[str] = []
    real = master.master_message
    monkeypatch.setattr(master, "master_message", lambda *a, **k: calls.append(str(a[2])) or real(*a, **k))
    settings = root / "broadcast.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "# ghi chú\n", encoding="utf-8")  # every stage runs
    result = Workspace(root).build(week, jobs=1)
    assert not result.stats.get("unchanged") and calls == []
    kept = [p for p in (root / ".cache" / "segments").rglob("*.mp3") if p.read_bytes() == opening]
    assert len(kept) == 1, "the opening line is in the segment store, as published"
    for path in kept:
        with path.open("r+b") as handle:
            handle.seek(path.stat().st_size // 2)
            handle.write(b"\x55" * 16)
    settings.write_text(settings.read_text(encoding="utf-8") + "# ghi chú\n", encoding="utf-8")
    Workspace(root).build(week, jobs=1)
    assert len(calls) >= 1
    assert next((root / "output" / week.id).rglob("messages/loi-mo-dau.mp3")).read_bytes() == opening


def test_a_new_sound_masters_the_stations_lines_again(tmp_path, monkeypatch):
    """The opening and closing lines are kept in the segment store under a key naming
    `SOUND_VERSION`, as segments are: a release that changes how speech sounds masters them again
    (they were taken from the store with the old sound, around every program of the new one)."""
    from broadcast import master
    from broadcast.app import Workspace
    from broadcast.model import Week

    root = make_project(tmp_path / "p", FILES)
    week = Week(2026, 49)
    Workspace(root).build(week, jobs=1)
    calls: list[str] = []
    real = master.master_message
    monkeypatch.setattr(master, "master_message", lambda *a, **k: calls.append(str(a[2])) or real(*a, **k))
    monkeypatch.setattr(master, "SOUND_VERSION", master.SOUND_VERSION + 1)
    settings = root / "broadcast.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "# ghi chú\n", encoding="utf-8")  # every stage runs
    Workspace(root).build(week, jobs=1)
    assert len(calls) == 1, "the opening line is mastered with the new sound"


def test_an_edit_made_while_a_build_runs_is_never_taken_for_built(tmp_path, monkeypatch):
    """The inputs are named before the project is read: a script saved just after the build read
    it is not what that build named, so the next build is a real one and airs the edit."""
    import broadcast.app as app_module
    from broadcast.app import Workspace
    from broadcast.model import Week

    root = make_project(tmp_path / "p")
    week = Week(2026, 49)
    script = root / "scripts" / "canh-bao.yaml"
    real_read = app_module.read_project

    def read_then_edit(*args, **kwargs):
        read = real_read(*args, **kwargs)
        script.write_text(script.read_text(encoding="utf-8").replace("Hãy gọi", "Hãy báo ngay"), encoding="utf-8")
        return read

    monkeypatch.setattr(app_module, "read_project", read_then_edit)
    first = Workspace(root).build(week, jobs=1)
    monkeypatch.setattr(app_module, "read_project", real_read)
    aired = next((root / "output" / week.id).rglob("messages/canh-bao.mp3")).read_bytes()
    second = Workspace(root).build(week, jobs=1)
    assert not second.stats.get("unchanged") and second.stats["mastered"] >= 1
    assert second.stats["inputs"] != first.stats["inputs"]
    assert next((root / "output" / week.id).rglob("messages/canh-bao.mp3")).read_bytes() != aired
    assert Workspace(root).build(week, jobs=1).stats.get("unchanged")


def test_voice_files_and_installed_packages_are_inputs(tmp_path, monkeypatch):
    """A voice model or a recordings folder (even outside the usual folders) and the installed
    packages' versions are part of what a build is made from."""
    from importlib import metadata

    import broadcast.build as build_module
    from broadcast.project import files_snapshot
    from broadcast.tts.voices import voice_files

    model = tmp_path / "models" / "giong.onnx"
    model.parent.mkdir()
    model.write_bytes(b"\0" * (2 << 20))  # large: named by its stamp
    recordings = tmp_path / "thu-am"
    recordings.mkdir()
    (recordings / "xin-chao.wav").write_bytes(b"RIFF")

    class Profile:
        def __init__(self, id: str, engine: str, params: dict):
            self.id, self.engine, self.params = id, engine, params

    files = voice_files([Profile("p", "piper", {"model": "models/giong.onnx"}),
                         Profile("r", "recorded", {"folder": "thu-am"}), Profile("e", "espeak", {})], tmp_path)
    assert model in files and recordings in files and model.with_name("giong.onnx.json") in files
    before = files_snapshot(tmp_path, files)
    assert before == files_snapshot(tmp_path, files)
    with model.open("r+b") as handle:
        handle.write(b"\1")
    after_model = files_snapshot(tmp_path, files)
    assert after_model != before
    (recordings / "xin-chao.wav").write_bytes(b"RIFX")
    assert files_snapshot(tmp_path, files) != after_model

    build_module._code.cache_clear()
    now = build_module._code()
    real = metadata.distributions
    monkeypatch.setattr(build_module.metadata, "distributions",
                        lambda: [d for d in real() if d.metadata["Name"].lower() != "icalendar"])
    build_module._code.cache_clear()
    assert build_module._code() != now  # a package changed (here: gone)
    monkeypatch.setattr(build_module.metadata, "distributions", real)
    build_module._code.cache_clear()
    assert build_module._code() == now


def test_a_communes_formats_are_drawn_again_only_when_its_week_changed(tmp_path):
    """An edit to one commune's file rewrites that commune's schedules, playlists, page and feed;
    the other commune keeps its files (same inode), and the week is byte for byte what a build
    from nothing makes of the edited project."""
    from broadcast.app import Workspace
    from broadcast.model import Week

    files = {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"}
    root = make_project(tmp_path / "p", files)
    week = Week(2026, 49)
    Workspace(root).build(week, jobs=1)
    folder = root / "output" / week.id

    def formats(commune: str) -> dict[str, tuple[int, bytes]]:
        base = folder / "lang-son" / commune
        return {p.name: (p.stat().st_ino, p.read_bytes()) for p in base.iterdir()
                if p.is_file() and p.suffix in (".m3u8", ".ics", ".csv", ".html", ".liq", ".xml")}

    chi_lang, huu_lung = formats("xa-chi-lang"), formats("xa-huu-lung")
    assert len(huu_lung) >= 6
    (root / "locales/lang-son/xa-huu-lung.yaml").write_text("name: Xã Hữu Lũng Mới\ncode: '06385'\n", encoding="utf-8")
    result = Workspace(root).build(week, jobs=1)
    assert not result.stats.get("unchanged")
    assert formats("xa-chi-lang") == chi_lang  # kept: same inodes, same bytes
    changed = formats("xa-huu-lung")
    assert all(changed[name][0] != huu_lung[name][0] for name in ("lich-phat-song.ics", "index.html"))
    assert "Xã Hữu Lũng Mới".encode() in changed["index.html"][1]

    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", ".cache"))
    Workspace(fresh).build(week, jobs=1)
    made = {p.relative_to(fresh / "output" / week.id).as_posix(): p.read_bytes()
            for p in (fresh / "output" / week.id).rglob("*") if p.is_file() and p.name != "manifest.json"}
    kept = {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert kept == made


def test_a_rebuild_writes_its_new_programs_over_the_files_the_last_one_replaced(tmp_path, monkeypatch):
    """The program files a rebuild replaces are kept in .cache/spare/, and the next rebuild writes
    its new programs over those very files (same inodes), cut to their new length: the week is
    byte for byte what a build from nothing makes. A spare another name links, or a symlink put
    among them, is never written through; what a build does not reuse it deletes; clean frees all."""
    from broadcast import publish
    from broadcast.app import Workspace
    from broadcast.bundle import verify_folder
    from broadcast.model import Week

    monkeypatch.setattr(publish, "SPARE_MIN_BYTES", 10_000)  # this project's programs last seconds, not minutes
    root = make_project(tmp_path / "p", {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    week = Week(2026, 49)
    folder, spare = root / "output" / week.id, root / ".cache" / "spare"
    script_file = root / "scripts" / "canh-bao.yaml"
    greeting = "Kính thưa bà con {{ locale.name }}!"

    def rebuild(new: str) -> dict:
        nonlocal greeting
        script_file.write_text(script_file.read_text(encoding="utf-8").replace(greeting, new), encoding="utf-8")
        greeting = new
        return Workspace(root).build(week, jobs=1).stats

    def program_inodes() -> set[int]:
        return {p.stat().st_ino for p in folder.rglob("*.mp3") if p.parent.name != "messages"}

    Workspace(root).build(week, jobs=1)
    first = program_inodes()
    stats = rebuild("Kính thưa bà con {{ locale.name }}, xin bà con nghe kỹ thông báo sau đây của đài!")  # longer
    assert stats["recycled"] == 0  # nothing kept yet
    kept = {p.stat().st_ino: p.stat().st_size for p in spare.iterdir()}
    assert first <= set(kept)  # every replaced program (two communes': two files) kept, not deleted
    second = program_inodes()

    stats = rebuild("Kính thưa bà con!")  # shorter than the files written over
    third = program_inodes()
    assert stats["recycled"] == len(third) == len(first)
    assert third <= set(kept)  # the very files kept, written over in place
    assert second <= {p.stat().st_ino for p in spare.iterdir()}  # now these wait for the next build
    assert not set(kept) & {p.stat().st_ino for p in spare.iterdir()}  # unused ones were deleted
    assert verify_folder(folder).exit_code == 0
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", ".cache"))
    Workspace(fresh).build(week, jobs=1)
    made = {p.relative_to(fresh / "output" / week.id).as_posix(): p.read_bytes()
            for p in (fresh / "output" / week.id).rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert made == {p.relative_to(folder).as_posix(): p.read_bytes()
                    for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
    for program in folder.rglob("*.mp3"):
        assert decoded_seconds(program) > 1.0

    # a player still playing this week's programs when the next two rebuilds run (a link count shows
    # names, not open files): what it plays is never written over, though the files become spares
    playing = sorted(p for p in folder.rglob("*.mp3") if p.parent.name != "messages")
    original = [p.read_bytes() for p in playing]
    players = [p.open("rb") for p in playing]
    try:
        held = {os.fstat(player.fileno()).st_ino for player in players}
        rebuild("Kính thưa toàn thể bà con!")
        assert held <= {p.stat().st_ino for p in spare.iterdir()}  # kept as spares...
        stats = rebuild("Kính thưa bà con thân mến!")
        assert not held & program_inodes()  # ...but not written over while open
        for player, was in zip(players, original, strict=True):
            player.seek(0)
            assert player.read() == was
    finally:
        for player in players:
            player.close()
    assert verify_folder(folder).exit_code == 0

    # every spare linked by another name, and a symlink put among them: none is written through
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for p in spare.iterdir():
        os.link(p, elsewhere / p.name)
    before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
    victim = tmp_path / "victim.mp3"
    victim.write_bytes(b"\xff" * 20_000)
    (spare / "9-planted").symlink_to(victim)
    stats = rebuild("Kính thưa bà con!")
    assert stats["recycled"] == 0
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before
    assert victim.read_bytes() == b"\xff" * 20_000
    assert verify_folder(folder).exit_code == 0

    kept_bytes = sum(p.stat().st_size for p in spare.iterdir() if p.is_file() and not p.is_symlink())
    assert kept_bytes > 0
    result = run("clean", "--keep", "1", "--dry-run", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert f"Sẽ xoá tệp chương trình giữ lại để bản dựng sau ghi đè (.cache/spare): {kept_bytes / 1e6:.1f} MB" \
        in result.output
    assert sum(p.stat().st_size for p in spare.iterdir() if p.is_file() and not p.is_symlink()) == kept_bytes
    result = run("clean", "--keep", "1", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert f"Đã xoá tệp chương trình giữ lại để bản dựng sau ghi đè (.cache/spare): {kept_bytes / 1e6:.1f} MB" \
        in result.output
    assert not any(spare.iterdir()) and victim.exists()
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before


def test_a_spare_someone_has_open_is_never_written_over(tmp_path):
    """Staging.recycle hands out only a spare no other name links and no one has open, and the
    one held open keeps its bytes for whoever reads it."""
    from broadcast.publish import SPARE, Staging

    root = tmp_path / "p"
    (root / "output").mkdir(parents=True)
    spare = root / SPARE
    spare.mkdir(parents=True)
    (spare / "a").write_bytes(b"free" * 5000)
    (spare / "b").write_bytes(b"aired" * 5000)  # sorts last: offered first
    staging = Staging(root / "output", "2026-W49")
    try:
        with (spare / "b").open("rb") as player:
            assert staging.recycle(staging.work / "one.mp3")
            assert (staging.work / "one.mp3").read_bytes() == b"free" * 5000  # "a", not the one playing
            assert not staging.recycle(staging.work / "two.mp3")
            assert staging.recycled == 1
            assert player.read() == b"aired" * 5000
    finally:
        staging.discard()


def test_every_new_file_is_on_disk_before_the_week_is_published_and_only_those(tmp_path, monkeypatch):
    """New files are flushed as they are staged, by a thread that waits on the disk while the build
    goes on; the week is swapped in only once all are flushed. A file carried over (a link to one
    already on disk) is not flushed again."""
    from broadcast import publish
    from broadcast.app import Workspace
    from broadcast.model import Week

    flushed: list[int] = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.01)  # a slow disk: publishing without waiting would find files not yet flushed
        real_fsync(fd)
        flushed.append(os.fstat(fd).st_ino)

    at_publish: list[set[int]] = []
    stop = publish.Staging._stop_flusher
    monkeypatch.setattr(os, "fsync", slow_fsync)
    monkeypatch.setattr(publish.Staging, "_stop_flusher", lambda self: (at_publish.append(set(flushed)), stop(self)))
    root = make_project(tmp_path / "p", {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    week = Week(2026, 49)
    folder = root / "output" / week.id
    Workspace(root).build(week, jobs=1)
    inodes = {p.stat().st_ino for p in folder.rglob("*") if p.is_file()} - {(folder / "manifest.json").stat().st_ino}
    assert inodes <= at_publish[-1]

    before = {p: p.stat().st_ino for p in folder.rglob("*") if p.is_file()}
    flushed.clear()
    page = root / "locales/lang-son/xa-huu-lung.yaml"
    page.write_text("name: Xã Hữu Lũng Mới\ncode: '06385'\n", encoding="utf-8")
    Workspace(root).build(week, jobs=1)
    after = {p: p.stat().st_ino for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
    new = {ino for p, ino in after.items() if before.get(p) != ino}
    assert new and new <= at_publish[-1]
    assert not set(flushed) & (set(after.values()) - new)  # carried over: not flushed again


def test_a_week_folder_that_is_a_symlink_keeps_what_it_points_to(tmp_path, monkeypatch):
    """output/<week> put there as a symlink is swapped out like a folder, but what it points to is
    not the build's: nothing there is taken as a spare (or deleted)."""
    from broadcast import publish
    from broadcast.app import Workspace
    from broadcast.model import Week

    monkeypatch.setattr(publish, "SPARE_MIN_BYTES", 10_000)
    root = make_project(tmp_path / "p")
    week = Week(2026, 49)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "lang-son").mkdir(parents=True)
    (elsewhere / "lang-son" / "chuong-trinh.mp3").write_bytes(b"\1" * 50_000)
    (root / "output").mkdir()
    (root / "output" / week.id).symlink_to(elsewhere, target_is_directory=True)
    Workspace(root).build(week, jobs=1)
    assert (elsewhere / "lang-son" / "chuong-trinh.mp3").read_bytes() == b"\1" * 50_000
    assert not (root / "output" / week.id).is_symlink() and (root / "output" / week.id / "manifest.json").is_file()
    assert not (root / publish.SPARE).exists() or not any((root / publish.SPARE).iterdir())


@pytest.mark.parametrize("damage", ["not-a-database", "a-folder"])
def test_a_damaged_studio_database_is_a_clear_machine_error_not_a_traceback(project, damage):
    """With approval: required the build reads the approvals from .studio/studio.db."""
    from conftest import MINIMAL
    root = project({"broadcast.yaml": MINIMAL["broadcast.yaml"] + "approval: required\n"})
    db = root / ".studio" / "studio.db"
    db.parent.mkdir()
    if damage == "a-folder":
        db.mkdir()
    else:
        db.write_bytes(b"PK\x03\x04 this is a zip file, not SQLite" * 100)
    result = run("build", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 3, result.output
    assert ".studio/studio.db" in result.output and "đổi tên" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (root / "output" / "2026-W49").exists()


def test_a_cache_folder_that_cannot_be_made_is_a_machine_error_naming_it(project):
    root = project()
    (root / ".cache").write_text("một tệp nằm đúng chỗ thư mục .cache\n", encoding="utf-8")
    result = run("build", "--week", "2026-W49", "--project", str(root))
    assert result.exit_code == 3, result.output
    assert ".cache/clips" in result.output and "không phải thư mục" in result.output
    assert result.output.count("lỗi") <= 2  # one error, not one per sentence


def test_a_voice_cache_that_cannot_be_written_stops_the_command_as_the_machine_s_problem(tmp_path, monkeypatch):
    """A project on a read-only share: every sentence was reported as its voice failing ('check the
    voice with broadcast doctor', exit 2 for say, every commune failed with exit 1 for build)."""
    import errno

    from broadcast.tts import cache as cache_module

    root = make_project(tmp_path / "p")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", read_only)
    said = run("say", "Gọi 113 khi bị đe dọa.", "-o", str(tmp_path / "thu.mp3"), "--project", str(root))
    assert said.exit_code == 3, said.output
    assert "không ghi được bộ nhớ đệm giọng đọc" in said.output and "doctor" not in said.output
    assert "ổ đĩa chỉ đọc" in said.output and "Read-only" not in said.output  # the system's English, said in Vietnamese
    built = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert built.exit_code == 3 and "bộ nhớ đệm" in built.output and "Traceback" not in built.output, built.output
    assert not (root / "output" / WEEK).exists()


def test_a_clean_or_bundle_killed_half_way_leaves_no_half_week_and_no_partial_zip(built, tmp_path, monkeypatch):
    """kill -9 during `clean` left a week with files missing that still counted as published (verify:
    '24 missing'); during `bundle`, a partial zip nothing ever removed. The next command that takes the
    lock clears both."""
    from broadcast import publish

    source, _ = built
    root = tmp_path / "p"
    shutil.copytree(source, root, symlinks=True)
    output = root / "output"
    shutil.copytree(output / WEEK, output / "2025-W01")
    (output / "bundles" / WEEK).mkdir(parents=True)
    (output / "bundles" / WEEK / ".lang-son_xa-chi-lang.k3j2.zip.tmp").write_bytes(b"PK" * 1000)
    real = shutil.rmtree

    def killed(path, *args, **kwargs):
        if "removing" in str(path):  # some files gone, then the process dies
            next(p for p in Path(path).rglob("*.mp3")).unlink()
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(publish.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        publish.remove_weeks(output, ["2025-W01"])
    monkeypatch.setattr(publish.shutil, "rmtree", real)
    assert publish.published_weeks(output) == [WEEK]  # the half-deleted week is not a published one
    assert run("bundle", "--week", WEEK, "--project", str(root)).exit_code == 0  # takes the lock
    assert not list(output.glob(".*removing*")) and not list(output.glob("bundles/*/.*.zip.tmp"))


def test_a_carried_over_file_the_disk_refuses_names_the_file_being_written_not_the_published_one(tmp_path, monkeypatch):
    """A rebuild links the published week's unchanged files into the staged one; on a disk turned
    read-only the refusal named the published file (the link's source), as if it were the problem."""
    import errno

    from broadcast import publish

    root = make_project(tmp_path / "p")
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    published = {p: p.read_bytes() for p in (root / "output" / WEEK).rglob("*") if p.is_file()}
    script = next((root / "scripts").glob("*.yaml"))
    script.write_text(script.read_text(encoding="utf-8") + "# sửa một chú thích\n", encoding="utf-8")

    def read_only(source, target):
        raise OSError(errno.EROFS, "Read-only file system", str(source), None, str(target))

    monkeypatch.setattr(publish.os, "link", read_only)
    said = run("build", "--week", WEEK, "--jobs", "1", "--project", str(root))
    assert said.exit_code == 3, said.output
    assert "ổ đĩa chỉ đọc" in said.output and ".staging" in said.output, said.output
    assert f"p/output/{WEEK}/" not in said.output.replace("\\", "/")  # the published file is not the problem
    assert {p: p.read_bytes() for p in (root / "output" / WEEK).rglob("*") if p.is_file()} == published


def test_a_commune_gone_since_last_week_is_named_not_silently_dropped(tmp_path):
    """A commune file deleted or renamed (its folder renamed with it): its station got nothing from the
    next week on, and a station script running in the old folder looked there in vain, without a word."""
    root = make_project(tmp_path / "p", {"locales/lang-son/xa-huu-lung.yaml": "name: Xã Hữu Lũng\ncode: '06385'\n"})
    assert run("build", "--week", WEEK, "--jobs", "1", "--project", str(root)).exit_code == 0
    (root / "locales/lang-son/xa-huu-lung.yaml").rename(root / "locales/lang-son/xa-huu-lung-moi.yaml")
    built = run("build", "--week", "2026-W50", "--jobs", "1", "--project", str(root))
    assert built.exit_code == 0, built.output
    assert "lang-son/xa-huu-lung: có trong tuần 2026-W49 nhưng không còn trong dự án" in built.output, built.output
    assert "xa-chi-lang: có trong" not in built.output
    strict = run("build", "--week", "2026-W51", "--jobs", "1", "--strict", "--project", str(root))
    assert strict.exit_code == 0, strict.output  # the week before (2026-W50) already lacked it: said once
    (root / "locales/lang-son/xa-huu-lung-moi.yaml").unlink()
    strict = run("build", "--week", "2026-W52", "--jobs", "1", "--strict", "--project", str(root))
    assert strict.exit_code == 1 and "xa-huu-lung-moi: có trong tuần 2026-W51" in strict.output, strict.output
