"""The generated Liquidsoap script, run for real (Debian's liquidsoap; `.ci/run` installs it): a few seconds
of the current week played to a file. Liquidsoap has no simulated clock, so the files are named for today
and the current minute, as the build names them for their slot.

What must hold: a program airs on its own date only (yesterday's file at this minute does not air), a
week folder published while the script runs is picked up without a restart, and an emergency file
published while a program plays airs at once, then the program resumes; every start and end is an
AS-RUN line. An emergency airs once: an older week's bulletin is never aired, and a restart (a power
cut) does not air again what aired before it."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import threading
import time
import wave
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from broadcast.formats import FORMATS, StationWeek
from broadcast.formats.liquidsoap import upgrade_aired_notes
from broadcast.model import Week

pytestmark = pytest.mark.system
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNE = "lang-son/xa-chi-lang"


def _tone(path: Path, seconds: float, hz: float) -> None:
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.3 * np.sin(2 * np.pi * hz * t) * 32767).astype("<i2").tobytes())


def test_the_script_airs_by_date_picks_up_a_new_week_and_puts_an_emergency_first(tmp_path):
    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    now = datetime.now(TZ)
    if now.second > 35:  # the files are named for this minute: leave time to play them within it
        time.sleep(61 - now.second)
        now = datetime.now(TZ)
    week = Week.containing(now.date())
    output = tmp_path / "output"
    here = output / week.id / COMMUNE
    here.mkdir(parents=True)
    script = FORMATS["liquidsoap"](StationWeek(week, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    minute = now.strftime("%Y-%m-%d_%H%M")
    # this week's program, due now: long enough for a bulletin published 1 s in to be taken (two looks
    # 5 s apart: a file is taken once its size holds) and cut in
    _tone(here / f"{minute}_sang.wav", 14.0, 440)
    _tone(here / f"{(now - timedelta(days=1)):%Y-%m-%d_%H%M}_sang.wav", 2.0, 330)  # yesterday's: never
    old = output / "2020-W01" / COMMUNE  # a week long gone, still kept: its bulletin must not air again
    old.mkdir(parents=True)
    _tone(old / "KHAN-CAP_tin-cu.wav", 1.0, 660)
    ahead = output / "2099-W02" / COMMUNE  # published ahead: its bulletin is in every slot of its week
    ahead.mkdir(parents=True)
    _tone(ahead / "KHAN-CAP_tuan-sau.wav", 1.2, 770)
    # the test runs as root in CI; the station's own script is never told to allow it
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    # the same bulletin aired in another week (re-issued now): noted there, which must not stop it here
    _tone(tmp_path / "bao-lu.wav", 2.0, 880)
    bulletin = hashlib.md5((tmp_path / "bao-lu.wav").read_bytes()).hexdigest()
    # and one of this week that aired under a script of before (notes by name and size): not again
    _tone(here / "KHAN-CAP_da-phat.wav", 1.0, 500)
    old_note = f"{COMMUNE}/KHAN-CAP_da-phat.wav:{(here / 'KHAN-CAP_da-phat.wav').stat().st_size}"
    time.sleep(0.05)
    (output / "lich-phat-song.da-phat").write_text(f"{COMMUNE}/2020-W01/KHAN-CAP_bao-lu.wav:{bulletin}\n{old_note}\n")
    assert upgrade_aired_notes(output, week.id) == 1  # what a build does before the new script starts
    recording = tmp_path / "da-phat.wav"
    run, lines = _start(here, recording)
    try:
        # the emergency is published once the program is heard to start (liquidsoap's own start takes
        # 1 to 5 s on a loaded machine), and 1 s into it
        started = time.monotonic()
        while not any(line.startswith("AS-RUN\t") and f"{minute}_sang.wav" in line for line in list(lines)):
            assert time.monotonic() - started < 30 and run.poll() is None, "".join(lines)
            time.sleep(0.1)
        time.sleep(1.0)
        _tone(here / "KHAN-CAP_bao-lu.wav", 2.0, 880)  # an emergency, published while it plays
        later = output / "2099-W01" / COMMUNE  # another week's folder, published while the script runs
        later.mkdir(parents=True)
        _tone(later / f"{minute}_chieu.wav", 1.5, 550)
        time.sleep(26)
    finally:
        _stop(run)
    log = "".join(lines)
    asrun = [line.split("\t") for line in log.splitlines() if line.startswith("AS-RUN\t")]
    events = [(event, Path(file).name) for _, _, event, file in asrun]
    program, emergency, other = f"{minute}_sang.wav", "KHAN-CAP_bao-lu.wav", f"{minute}_chieu.wav"
    assert ("bat-dau", program) in events, log
    # the emergency cuts in while the program plays; then the program resumes where it was, not from its start
    starts = [i for i, e in enumerate(events) if e == ("bat-dau", program)]
    ends = [i for i, e in enumerate(events) if e == ("ket-thuc", program)]
    assert len(starts) == 2 and len(ends) == 2, events
    assert starts[0] < ends[0] < events.index(("bat-dau", emergency)) < events.index(("ket-thuc", emergency)) \
        < starts[1] < ends[1], events
    at = [datetime.fromisoformat(when) for when, _, _ in [(a[1], a[2], a[3]) for a in asrun]]
    first_part = (at[ends[0]] - at[starts[0]]).total_seconds()
    second_part = (at[ends[1]] - at[starts[1]]).total_seconds()
    assert 12.0 <= first_part + second_part <= 16.0, (first_part, second_part)  # 14 s in all, not 14 s more
    assert ("bat-dau", other) in events  # picked up from a week folder that appeared later
    assert not any(name.startswith(f"{(now - timedelta(days=1)):%Y-%m-%d}") for _, name in events)
    with wave.open(str(recording)) as w:
        seconds = w.getnframes() / w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert seconds > 10 and np.abs(samples).max() > 5000  # sound was played to the file
    assert "KHAN-CAP_tin-cu" not in log  # an older week's bulletin
    assert ("bat-dau", "KHAN-CAP_tuan-sau.wav") not in events  # a later week's: noted, not aired now
    # noted outside the week's folder, which a rebuild replaces whole (and `verify` would call it extra)
    noted = {f"{w}/{name}:{hashlib.md5((folder / name).read_bytes()).hexdigest()}"
             for w, folder, name in ((week.id, here, "KHAN-CAP_bao-lu.wav"), ("2099-W02", ahead, "KHAN-CAP_tuan-sau.wav"))}
    assert "KHAN-CAP_da-phat" not in log  # aired before the upgrade: not again
    upgraded = f"{COMMUNE}/{week.id}/KHAN-CAP_da-phat.wav:{hashlib.md5((here / 'KHAN-CAP_da-phat.wav').read_bytes()).hexdigest()}"
    assert sorted((output / "lich-phat-song.da-phat").read_text().splitlines()) == sorted(
        [f"{COMMUNE}/2020-W01/KHAN-CAP_bao-lu.wav:{bulletin}", old_note, upgraded]
        + [f"{COMMUNE}/{key}" for key in noted] + [f"{COMMUNE}/{program}", f"{COMMUNE}/{other}"])  # and the programs
    assert not [p for p in output.rglob("*.da-phat") if p.parent != output]

    # the station's PC restarts: what aired before is not aired again
    again, relog = _start(here, tmp_path / "lan-hai.wav")
    try:
        time.sleep(10)
    finally:
        _stop(again)
    assert "tin khẩn cấp" not in "".join(relog), "".join(relog)

    # the bulletin corrected (a digit of a number: the same length, other bytes): it airs again, once
    _tone(here / "KHAN-CAP_bao-lu.wav", 2.0, 990)
    third, corrected = _start(here, tmp_path / "lan-ba.wav")
    try:
        time.sleep(15)  # the start (1 to 5 s), two looks 5 s apart (a file is taken once its size holds), 2 s
    finally:
        _stop(third)
    aired = [Path(line.split("\t")[3].strip()).name for line in corrected
             if line.startswith("AS-RUN\t") and "\tbat-dau\t" in line]  # the programs of this minute air too
    assert [name for name in aired if name.startswith("KHAN-CAP")] == ["KHAN-CAP_bao-lu.wav"], "".join(corrected)


def _start(here: Path, recording: Path) -> tuple[subprocess.Popen, list[str]]:
    run = subprocess.Popen(["liquidsoap", "chay-thu.liq"], cwd=here, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env={"LICH_PHAT_FILE": str(recording),
                                                                     "PATH": "/usr/bin:/bin"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stdout or ()), daemon=True)
    reader.start()
    run.reader = reader  # type: ignore[attr-defined]
    return run, lines


def _stop(run: subprocess.Popen) -> None:
    run.terminate()
    run.wait(timeout=30)
    run.reader.join(timeout=30)  # type: ignore[attr-defined]


def test_a_folder_unzipped_from_a_bundle_airs_its_bulletins_and_goes_on_when_notes_cannot_be_written(tmp_path):
    """The station PC: the commune folder unzipped from `broadcast bundle` (C:\\Users\\op\\Desktop\\xa-chi-lang),
    no output/ around it. The notes' old place, three folders up, could not be opened (C:\\Users, /home): the
    first bulletin stopped the script's clock, and every program after it aired as silence. This week's bundle
    was unzipped over last week's while last week's script runs: its bulletin must air, a bulletin left over
    from an older bundle (not in SHA256SUMS) must not."""
    from broadcast.bundle import _readme

    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    now = datetime.now(TZ)
    if now.second > 35:
        time.sleep(61 - now.second)
        now = datetime.now(TZ)
    week = Week.containing(now.date())
    last_week = Week.containing(now.date() - timedelta(days=7))
    desktop = tmp_path / "op" / "Desktop"
    here = desktop / "xa-chi-lang"
    here.mkdir(parents=True)
    (tmp_path / "lich-phat-song.da-phat").mkdir()  # three folders up: a place that cannot be written
    script = FORMATS["liquidsoap"](StationWeek(last_week, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    minute = now.strftime("%Y-%m-%d_%H%M")
    _tone(here / f"{minute}_sang.wav", 3.0, 440)
    _tone(here / "KHAN-CAP_moi.wav", 1.0, 880)  # this week's bundle's bulletin
    _tone(here / "KHAN-CAP_cu.wav", 1.0, 660)  # left by an older bundle
    (here / "HUONG-DAN.txt").write_bytes(("\ufeff" + _readme(week, COMMUNE, "Bản tin", 3)).replace("\n", "\r\n")
                                         .encode())
    (here / "SHA256SUMS").write_text("".join(f"{'0' * 64}  {name}\n" for name in
                                             (f"{minute}_sang.wav", "KHAN-CAP_moi.wav", "HUONG-DAN.txt")))
    def ends(log: list[str]) -> list[str]:
        return [Path(line.split("\t")[3].strip()).name for line in log
                if line.startswith("AS-RUN\t") and "\tket-thuc\t" in line]

    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        started = time.monotonic()
        # found in one look, the two may start in either order (the bulletin then cuts in, and the program
        # resumes after it): wait for the program to end after the bulletin did
        while not ("KHAN-CAP_moi.wav" in ends(list(lines)) and
                   ends(list(lines))[-1] == f"{minute}_sang.wav"):
            assert time.monotonic() - started < 30 and run.poll() is None, "".join(lines)
            time.sleep(0.2)
    finally:
        _stop(run)
    log = "".join(lines)
    aired = [Path(line.split("\t")[3].strip()).name for line in log.splitlines()
             if line.startswith("AS-RUN\t") and "\tbat-dau\t" in line]
    assert aired.count("KHAN-CAP_moi.wav") == 1 and f"{minute}_sang.wav" in aired, log
    assert "KHAN-CAP_cu.wav" not in aired, log  # left by an older bundle: not in SHA256SUMS
    digest = hashlib.md5((here / "KHAN-CAP_moi.wav").read_bytes()).hexdigest()
    assert sorted((desktop / "lich-phat-song.da-phat").read_text().splitlines()) == \
        [f"{COMMUNE}/{minute}_sang.wav", f"{COMMUNE}/{week.id}/KHAN-CAP_moi.wav:{digest}"]

    # restarted after a power cut: not again; with the notes beside the folder unreadable, the clock goes on
    again, relog = _start(here, tmp_path / "lan-hai.wav")
    try:
        time.sleep(8)
    finally:
        _stop(again)
    assert "tin khẩn cấp" not in "".join(relog), "".join(relog)
    (desktop / "lich-phat-song.da-phat").unlink()
    (desktop / "lich-phat-song.da-phat").mkdir()
    _tone(here / "KHAN-CAP_moi.wav", 1.0, 990)  # corrected
    third, log3 = _start(here, tmp_path / "lan-ba.wav")
    try:
        time.sleep(15)
    finally:
        _stop(third)
    aired = [Path(line.split("\t")[3].strip()).name for line in log3 if line.startswith("AS-RUN\t")
             and "\tbat-dau\t" in line]
    # the corrected one airs (before the program or cutting into it), and the note it cannot write is said
    assert aired.count("KHAN-CAP_moi.wav") == 1 and "KHÔNG GHI ĐƯỢC" in "".join(log3), "".join(log3)
    assert "Uncaught" not in "".join(log3)


def test_in_a_bundle_folder_a_program_an_earlier_bundle_of_its_week_left_does_not_air(tmp_path):
    """The week on air is rebuilt with a slot moved or dropped (the schedule changed), bundled again and
    unzipped over the station's folder: the old bundle's program of that slot stays beside the new ones,
    named for its date and time, and aired as if it were still the plan. A program of the week before (its
    bundle unzipped over on Friday, its weekend still to air) does air, listed or not."""
    from broadcast.bundle import _readme

    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    now = datetime.now(TZ)
    if now.second > 35:
        time.sleep(61 - now.second)
        now = datetime.now(TZ)
    week = Week.containing(now.date())
    here = tmp_path / "op" / "Desktop" / "xa-chi-lang"
    here.mkdir(parents=True)
    script = FORMATS["liquidsoap"](StationWeek(week, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    minute = now.strftime("%Y-%m-%d_%H%M")

    def unzipped(bundle_week: Week, listed: list[str]) -> None:
        (here / "HUONG-DAN.txt").write_bytes(("\ufeff" + _readme(bundle_week, COMMUNE, "Bản tin", len(listed)))
                                             .replace("\n", "\r\n").encode())
        (here / "SHA256SUMS").write_text("".join(f"{'0' * 64}  {name}\n" for name in [*listed, "HUONG-DAN.txt"]))

    def aired(log: list[str]) -> list[str]:
        return [Path(line.split("\t")[3].strip()).name for line in log
                if line.startswith("AS-RUN\t") and "\tbat-dau\t" in line]

    _tone(here / f"{minute}_sang.wav", 2.0, 440)  # the slot as rebuilt: listed
    _tone(here / f"{minute}_trua.wav", 2.0, 330)  # the old bundle's, of a slot the rebuild moved: not listed
    unzipped(week, [f"{minute}_sang.wav"])
    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        _wait_for(run, lines, f"\tket-thuc\t{here}/{minute}_sang.wav")
        time.sleep(11)  # two looks more: the old one is settled and due, and still not aired
    finally:
        _stop(run)
    assert aired(lines) == [f"{minute}_sang.wav"], "".join(lines)

    # next week's bundle unzipped over on a Friday: today's programs, of the week before its own, still air
    for name in (f"{minute}_sang.wav", f"{minute}_trua.wav"):
        (here / name).unlink()
    _tone(here / f"{minute}_chieu.wav", 1.0, 550)
    next_week = Week.containing(now.date() + timedelta(days=7))
    unzipped(next_week, [f"{next_week.monday:%Y-%m-%d}_0600_sang.wav"])
    again, relog = _start(here, tmp_path / "lan-hai.wav")
    try:
        _wait_for(again, relog, f"\tbat-dau\t{here}/{minute}_chieu.wav")
    finally:
        _stop(again)


def test_a_bulletin_still_being_copied_in_airs_once_whole(tmp_path):
    """Unzipped or copied from a USB stick while the script runs, a bulletin was aired as far as it had
    arrived (a WAV cut short, an MP3 of its first frames), and once whole it had other bytes: it aired
    again as a corrected one. A file is taken once its size is the one it had at the look before."""
    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    week = Week.containing(datetime.now(TZ).date())
    output = tmp_path / "output"
    here = output / week.id / COMMUNE
    here.mkdir(parents=True)
    script = FORMATS["liquidsoap"](StationWeek(week, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    _tone(tmp_path / "tin.wav", 3.0, 880)
    whole = (tmp_path / "tin.wav").read_bytes()
    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        started = time.monotonic()
        while not any("Streaming loop starts" in line for line in list(lines)):
            assert time.monotonic() - started < 30 and run.poll() is None, "".join(lines)
            time.sleep(0.1)
        bulletin = here / "KHAN-CAP_dang-chep.wav"
        with bulletin.open("wb") as copying:  # a quarter every 2.5 s: seen growing by two looks or more
            for quarter in range(4):
                copying.write(whole[quarter * len(whole) // 4:(quarter + 1) * len(whole) // 4])
                copying.flush()
                time.sleep(2.5)
        while not any("\tket-thuc\t" in line and bulletin.name in line for line in list(lines)):
            assert time.monotonic() - started < 45 and run.poll() is None, "".join(lines)
            time.sleep(0.2)
        time.sleep(6)  # another look or more: the whole file is not aired again as a new one
    finally:
        _stop(run)
    log = "".join(lines)
    asrun = [line.split("\t") for line in log.splitlines() if line.startswith("AS-RUN\t")]
    assert [(event, Path(name.strip()).name) for _, _, event, name in asrun] == [
        ("bat-dau", bulletin.name), ("ket-thuc", bulletin.name)], log
    aired = (datetime.fromisoformat(asrun[1][1]) - datetime.fromisoformat(asrun[0][1])).total_seconds()
    assert aired >= 2.0, log  # the whole 3 s, to the second the log gives
    assert (output / "lich-phat-song.da-phat").read_text() == \
        f"{COMMUNE}/{week.id}/{bulletin.name}:{hashlib.md5(whole).hexdigest()}\n"


def _station(tmp_path: Path) -> tuple[Week, Path, Path]:
    week = Week.containing(datetime.now(TZ).date())
    output = tmp_path / "output"
    here = output / week.id / COMMUNE
    here.mkdir(parents=True)
    script = FORMATS["liquidsoap"](StationWeek(week, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    return week, output, here


def _wait_for(run: subprocess.Popen, lines: list[str], text: str, limit: float = 30) -> None:
    started = time.monotonic()
    while not any(text in line for line in list(lines)):
        assert time.monotonic() - started < limit and run.poll() is None, "".join(lines)
        time.sleep(0.1)


def test_a_week_published_again_while_the_script_runs_in_it_still_airs(tmp_path):
    """The script runs in output/<week>/<province>/<commune>/. A rebuild of the week on air, or a bulletin
    added by `broadcast emergency`, swaps the new week folder in for the old one in one step (Linux
    renameat2) and deletes the old: the script's "." was that deleted folder, and "../../.." led nowhere,
    so neither the bulletin nor any program after it aired, without a word in the log."""
    from broadcast.publish import _exchange

    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    week, output, here = _station(tmp_path)
    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        _wait_for(run, lines, "Streaming loop starts")
        staged = output / ".staging" / f"{week.id}-1"
        shutil.copytree(output / week.id, staged)
        _tone(staged / COMMUNE / "KHAN-CAP_bo-sung.wav", 1.0, 880)  # what `broadcast emergency` publishes
        assert _exchange(staged, output / week.id)
        shutil.rmtree(staged)
        _wait_for(run, lines, "\tket-thuc\t", limit=20)
        program = f"{datetime.now(TZ):%Y-%m-%d_%H%M}_sang.wav"  # and the programs after it
        _tone(output / week.id / COMMUNE / program, 1.0, 440)
        _wait_for(run, lines, f"/{program}", limit=20)
    finally:
        _stop(run)


def test_the_script_goes_on_when_the_week_it_was_started_in_is_cleaned_away(tmp_path):
    """A station starts the script once, in the week of the day it was set up, and leaves it running (it
    finds every later week by itself). `broadcast clean --keep N` deletes that week some weeks later: the
    script reached output/ through "<its folder>/../../..", which then led nowhere, and Liquidsoap's
    listing of it stopped the looks for good: no program aired again, and the log said it once."""
    from broadcast.publish import remove_weeks

    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    now = datetime.now(TZ)
    started_in = Week.containing(now.date() - timedelta(days=35))
    output = tmp_path / "output"
    here = output / started_in.id / COMMUNE
    here.mkdir(parents=True)
    (output / started_in.id / "manifest.json").write_text("{}")
    script = FORMATS["liquidsoap"](StationWeek(started_in, COMMUNE, "Xã Chi Lăng", "Đài truyền thanh xã Chi Lăng",
                                               "Lạng Sơn", (), ()))["lich-phat-song.liq"]
    (here / "lich-phat-song.liq").write_bytes(script)
    (here / "chay-thu.liq").write_text('settings.init.allow_root.set(true)\n%include "lich-phat-song.liq"\n')
    this_week = output / Week.containing(now.date()).id / COMMUNE
    this_week.mkdir(parents=True)
    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        _wait_for(run, lines, "Streaming loop starts")
        assert remove_weeks(output, [started_in.id]) >= 0 and not here.exists()  # what `clean` does
        time.sleep(6)  # a look or more with the folder gone
        program = f"{datetime.now(TZ):%Y-%m-%d_%H%M}_sang.wav"
        _tone(this_week / program, 1.0, 440)
        _wait_for(run, lines, f"/{program}", limit=20)
    finally:
        _stop(run)
    assert "No such file" not in "".join(lines), "".join(lines)


def test_a_bulletin_whose_size_is_set_before_its_bytes_airs_once_whole(tmp_path):
    """Windows' CopyFile (Explorer copying from a USB stick) sets a file's size first and fills its bytes in
    after: the size held from one look to the next while the copy went on, and the bulletin aired as zeros
    and half-copied audio, then again at every look that saw other bytes, as a corrected one."""
    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    week, output, here = _station(tmp_path)
    _tone(tmp_path / "tin.wav", 2.0, 880)
    whole = (tmp_path / "tin.wav").read_bytes()
    run, lines = _start(here, tmp_path / "da-phat.wav")
    try:
        _wait_for(run, lines, "Streaming loop starts")
        bulletin = here / "KHAN-CAP_chep-tu-usb.wav"
        with bulletin.open("wb") as copying:
            copying.truncate(len(whole))
            for eighth in range(8):  # an eighth every 2.5 s: the same size at three looks or more
                copying.seek(eighth * len(whole) // 8)
                copying.write(whole[eighth * len(whole) // 8:(eighth + 1) * len(whole) // 8])
                copying.flush()
                time.sleep(2.5)
        _wait_for(run, lines, "\tket-thuc\t", limit=20)
        time.sleep(6)  # another look or more: the whole file is not aired again as a new one
    finally:
        _stop(run)
    log = "".join(lines)
    assert [line.split("\t")[2] for line in log.splitlines() if line.startswith("AS-RUN\t")] == \
        ["bat-dau", "ket-thuc"], log
    assert (output / "lich-phat-song.da-phat").read_text() == \
        f"{COMMUNE}/{week.id}/{bulletin.name}:{hashlib.md5(whole).hexdigest()}\n"


def test_a_station_started_in_a_slot_joins_its_program_where_it_would_be_and_never_twice(tmp_path):
    """Commune PCs lose power often. A program was started only up to 2 minutes after its time: a PC that
    booted, or a script restarted, 5 minutes into a 15-minute slot aired nothing of it. It now joins the
    program at the second it would be at (what is heard keeps to the printed schedule), its AS-RUN start says
    so, a bulletin cutting in does not make it start over, a restart in the slot (the power cut again) goes on
    from the second it would be at, not from the top, and a program whose time is over does not air."""
    from broadcast.asrun import parse_log

    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    now = datetime.now(TZ)
    if now.hour == 0 and now.minute < 11:
        pytest.skip("the slots below would be yesterday's (a slot never runs past midnight)")
    week, output, here = _station(tmp_path)
    slot = (now - timedelta(minutes=3)).replace(second=0, microsecond=0)  # the slot began 3 to 4 minutes ago
    program, over = f"{slot:%Y-%m-%d_%H%M}_sang.wav", f"{now - timedelta(minutes=10):%Y-%m-%d_%H%M}_trua.wav"
    length = (now - slot).total_seconds() + 90
    rate = 16000
    t = np.arange(int(length * rate)) / rate  # a sweep: at second p of the program it sounds 300 + p Hz
    with wave.open(str(here / program), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.3 * np.sin(2 * np.pi * (300 * t + t * t / 2)) * 32767).astype("<i2").tobytes())
    _tone(here / over, 60.0, 330)  # began 10 minutes ago, a minute long: over
    recording = tmp_path / "da-phat.wav"
    run, lines = _start(here, recording)
    try:
        _wait_for(run, lines, f"\tbat-dau\t{here}/{program}")
        time.sleep(1.5)
        _tone(here / "KHAN-CAP_giua-chung.wav", 2.0, 880)  # a bulletin cuts in; the program then goes on
        _wait_for(run, lines, f"\tket-thuc\t{here}/KHAN-CAP_giua-chung.wav", limit=30)
        started = time.monotonic()
        while len([line for line in list(lines) if f"\tbat-dau\t{here}/{program}" in line]) < 2:
            assert time.monotonic() - started < 10 and run.poll() is None, "".join(lines)
            time.sleep(0.1)
        time.sleep(2)
    finally:
        _stop(run)  # the power goes off, the program still to air for a minute
    log = "".join(lines)
    starts = [line.split("\t") for line in log.splitlines() if line.startswith("AS-RUN\t") and
              f"\tbat-dau\t{here}/{program}" in line]
    assert len(starts) == 2 and len(starts[1]) == 4, log  # resumed after the bulletin: not joined again
    assert starts[0][4].startswith("vao-muon="), log
    joined_at = float(starts[0][4].removeprefix("vao-muon="))
    heard = datetime.fromisoformat(starts[0][1])
    assert abs((heard - slot.replace(tzinfo=None)).total_seconds() - joined_at) <= 2, (heard, joined_at)
    # and the sound is the program's at that second: the sweep's pitch where the recording first sounds
    with wave.open(str(recording)) as w:
        channels, recorded_rate = w.getnchannels(), w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")[::channels].astype(float)
    first = int(np.argmax(np.abs(samples) > 3000)) + recorded_rate // 10
    window = samples[first:first + recorded_rate]
    pitch = np.argmax(np.abs(np.fft.rfft(window * np.hanning(len(window))))) * recorded_rate / len(window)
    assert abs(pitch - 300 - 0.6 - joined_at) <= 2.5, (pitch, joined_at)  # 0.6 s: the window's middle
    assert over not in "".join(line for line in log.splitlines() if line.startswith("AS-RUN\t"))
    assert f"{over} đã hết giờ phát" in log, log
    plays = [p for p in parse_log(log, "liquidsoap.log") if p.file == program]
    assert [p.offset for p in plays] == [joined_at, 0.0]  # what `broadcast asrun import` reads of it
    assert f"{COMMUNE}/{program}" in (output / "lich-phat-song.da-phat").read_text().splitlines()

    # the power comes back within the slot: the program goes on from the second it would be at, never from the top
    again, relog = _start(here, tmp_path / "lan-hai.wav")
    try:
        _wait_for(again, relog, f"\tbat-dau\t{here}/{program}")
        time.sleep(6)  # a look more: queued once
    finally:
        _stop(again)
    relog_text = "".join(relog)
    assert f"{program} đã bắt đầu trước khi khởi động lại: phát tiếp" in relog_text, relog_text
    [resumed] = [line.split("\t") for line in relog_text.splitlines() if line.startswith("AS-RUN\t")
                 and f"\tbat-dau\t{here}/{program}" in line]
    at = float(resumed[4].removeprefix("vao-muon="))
    heard = datetime.fromisoformat(resumed[1])
    assert at > joined_at + 5 and abs((heard - slot.replace(tzinfo=None)).total_seconds() - at) <= 2, (heard, at)
    assert datetime.now(TZ) < slot + timedelta(seconds=length)  # it would still have been playing


def test_a_script_of_new_code_beside_the_running_one_is_said_once(tmp_path):
    """A station runs one script week after week, so after an update of broadcast it kept the old code, and the
    mistakes the update fixed, for ever: a new bundle unzipped over its folder (or a week published by the new
    version) held a script of other code, and nothing said to restart. The running script says it, once."""
    assert shutil.which("liquidsoap"), "liquidsoap is not installed: apt-get install -y liquidsoap"
    week, output, here = _station(tmp_path)
    script = here / "lich-phat-song.liq"
    run, lines = _start(here, tmp_path / "phat.wav")
    try:
        _wait_for(run, lines, "Streaming loop starts")
        time.sleep(6)  # a look more over its own script: nothing to say
        assert "CÓ KỊCH BẢN MỚI" not in "".join(lines), "".join(lines)
        text = script.read_text(encoding="utf-8")
        code = re.search(r"^# mã kịch bản: ([0-9a-f]+)", text, re.M).group(1)
        script.write_text(text.replace(code, "0123456789ab"), encoding="utf-8")  # the new bundle's, unzipped over
        _wait_for(run, lines, "CÓ KỊCH BẢN MỚI")
        time.sleep(11)  # two looks more: said once
    finally:
        _stop(run)
    said = [line for line in lines if "CÓ KỊCH BẢN MỚI" in line]
    assert len(said) == 1 and "tắt rồi chạy lại Liquidsoap" in said[0], "".join(lines)
