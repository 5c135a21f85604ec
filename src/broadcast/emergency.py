"""`broadcast emergency`: an emergency bulletin (khẩn cấp) on air at once, not at the next weekly build.

Thông tư 39/2020/TT-BTTTT has an emergency bulletin aired immediately. This fast path renders,
speaks, synthesises and masters only that script, for the chosen communes, with the build's own
stages, and adds to the week already published exactly what it needs: the message file, the
`KHAN-CAP_<script>` program (the station's lines around it) and its playlist, the wall schedule
with its emergency box redrawn, the bulletin first on the commune's web page and in its and its
province's podcast feeds (the rest of each file as it was), then the manifest last. Nothing
else published is touched: the slot programs, the other schedules and the calendar stay as they
are (the next weekly build puts the message first in every slot). The generated Liquidsoap script
airs a new `KHAN-CAP_*` file as soon as it appears.

Each new file is moved into place with a rename, so a player sees it whole or not at all.
"""

from __future__ import annotations

import functools
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import manifest
from .build import point_latest
from .bundle import drop_stale
from .context import BuildContext
from .errors import ContentError, Problem, UsageError
from .events import Listener, Progress, ignore, stage
from .formats import FORMATS, StationWeek, podcast, web_page
from .formats.html_schedule import with_emergencies
from .master import master_announcements, master_messages
from .messages import clip_requests, speak_messages
from .model import Locale, Project, Script, Week
from .plan import Airing, LocalePlan, WeekPlan
from .programs import make_programs
from .publish import Lock, Staging, fsync_file, move_in, published_weeks
from .tts import ClipCache, synthesize_all

SCHEDULE = "lich-phat-song.html"


