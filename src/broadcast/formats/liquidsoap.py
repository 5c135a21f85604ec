"""lich-phat-song.liq: a Liquidsoap 2.x script that airs the commune's programs at their times.

The script is bound to dates, not to one week's weekdays: every 5 seconds it looks, in this
folder and in the commune's folder of every week published beside it (output/<week>/<province>/
<commune>/), for a program file named with today's date and a time gone by (2026-12-01_0600_sang.mp3)
and queues it once: whole up to 2 minutes late; later (a station started, or restarted after a power
cut, in the slot), while it would still be playing, from the second it would be at now (Liquidsoap's
`liq_cue_in` and `cue_cut`), so that what is heard keeps to the printed schedule, its AS-RUN start
ending with `vao-muon=<second>`. A program queued is noted as the bulletins are, so a restart in its
slot (a power cut mid-program) goes on from the second it would be at, never from the top again. So a
file airs only on its
own date, and a script left running past Sunday goes on with the next published week without a
restart. A new `KHAN-CAP_*` file (an emergency) is aired as soon as it appears, interrupting the
program, which then resumes; once only, and only from the week on air: what aired is noted in
`output/lich-phat-song.da-phat` (outside the weeks, which a rebuild replaces whole) by commune,
week, name and MD5, so a restart (a power cut) does not air it again, while the same bulletin
re-issued in a later week, or corrected in this one, airs; an older week's bulletins are never aired, and a
later week's (published ahead, their bulletin already first in every slot of that week) are
noted, not aired at midnight when their week begins. Every track start and end is logged
as an `AS-RUN` line, the input of `broadcast asrun import`.

A file is taken once its content (MD5) is the one it had at the look before (5 s earlier): one still
being copied or unzipped in aired as far as it had arrived, and a bulletin then aired again whole, as a
corrected one. Its size is not enough: Windows' CopyFile (Explorer) sets it before the bytes arrive.

The script names its folder by the full name it had at the start: a week published again (a rebuild,
`broadcast emergency`) is swapped in for the old folder in one step on Linux, and "." would stay the old
one, deleted: nothing in it or reached from it aired again. It names output/ by its full name too, not as
"<its folder>/../../..": a script left running for months outlives the week it was started in, which
`broadcast clean` deletes, and Liquidsoap's listing of a folder that is not there is an error no `try`
catches (the looks stopped for good, and every program after them with them).

A commune folder unzipped from a station bundle (`broadcast bundle`) stands alone: no output/ around
it, and the next week's bundle is unzipped over it while the script runs. There the folder's week is
the one its HUONG-DAN.txt names (the last bundle unzipped), a bulletin airs only if that bundle's
SHA256SUMS lists it (an older bundle's left behind does not air again), so does a program of that week
(a bundle of the week made before a rebuild moved or dropped a slot left its program behind, named for
its date and time; the week before's programs, unzipped over early, still air on their dates), and the
notes go beside the folder, where the operator unzipped it (`../../..` is C:\\Users or /home there, not
writable). A note that cannot be written is logged and kept in memory: it used to stop the script's clock
for good, and with it every program after, on air as silence.

Written for Liquidsoap 2.1 (Debian 12's). The station sets its sound card in the output line, or
sets LICH_PHAT_FILE to record what airs to a file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..bundle import LIQUIDSOAP, README, SCRIPT_CODE, SUMS
from .model import StationWeek
from .text import liquidsoap_comment, liquidsoap_string

AIRED = "lich-phat-song.da-phat"  # in output/: what the stations' scripts have aired, a line each (bulletins, programs)
_OLD_NOTE = re.compile(r"^([a-z0-9-]+/[a-z0-9-]+)/(KHAN-CAP_[^/:]+):([0-9]+)$")

ASRUN_MARK = "AS-RUN"  # the log lines `broadcast asrun import` reads: AS-RUN <tab> time <tab> event <tab> file
ASRUN_JOINED = "vao-muon="  # a fifth field of a program's start: joined late, at this second of it
GRACE_MINUTES = 2  # a program is still started whole this long after its time (a PC that woke late); later, joined
SCRIPT = """\
# Lịch phát sóng {station}, tuần {week} và các tuần sau. Tạo bởi broadcast; không sửa tay.
# Chạy trong thư mục này: liquidsoap lich-phat-song.liq (Liquidsoap 2.x)
# Mỗi 5 giây, kịch bản tìm tệp chương trình mang đúng ngày và giờ hiện tại trong thư mục này và
# trong thư mục của xã ở mọi tuần đã phát hành, nên chạy liên tục sang tuần sau không cần khởi động
# lại; tệp KHAN-CAP_* mới có thì phát ngay (một lần: ghi vào output/lich-phat-song.da-phat, khởi
# động lại không phát lại), rồi phát tiếp chương trình đang dở. Khởi động muộn quá 2 phút trong giờ
# một buổi phát (hoặc mất điện giữa chừng): phát tiếp chương trình từ chỗ lẽ ra đang phát, không
# phát lại từ đầu.
{code_line}
settings.log.stdout.set(true)
time.zone.set("Asia/Ho_Chi_Minh")

