"""Programs stage: one file per broadcast slot (and per emergency), and each commune's week
as plain data (`StationWeek`) for the formats.

A program is the station's opening line, the slot's message files and its closing line,
joined without re-mastering. The opening and closing lines are published beside the messages
(`messages/loi-mo-dau.*`, `messages/loi-ket-thuc.*`) and are items of the program like the
messages, so the playlists, the CSV and the calendar list exactly what the program file plays,
at the times it plays them. Its tags name the week and station, not the slot (the file name
does that), so two slots that air the same messages in the same order get byte-identical
files, stored once (a hard link): the rotation repeats, and most communes' weeks have half as
many distinct programs as slots.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .audio import AudioFile, Tags
from .audio.concat import read_frames
from .audio.join import join_files
from .context import BuildContext
from .events import Progress
from .formats import ItemFile, MessageInfo, ProgramFile, StationWeek
from .manifest import Entry
from .master import AnnouncementFiles, content_key
from .model import ANNOUNCEMENTS, Locale, Script
from .plan import LocalePlan, Program, WeekPlan
from .wav import read_wav


def make_programs(ctx: BuildContext, plan: WeekPlan, announcement_files: dict[str, AnnouncementFiles],
                  texts: Mapping[tuple[str, str], str],
                  then: Callable[[StationWeek], None] | None = None) -> list[StationWeek]:
    """Every commune's program files, staged; returns each commune's week for the formats.
    `texts`: each message as written, by (script id, locale id), for the web page and feeds;
    `then`: run on each commune's week as soon as its programs are staged (its formats).

    Threads, not processes: joining is copying bytes, and file writes and hashing release the GIL,
    so one commune's formats (Python, holding it) are written while others' programs are copied."""
    by_id = {loc.id: loc for loc in ctx.locales}
    scripts = {s.id: s for s in ctx.project.scripts}
    progress = Progress("programs", ctx.listener)
    progress.start(len(plan.locales))

    def one(locale_plan: LocalePlan) -> StationWeek:
        locale = by_id[locale_plan.locale_id]
        week = _commune_programs(ctx, locale, locale_plan, scripts, announcement_files[locale.preset.name], texts)
        if then is not None:
            then(week)
        progress.advance()
        return week

    with ThreadPoolExecutor(max_workers=ctx.jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(one, plan.locales))  # re-raises the first failure


def _commune_programs(ctx: BuildContext, locale: Locale, plan: LocalePlan, scripts: dict[str, Script],
                      announced: AnnouncementFiles, texts: Mapping[tuple[str, str], str]) -> StationWeek:
    """One commune's programs. Runs in a thread beside other communes: it writes only this
    commune's entries."""
    preset = locale.preset
    station = locale.station
    first_with_key: dict[str, str] = {}  # program key -> the first file staged with it

    def item(script_id: str) -> ItemFile:
        file = f"messages/{script_id}.{preset.container}"
        seconds = ctx.entries[f"{locale.id}/{file}"].seconds or 0.0
        return ItemFile(script_id, scripts[script_id].title, scripts[script_id].level, file, seconds)

    def announcement(which: str, audio: AudioFile | None) -> tuple[ItemFile, ...]:
        """The station's opening or closing line as a file of the commune's week (none if not set)."""
        if audio is None:
            return ()
        stem, title = ANNOUNCEMENTS[which]
        file = f"messages/{stem}.{preset.container}"
        rel = f"{locale.id}/{file}"
        ctx.staging.write_bytes(rel, Path(audio.path).read_bytes())
        ctx.entries[rel] = Entry(rel, "announcement", ctx.staging.written[rel], round(audio.duration, 3), locale.id)
        return (ItemFile("", title, "announcement", file, round(audio.duration, 3)),)

    opening, closing = announcement("opening", announced.opening), announcement("closing", announced.closing)

    def program_file(name: str, program: Program | None, messages: tuple[ItemFile, ...], title: str,
                     kind: str) -> ProgramFile:
        rel = f"{locale.id}/{name}.{preset.container}"
        items = opening + messages + closing
        parts = [ctx.entries[f"{locale.id}/{i.file}"] for i in items]
        key = content_key("program", preset.name, [p.sha256 for p in parts], title, station)
        old = ctx.previous.get(rel)
        if old and old.key == key and old.seconds is not None and ctx.staging.carry_over(rel, old.sha256):
            ctx.entries[rel] = old
        elif key in first_with_key:
            ctx.staging.link(rel, first_with_key[key])
            ctx.entries[rel] = ctx.entries[first_with_key[key]].moved(rel, kind)
        else:
            tmp = ctx.staging.work / rel
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tags = Tags(title=title, artist=station, album=f"Tuần {ctx.week.id}", date=ctx.week.days[0].isoformat())
            # written over a file an earlier rebuild replaced, where one is kept (publish.SPARE)
            in_place = preset.container == "mp3" and ctx.staging.recycle(tmp)
            audio = join_files([ctx.staging.path / p.path for p in parts], preset, tmp, tags, in_place)
            ctx.staging.adopt(rel, audio.path, audio.sha256)
            ctx.entries[rel] = Entry(rel, kind, ctx.staging.written[rel], round(audio.duration, 3), locale.id,
                                     tuple(i.script_id for i in messages), key)
        first_with_key.setdefault(key, rel)
        return ProgramFile(name, program, f"{name}.{preset.container}", ctx.entries[rel].seconds or 0.0, items)

    programs = []
    for program in plan.programs:
        items = tuple(item(a.script_id) for a in program.items)
        if not items:  # nothing valid (or approved) to air in this slot: no program file, an empty slot
            continue
        title = f"{ctx.project.settings.name} ({len(items)} tin) — {station}"
        programs.append(program_file(program.name, program, items, title, "program"))
    emergencies = []
    for airing in plan.emergencies:
        name = f"KHAN-CAP_{airing.script_id}"  # sorts before the dated programs: seen first
        emergencies.append(program_file(name, None, (item(airing.script_id),),
                                        f"KHẨN CẤP — {scripts[airing.script_id].title}", "emergency"))
    aired = [p.messages[0] for p in emergencies] + [m for p in programs for m in p.messages]
    messages = tuple(_message_info(ctx, locale, scripts[item.script_id], item,
                                   texts.get((item.script_id, locale.id), ""))
                     for item in {item.script_id: item for item in aired}.values())
    return StationWeek(ctx.week, locale.id, locale.name, station, locale.province.name,
                       tuple(programs), tuple(emergencies), draft=ctx.draft, messages=messages,
                       public_url=ctx.project.settings.public_url)


def _message_info(ctx: BuildContext, locale: Locale, script: Script, item: ItemFile, text: str) -> MessageInfo:
    path = ctx.staging.path / locale.id / item.file
    sound = ctx.entries[f"{locale.id}/{item.file}"].sound or audio_digest(path)
    return MessageInfo(script.id, script.title, script.level, text, script.source, script.valid.start,
                       script.valid.until, item.file, item.seconds, path.stat().st_size,
                       f"{locale.id}/{script.id}/{sound[:32]}")


def audio_digest(path: Path) -> str:
    """sha256 of a message's sound without its tags (which name the week), for a message published
    before manifests recorded what its sound is made of: the same audio keeps its digest from week
    to week, so a podcast app knows it has heard it."""
    if path.suffix == ".mp3":
        return hashlib.sha256(read_frames(path).data).hexdigest()
    return hashlib.sha256(read_wav(path).samples).hexdigest()