@dataclass
class EmergencyResult:
    week: Week
    script: str
    published: list[str] = field(default_factory=list)  # communes that have the bulletin now
    files: list[str] = field(default_factory=list)  # files added or replaced
    failures: list[str] = field(default_factory=list)
    bundles_dropped: list[str] = field(default_factory=list)  # communes whose station zip was out of date
    rebuild: list[str] = field(default_factory=list)  # communes that have it in every slot: built again

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def publish_emergency(project: Project, week: Week, script: Script, locales: list[Locale], clips: Path,
                      today: date, jobs: int | None = None, listener: Listener = ignore) -> EmergencyResult:
    """`week` must be the week on air on `today` (the project's time zone): a bulletin airs at once."""
    if script.level != "emergency":
        raise UsageError(f"kịch bản '{script.id}' có mức '{script.level}', không phải khẩn cấp (not an emergency)",
                         field="level", fix="đặt 'level: emergency' trong kịch bản, hoặc dựng tuần như thường")
    this_week = Week.containing(today)
    if week.id < this_week.id:  # its script would never look there again: nothing would air
        raise UsageError(f"tuần {week.id} đã qua (tuần đang phát là {this_week.id}): tin khẩn cấp chỉ vào tuần đang "
                         "phát (a past week)", field="--week", fix=f"bỏ --week (tuần đang phát: {this_week.id})")
    if week.id > this_week.id:  # added there, it would be noted as already in every slot of it, and aired nowhere
        raise UsageError(f"tuần {week.id} chưa phát (tuần đang phát là {this_week.id}): tin khẩn cấp phát ngay nên chỉ "
                         "vào tuần đang phát (not the week on air)", field="--week",
                         fix=f"phát ngay: bỏ --week; để tin có trong mọi buổi phát của tuần {week.id}: "
                             f"broadcast build --week {week.id}")
    if not script.valid.covers(today):  # it airs at once: today, not some day this week
        raise UsageError(f"kịch bản '{script.id}' không có hiệu lực hôm nay ({today:%d/%m/%Y}): tin khẩn cấp phát "
                         "ngay khi được thêm vào (not valid today)", field="valid",
                         fix="sửa 'valid:' nếu tin vẫn cần phát, hoặc chọn tin khẩn cấp khác")
    output = project.root / "output"
    folder = output / week.id
    result = EmergencyResult(week, script.id)
    with Lock(output):
        previous = manifest.published(folder)
        if not previous:
            raise UsageError(f"tuần {week.id} chưa được phát hành (no published week)",
                             fix=f"dựng tuần đó trước: broadcast build --week {week.id}")
        on_air = {e.locale for e in previous.values() if e.locale}
        chosen = [loc for loc in locales if loc.id in on_air]
        result.failures += [f"{loc.id}: chưa có trong tuần {week.id} đã phát hành (not in the published week)"
                            for loc in locales if loc.id not in on_air]
        if not chosen:
            raise UsageError(f"không xã nào đã chọn có trong tuần {week.id} đã phát hành", fix="chọn xã khác")
        # a commune whose week was rebuilt since the bulletin came has it in every slot's program, playlist
        # and schedule: a corrected text written over its message file alone left them all saying the old
        # one; that commune's week is built again instead (`rebuild`, by the caller)
        in_slots = {e.locale for e in previous.values() if e.kind == "program" and script.id in e.scripts}
        result.rebuild = [loc.id for loc in chosen if loc.id in in_slots]
        chosen = [loc for loc in chosen if loc.id not in in_slots]
        if not chosen:
            return result
        with stage("speak", listener) as progress:
            messages, announcements = speak_messages(project, week, chosen, [script])
            progress.counts.update(communes=len(chosen), messages=len(messages))
        with stage("synthesise", listener) as progress:
            synthesis = synthesize_all(clip_requests(project, messages, announcements), ClipCache(clips),
                                       project.root, jobs=jobs, voices={v.id: v for v in project.voices},
                                       progress=Progress("synthesise", listener))
            progress.counts.update(sentences=synthesis.stats.unique, failed=len(synthesis.failures))
        if synthesis.failures:
            raise ContentError([Problem(script.file, 0, "", str(f), "kiểm tra giọng đọc bằng 'broadcast doctor'")
                                for f in synthesis.failures])
        # its few files are flushed one by one as they move into the week on air (_add_to_week)
        staging = Staging(output, week.id, {rel: e.sha256 for rel, e in previous.items()}, flush=False)
        try:
            ctx = BuildContext(project, week, chosen, jobs, staging, previous, synthesis, announcements, listener)
            with stage("master", listener) as progress:
                durations = master_messages(ctx, messages, progress)
                announcement_files = master_announcements(ctx)
            with stage("programs", listener) as progress:
                plan = WeekPlan(week, tuple(
                    LocalePlan(loc.id, (), (Airing(script.id, script.level, durations[(script.id, loc.id)]),), ())
                    for loc in chosen))
                titles = {s.id: s.title for s in project.scripts}
                texts = {(m.script.id, m.locale.id): m.text for m in messages}
                by_province: dict[str, list[ET.Element]] = {}
                for station_week in make_programs(ctx, plan, announcement_files, texts):
                    for name, data in FORMATS["m3u8"](station_week).items():
                        rel = f"{station_week.locale_id}/{name}"
                        staging.write_bytes(rel, data)
                        ctx.entries[rel] = manifest.Entry(rel, "m3u8", staging.written[rel], None,
                                                          station_week.locale_id)
                    _redraw_emergency_box(ctx, folder, station_week, titles)
                    province, commune = station_week.locale_id.split("/", 1)
                    by_province.setdefault(province, []).extend(
                        podcast.for_province(item, station_week.name, commune, station_week.public_url)
                        for item in _add_to_web(ctx, folder, station_week))
                for province, items in by_province.items():
                    _update(ctx, folder, f"{province}/{podcast.FEED}", "site", "",
                            functools.partial(podcast.with_items, items=items))
            with stage("publish", listener) as progress:
                result.files = _add_to_week(folder, staging, previous, ctx.entries)
                result.bundles_dropped = drop_stale(output, week)
                result.failures += point_latest(output)  # the week on air may be the newest: its bulletin there too
                progress.counts.update(files=len(result.files))
            result.published = [loc.id for loc in chosen]
        finally:
            staging.discard()
    return result