commune = {commune}
# this folder by its full name, found once at the start: a week published again while the script runs (a
# rebuild, a bulletin added by `broadcast emergency`) is swapped in for the old folder in one step (Linux),
# and "." stays the old one, emptied and deleted: nothing in it, or reached from it, would air again
def start_folder() =
  try
    folder = string.trim(process.read("pwd"))
    if folder != "" and file.is_directory(folder) then folder else "." end
  catch err do
    ignore(err)
    "."
  end
end
here = start_folder()
# output/ by its own full name, not through "here": `broadcast clean` deletes old weeks, the one the script
# was started in among them, and "<here>/../../.." then led nowhere: the look crashed and nothing aired again
output_dir = if here == "." then "../../.." else path.dirname(path.dirname(path.dirname(here))) end
grace_minutes = {grace}
first_week = {week_string}  # bulletins of weeks before this one are never aired
# run in output/<week>/<province>/<commune>/, the notes and the other weeks are in output/; a folder
# unzipped from a station bundle stands alone (later bundles unzipped over it): its week is the one
# its HUONG-DAN.txt names, its bulletins are those its SHA256SUMS lists, its notes go beside it
standalone = not file.is_directory("#{{output_dir}}/#{{first_week}}/#{{commune}}")
def here_week() =
  if standalone and file.exists("#{{here}}/{readme}") then
    list.assoc(default=first_week, 1,
               string.extract(pattern="tuần ([0-9]{{4}}-W[0-9]{{2}})", file.contents("#{{here}}/{readme}")))
  else
    first_week
  end
end
def listed(name) =
  if standalone and file.exists("#{{here}}/{sums}") then
    string.contains(substring="  #{{name}}\n", file.contents("#{{here}}/{sums}"))
  else
    true
  end
end
# the first day of the folder's week (yyyy-mm-dd), from its HUONG-DAN.txt; "" outside a bundle's folder
def here_monday() =
  if standalone and file.exists("#{{here}}/{readme}") then
    day = string.extract(pattern="tuần [0-9]{{4}}-W[0-9]{{2}} [(]([0-9]{{2}})/([0-9]{{2}})/([0-9]{{4}})",
                         file.contents("#{{here}}/{readme}"))
    if list.length(day) == 3 then
      "#{{list.assoc(default='', 3, day)}}-#{{list.assoc(default='', 2, day)}}-#{{list.assoc(default='', 1, day)}}"
    else
      ""
    end
  else
    ""
  end
end
# a program of the folder's week airs only if its bundle lists it: one that a bundle of the same week made
# before a rebuild left behind (a slot moved or dropped) is not the plan any more; one of an earlier week
# (the week before, its bundle unzipped over on Friday while its weekend was still to air) airs on its date
def planned(name) =
  monday = here_monday()
  monday == "" or string.sub(name, start=0, length=10) < monday or listed(name)
end

seen = ref([])  # the programs dealt with: queued, noted as queued before a restart, or over

aired_file = if standalone then "#{{here}}/../{aired}" else "#{{output_dir}}/{aired}" end  # lines name their commune
def first_line(text) =
  list.hd(default=text, string.split(separator="\n", text))
end
def read_aired() =
  try
    if file.exists(aired_file) then file.lines(aired_file) else [] end
  catch err do
    log(label="lich-phat-song", "KHÔNG ĐỌC ĐƯỢC #{{aired_file}} (#{{first_line(err.message)}})")
    []
  end
end
aired = ref(read_aired())
# true the first time: what aired is noted, so that a restart (a power cut) does not air it again. A bulletin
# is its week, its name and its bytes (MD5): the same name re-issued in a later week, or corrected in this
# one (often the same length: a digit changed), airs again. A program is its name (its date and time)
def first_time(name) =
  key = "#{{commune}}/#{{name}}"
  if list.mem(key, !aired) then
    false
  else
    aired := list.cons(key, !aired)
    try
      file.write(append=true, data="#{{key}}\n", aired_file)
    catch err do  # still aired once while the script runs; a restart may air it again
      log(label="lich-phat-song",
          "KHÔNG GHI ĐƯỢC #{{aired_file}} (#{{first_line(err.message)}}): khởi động lại có thể phát lại #{{name}}")
    end
    true
  end
end

# file.ls of a folder that is not there is an error no `try` catches: it ended the looks for good
def weeks() =
  if file.is_directory(output_dir) then
    list.filter(fun (w) -> string.match(pattern="^[0-9]{{4}}-W[0-9]{{2}}$", w), file.ls(output_dir))
  else
    []
  end
end

# the ISO week on air, as the folders name it: the year and week of this week's Thursday
def current_week() =
  now = time()
  week_day = time.local(now).week_day
  thursday = time.local(now + float((4 - (if week_day == 0 then 7 else week_day end)) * 86400))
  week = (thursday.year_day - 1) / 7 + 1
  "#{{thursday.year}}-W#{{if week < 10 then '0' else '' end}}#{{week}}"
end

def audio(name) =
  string.contains(suffix=".mp3", name) or string.contains(suffix=".wav", name)
end

# a file still being copied or unzipped in (from a USB stick, by Explorer) is not aired half-written (and
# then again, whole, as a new bulletin): it is taken once its content (MD5) is the one it had at the look
# before; its size is not enough, a copier that sets it first (Windows' CopyFile) fills the bytes in after.
# Its MD5 then, or "" while it is not taken. Only the last look's are kept: the list does not grow
looked = ref([])
looking = ref([])
def settled(path) =
  digest = try
    if file.size(path) > 0 then file.digest(path) else "" end
  catch err do  # locked by the copier, or gone
    ignore(err)
    ""
  end
  looking := list.cons((path, digest), !looking)
  if digest != "" and digest == list.assoc(default="", path, !looked) then digest else "" end
end

program_queue = request.queue(id="programs")
programs = cue_cut(program_queue)  # a program joined mid-way starts at its liq_cue_in
emergencies = request.queue(id="emergencies")

# seconds since the time of a program of today (its name is its date and time: 2026-12-01_0600_sang.mp3),
# or -1. for any other file: another day's, one still to come, a bulletin (a slot never runs past midnight)
def since(now, name) =
  at = string.extract(pattern="^#{{time.string(time=now, '%Y-%m-%d')}}_([0-9]{{2}})([0-9]{{2}})_", name)
  if list.length(at) == 2 then
    clock = time.local(now)
    elapsed = (clock.hour - int_of_string(default=0, list.assoc(default="", 1, at))) * 3600 +
              (clock.min - int_of_string(default=0, list.assoc(default="", 2, at))) * 60 + clock.sec
    if elapsed >= 0 then elapsed else -1 end
  else
    -1
  end