def later_weeks_lacking(output: Path, week: Week, script: Script, communes: list[str], root: Path) -> list[str]:
    """A later week built before the bulletin, or before its latest correction (cron builds next week
    on Fridays), would air a whole week without it or with the old text: which to rebuild, commune by
    commune (the rebuild puts it first in every slot). Built before: its manifest is older than the
    script's file (what a week's text says may differ from this week's: `{{ week.start }}`)."""
    try:
        edited = (root / script.file).stat().st_mtime
    except OSError:
        edited = 0.0
    found = []
    for later in published_weeks(output):
        if later <= week.id or not script.valid.touches(Week.parse(later).days):
            continue
        entries = manifest.published(output / later).values()
        there = {e.locale for e in entries if e.locale}
        having = {e.locale for e in entries if e.kind == "message" and script.id in e.scripts}
        older = (output / later / manifest.FILE).stat().st_mtime < edited
        lacking = [loc for loc in communes if loc in there and (loc not in having or older)]
        if lacking:
            named = ", ".join(lacking[:5]) + (f" và {len(lacking) - 5} xã khác" if len(lacking) > 5 else "")
            found.append(f"tuần {later} đã dựng trước khi có tin này (hoặc bản sửa của nó) nên {len(lacking)} xã "
                         f"chưa có đúng tin ({named}): dựng lại tuần đó (broadcast build --week {later}) để tin có "
                         "trong mọi buổi phát (a later week published without it)")
    return found


def _redraw_emergency_box(ctx: BuildContext, folder: Path, station_week: StationWeek,
                          titles: dict[str, str]) -> None:
    """The wall schedule's emergency box lists every bulletin of the commune's week, the new one
    too; the rest of the page keeps its bytes. A schedule without the box's markers (published by
    an older version) is left as it is."""
    locale = station_week.locale_id
    rel = f"{locale}/{SCHEDULE}"
    published = folder / rel
    if not published.is_file():
        return
    bulletins = {Path(e.path).name: titles.get(e.scripts[0], e.scripts[0]) if e.scripts else Path(e.path).stem
                 for e in ctx.previous.values() if e.locale == locale and e.kind == "emergency"}
    bulletins.update({e.file: e.messages[0].title for e in station_week.emergencies})
    redrawn = with_emergencies(published.read_bytes(), [(bulletins[file], file) for file in sorted(bulletins)])
    if redrawn is not None:
        ctx.staging.write_bytes(rel, redrawn)
        ctx.entries[rel] = manifest.Entry(rel, "html", ctx.staging.written[rel], None, locale)


def _add_to_web(ctx: BuildContext, folder: Path, station_week: StationWeek) -> list[ET.Element]:
    """The bulletin first on the commune's web page and in its podcast feed (the rest of both as
    published); returns its feed items, for the province's feed."""
    locale = station_week.locale_id
    _update(ctx, folder, f"{locale}/{web_page.PAGE_NAME}", "web", locale,
            lambda page: web_page.with_emergencies(page, station_week.messages))
    items = podcast.commune_items(station_week)
    _update(ctx, folder, f"{locale}/{podcast.FEED}", "podcast", locale, lambda feed: podcast.with_items(feed, items))
    return items


def _update(ctx: BuildContext, folder: Path, rel: str, kind: str, locale: str,
            change: Callable[[bytes], bytes | None]) -> None:
    """Stage a published file as `change` makes it (if it is published and `change` can)."""
    if not (folder / rel).is_file():
        return
    changed = change((folder / rel).read_bytes())
    if changed is not None:
        ctx.staging.write_bytes(rel, changed)
        ctx.entries[rel] = manifest.Entry(rel, kind, ctx.staging.written[rel], None, locale)


def _add_to_week(folder: Path, staging: Staging, previous: dict[str, manifest.Entry],
                 entries: dict[str, manifest.Entry]) -> list[str]:
    """Move the new or changed staged files into the published week, then its manifest with them,
    as a build publishes (publish.move_in): marked as publishing first, so that if this process is
    killed half way the next command that takes the lock finishes the move (publish.recover) and
    the week never stays out of step with its manifest."""
    changed = sorted(rel for rel, entry in entries.items()
                     if rel not in previous or previous[rel].sha256 != entry.sha256)
    for path in sorted(staging.path.rglob("*"), reverse=True):  # only what changes moves in
        rel = path.relative_to(staging.path).as_posix()
        if path.is_file() and rel not in changed:
            path.unlink()
    for rel in changed:
        fsync_file(staging.path / rel)  # on disk before it is visible
    data = json.loads((folder / manifest.FILE).read_text(encoding="utf-8"))
    files = {e["path"]: e for e in data.get("files", [])}
    files.update({rel: entries[rel].to_json() for rel in changed})
    data["files"] = [files[rel] for rel in sorted(files)]
    data["locales"] = sorted({e.get("locale") for e in data["files"] if e.get("locale")})
    with open(staging.path / manifest.FILE, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(staging.path / manifest.FILE, 0o644)
    move_in(staging.path, folder)
    return changed