end

joined = ref([])  # programs joined mid-way, until their start is logged with the second they joined at
# a program is started whole up to grace_minutes after its time (a PC that woke late, a file copied in late);
# later, while it would still be playing (a PC that booted, or a script restarted, in its slot), it is joined
# at the second it would be at now: what is heard keeps to the printed schedule. Never from the top twice: one
# noted as queued before a restart (the power cut mid-program) goes on from the second it would be at
def program(path, name, elapsed) =
  if settled(path) != "" and planned(name) then
    seen := list.cons(name, !seen)
    before = list.mem("#{{commune}}/#{{name}}", !aired)
    if elapsed <= grace_minutes * 60 and not before then
      if first_time(name) then
        log(label="lich-phat-song", "đến giờ phát #{{name}}")
        ignore(program_queue.push.uri(path))
      end
    else
      length = request.duration(path)  # -1. if it cannot be read
      if float(elapsed) < length - 1. then
        ignore(first_time(name))
        log(label="lich-phat-song", if before then "#{{name}} đã bắt đầu trước khi khởi động lại: phát tiếp từ giây "
                                                 ^ "thứ #{{elapsed}}"
                                    else "vào giữa chương trình #{{name}}, từ giây thứ #{{elapsed}}" end)
        joined := list.cons(path, !joined)
        ignore(program_queue.push.uri("annotate:liq_cue_in=\\"#{{elapsed}}\\":#{{path}}"))
      elsif length < 0. then
        log(label="lich-phat-song", "KHÔNG ĐỌC ĐƯỢC #{{path}} (không phải tệp âm thanh?): không phát")
      else
        log(label="lich-phat-song", "#{{name}} đã hết giờ phát (dài #{{length}} giây): không phát")
      end
    end
  end
end

# week: the folder's week; a bulletin airs from the week on air, is noted from a later one
# this script's code: a script of other code in a folder it looks in (a new bundle unzipped over this one, a
# week published by an updated broadcast) is said once, as the one running keeps its own until restarted
own_code = "{code}"
told = ref([])
def newer_script(path) =
  code = list.assoc(default="", 1, string.extract(pattern="{code_mark}([0-9a-f]+)", file.contents(path)))
  if code != "" and code != own_code and not list.mem(code, !told) then
    told := list.cons(code, !told)
    log(label="lich-phat-song", "CÓ KỊCH BẢN MỚI #{{path}}: Liquidsoap đang chạy bản cũ; tắt rồi chạy lại " ^
                                "Liquidsoap một lần, vào lúc không có buổi phát")
  end
end

def look(folder, week, current, now, name) =
  if name == "{liquidsoap}" then newer_script("#{{folder}}/#{{name}}") end
  if audio(name) then
    path = "#{{folder}}/#{{name}}"
    elapsed = since(now, name)
    if elapsed >= 0 then
      if not list.mem(name, !seen) then program(path, name, elapsed) end
    elsif week >= current and week >= first_week and string.contains(prefix="KHAN-CAP_", name) and listed(name) then
      digest = settled(path)
      if digest != "" and first_time("#{{week}}/#{{name}}:#{{digest}}") then
        if week == current then
          log(label="lich-phat-song", "tin khẩn cấp #{{name}}")
          ignore(emergencies.push.uri(path))
        else
          log(label="lich-phat-song", "tin khẩn cấp của tuần #{{week}} (đã có trong mọi buổi phát tuần đó) #{{name}}")
        end
      end
    end
  end
end

def check() =
  now = time()
  current = current_week()
  def scan(folder, week) =
    if file.is_directory(folder) then
      list.iter(fun (name) -> look(folder, week, current, now, name), file.ls(folder))
    end
  end
  scan(here, here_week())
  list.iter(fun (w) -> scan("#{{output_dir}}/#{{w}}/#{{commune}}", w), weeks())
end
# an error in one look (a file gone or half-copied) must not stop the clock: thread.run ends at the first
def check_safely() =
  try
    check()
  catch err do
    log(label="lich-phat-song", "lỗi khi tìm tệp: #{{first_line(err.message)}}")
  end
  looked := !looking
  looking := []
end
thread.run(every=5., check_safely)

# a program joined mid-way: its first start says at what second ({joined}<seconds>), not its resuming after
# a bulletin
def asrun(event, m) =
  path = m["filename"]
  if path != "" then
    late = if event == "bat-dau" and list.mem(path, !joined) then
      joined := list.filter(fun (p) -> p != path, !joined)
      "\\t{joined}#{{m['liq_cue_in']}}"
    else
      ""
    end
    print("{mark}\\t#{{time.string('%Y-%m-%dT%H:%M:%S')}}\\t#{{event}}\\t#{{path}}#{{late}}")
  end
end

radio = fallback(track_sensitive=false, [emergencies, programs, blank()])
radio = source.on_track(radio, fun (m) -> asrun("bat-dau", m))
radio = source.on_end(delay=0.05, radio, fun (_, m) -> asrun("ket-thuc", m))

# Đổi dòng output.dummy cho thiết bị của đài (the station's output), ví dụ output.alsa(radio)
recording = getenv("LICH_PHAT_FILE")
if recording != "" then
  output.file(%wav, recording, radio)
else
  output.dummy(radio)
end
"""


# the script's code, named in it: another one (a broadcast update) tells the operator to restart Liquidsoap
CODE = hashlib.sha256(f"{SCRIPT}{GRACE_MINUTES}{ASRUN_MARK}{ASRUN_JOINED}{AIRED}".encode()).hexdigest()[:12]


def write(station: StationWeek) -> dict[str, bytes]:
    script = SCRIPT.format(station=liquidsoap_comment(station.station), week=station.week.id,
                           week_string=liquidsoap_string(station.week.id),
                           commune=liquidsoap_string(station.locale_id), grace=GRACE_MINUTES, mark=ASRUN_MARK,
                           joined=ASRUN_JOINED, aired=AIRED, readme=README, sums=SUMS, liquidsoap=LIQUIDSOAP,
                           code=CODE, code_mark=SCRIPT_CODE,
                           code_line=f"{SCRIPT_CODE}{CODE} (bản mới thì khởi động lại Liquidsoap một lần)")
    return {LIQUIDSOAP: script.encode("utf-8")}


def upgrade_aired_notes(output: Path, week_on_air: str) -> int:
    """Notes of aired bulletins written by scripts before they named the week and the bytes
    (`commune/KHAN-CAP_x.mp3:size`) would not match the new ones, and every bulletin of the week on
    air would air again at the first start. Each old note of a bulletin of the week on air that is
    older than the notes' last change (a bulletin airs within seconds of appearing: one published
    after the last note cannot have aired) is written again the new way; returns how many."""
    notes = output / AIRED
    try:
        lines = notes.read_text(encoding="utf-8").splitlines()
        last_aired = notes.stat().st_mtime
    except (OSError, UnicodeError):
        return 0
    known, added = set(lines), []
    for line in lines:
        old = _OLD_NOTE.match(line)
        if not old:
            continue
        commune, name, size = old.groups()
        path = output / week_on_air / commune / name
        try:
            info = path.stat()
            if info.st_size != int(size) or info.st_mtime > last_aired:
                continue
            note = f"{commune}/{week_on_air}/{name}:{hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()}"
        except OSError:
            continue
        if note not in known:
            known.add(note)
            added.append(note)
    if added:
        with notes.open("a", encoding="utf-8") as f:  # appended, as the running scripts append
            f.write("".join(f"{note}\n" for note in added))
        os.utime(notes, (last_aired, last_aired))  # its time stays the last airing's: nothing aired now
    return len(added)
