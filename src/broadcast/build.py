"""`build`: the weekly job, read top to bottom. The only module that knows every stage.

    render + speak -> synthesise -> master -> plan -> programs -> formats -> manifest -> publish

Everything is gathered in a staging folder before anything is published (MkDocs'
``commands/build.py``); the week appears under output/<week> in one atomic step. Each stage
announces its start and end (counts, seconds) through `events`: the CLI draws them, a cron
log shows them, the studio streams them.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import __version__, manifest
from .bundle import drop_stale
from .context import BuildContext
from .errors import ContentError, Problem
from .events import Event, Listener, Progress, ignore, stage
from .formats import FORMATS, StationWeek, site
from .manifest import Entry, Manifest
from .master import content_key, master_announcements, master_messages
from .messages import (
    clip_requests,
    held_for_approval,
    leave_out_placeholders,
    said,
    scripts_airing,
    speak_messages,
)
from .model import Locale, Project, Week
from .plan import WeekPlan, durations_from, plan_week
from .programs import make_programs
from .project import files_snapshot
from .publish import Lock, Staging, as_published, mirror, published_weeks
from .tts import ClipCache, synthesize_all
from .tts.voices import voice_files

log = logging.getLogger(__name__)


@dataclass
class BuildResult(Manifest):
    """What a build published: its manifest, and where."""

    output: Path = Path()
    bundles_dropped: list[str] = field(default_factory=list)  # communes whose station zip was out of date

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def count(self, kind: str) -> int:
        return sum(entry.kind == kind for entry in self.files)


def build(project: Project, week: Week, locales: list[Locale] | None = None, jobs: int | None = None,
          allow_placeholders: bool = False, strict: bool = False, listener: Listener = ignore,
          broken: dict[str, str] | None = None, snapshot: str | None = None) -> BuildResult:
    """`broken`: communes whose own files have errors, by id, with why: not built, listed among
    the failures (exit 1), their published files kept. `snapshot`: `project.input_snapshot` of the
    project taken before it was read; with it, a whole-week build names its inputs in the
    manifest, and finds nothing to do when the published week was made from the same."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    listener = _timed(listener, timings)
    chosen = list(project.locales) if locales is None else locales
    placeholders = [w for w in project.warnings if w.field == "placeholder"]
    if placeholders and not allow_placeholders:
        raise ContentError(placeholders + [Problem(
            "", 0, "", "còn chỗ <<CẦN ĐIỀN>> chưa điền nên không dựng (placeholders left; nothing built)",
            "điền các giá trị trên, hoặc chạy 'broadcast build --allow-placeholders' để dựng thử")])

    valid = scripts_airing(project, week)
    held = held_for_approval(project, valid)  # `approval: required`: what nobody approved does not air
    inputs = None
    if snapshot and len(chosen) == len(project.locales) and not broken:
        voices = files_snapshot(project.root, voice_files(project.voices, project.root))
        inputs = content_key("inputs", week.id, allow_placeholders, strict, _code(), snapshot, voices,
                             sorted(s.id for s in held)) if voices else None
        same = _as_published(project, week, inputs, started) if inputs else None
        if same is not None:
            return same
    with stage("speak", listener) as progress:
        messages, announcements = speak_messages(project, week, chosen, [s for s in valid if s not in held])
        messages, left_out = leave_out_placeholders(messages)  # a placeholder is never spoken
        progress.counts.update(communes=len(chosen), messages=len(messages))

    with stage("synthesise", listener) as progress:
        synthesis = synthesize_all(clip_requests(project, messages, announcements),
                                   ClipCache(clip_folder(project.root)), project.root, jobs=jobs,
                                   voices={v.id: v for v in project.voices}, progress=Progress("synthesise", listener))
        progress.counts.update(sentences=synthesis.stats.unique, engine_calls=synthesis.stats.engine_calls,
                               cached=synthesis.stats.cache_hits, failed=len(synthesis.failures))
    # a commune whose clips could not all be made fails alone; the others are still published
    failed: dict[str, str] = dict(broken or {})
    by_clip = {(f.voice_id, f.sentence): f for f in synthesis.failures}
    for m in messages:
        for part in said(m.speech, m.script, announcements.reminder):
            if (m.voice, part) in by_clip:
                failed.setdefault(m.locale.id, f"{m.script.id}: {by_clip[(m.voice, part)]}")

    output = project.root / "output"
    result = BuildResult(project.settings.name, week, output=output / week.id, draft=bool(placeholders),
                         left_out=left_out, not_approved=sorted(s.id for s in held))
    whole_week = len(chosen) == len(project.locales)
    with Lock(output):
        previous = _previous(output / week.id, whole_week)
        staging = Staging(output, week.id, {rel: e.sha256 for rel, e in previous.items()})
        try:
            ctx = BuildContext(project, week, [loc for loc in chosen if loc.id not in failed], jobs, staging,
                               previous, synthesis, announcements, listener, draft=result.draft)
            _keep_communes_not_built(ctx, result, failed)

            with stage("master", listener) as progress:
                durations = master_messages(ctx, [m for m in messages if m.locale.id not in failed], progress)
                announcement_files = master_announcements(ctx)
                progress.counts.update(mastered=ctx.stats["mastered"], segments=ctx.stats["segments"])

            with stage("plan", listener) as progress:
                # the station's opening and closing take their length off every slot
                overhead = max((files.seconds for files in announcement_files.values()), default=0.0)
                plan = plan_week(project, week, durations_from(durations), ctx.locales, overhead=overhead, held=held)
                result.warnings += [str(shortfall) for shortfall in plan.shortfalls] + _silent_communes(plan)
                if whole_week:
                    result.warnings += _communes_gone(output, week, {loc.id for loc in project.locales})
                progress.counts.update(programs=sum(len(p.programs) for p in plan.locales),
                                       shortfalls=len(plan.shortfalls))

            with stage("programs", listener) as progress:
                texts = {(m.script.id, m.locale.id): m.text for m in messages}
                make_programs(ctx, plan, announcement_files, texts, then=lambda week: _write_formats(ctx, week))
                result.names = _published_names(output / week.id, week)
                _write_site(ctx, result.names)
                progress.counts.update(files=len(ctx.entries))

            if strict and result.warnings:
                result.failures.append(f"{len(result.warnings)} cảnh báo với --strict (warnings under --strict)")
            with stage("publish", listener) as progress:
                result.files = sorted(ctx.entries.values(), key=lambda e: e.path)
                result.stats.update(
                    locales=len(chosen), sentences=synthesis.stats.unique, engine_calls=synthesis.stats.engine_calls,
                    cache_hits=synthesis.stats.cache_hits, fallback_uses=synthesis.stats.fallback_uses,
                    reused=staging.reused, read_back=staging.hashed, recycled=staging.recycled,
                    seconds=round(time.monotonic() - started, 3),
                    stages=timings, inputs=inputs if whole_week and not failed else None,
                    **ctx.stats)
                staging.write_bytes(manifest.FILE, result.to_bytes())
                result.output = staging.publish()
                result.bundles_dropped = drop_stale(output, week)
                result.warnings += point_latest(output)
                progress.counts.update(files=len(result.files), unchanged=staging.reused)
        except BaseException:
            staging.discard()
            raise
    return result


def _as_published(project: Project, week: Week, inputs: str, started: float) -> BuildResult | None:
    """The published week, if a whole-week build of the same inputs published it and every file
    of it is as it was published: nothing to do, as `make` says. Not when that build failed a
    commune or used a fallback voice: the next build tries again."""
    output = project.root / "output"
    with Lock(output):
        published = Manifest.read(output / week.id, week)
        if published is None or published.stats.get("inputs") != inputs or published.failures \
                or published.stats.get("fallback_uses"):
            return None
        if not as_published(output, week.id, {e.path: e.sha256 for e in published.files}):
            return None
    result = BuildResult(**{name: getattr(published, name) for name in Manifest.__dataclass_fields__},
                         output=output / week.id)
    result.stats = {"unchanged": True, "locales": len(project.locales),
                    "sentences": published.stats.get("sentences", 0), "engine_calls": 0, "cache_hits": 0,
                    "segments": 0, "mastered": 0, "recycled": 0,
                    "reused": len(result.files), "read_back": 0, "seconds": round(time.monotonic() - started, 3),
                    "inputs": inputs}
    log.info("tuần %s không có gì thay đổi kể từ khi phát hành: giữ nguyên %d tệp (nothing changed)",
             week.id, len(result.files))
    return result


@lru_cache(maxsize=1)
def _code() -> str:
    """A name for this version of the program: its files, and the version of every installed
    package (espeak-ng's, the encoder's, the calendar's...), so that a new release, a fix in
    development or an upgraded library never finds a week built by the old one "unchanged"."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()


def _previous(week_folder: Path, whole_week: bool) -> dict[str, Entry]:
    """The published week's entries. With a damaged manifest a whole-week build starts afresh;
    a build of some communes stops, since it would drop the others' files."""
    try:
        return manifest.published(week_folder)
    except manifest.UnreadableManifest as exc:
        if not whole_week:
            raise
        log.warning("%s; dựng lại toàn bộ tuần", exc.message)
        return {}


def _timed(listener: Listener, timings: dict[str, float]) -> Listener:
    """`listener`, also noting each stage's seconds for the manifest."""
    def hear(event: Event) -> None:
        if event.kind == "end":
            timings[event.stage] = event.seconds
        listener(event)
    return hear


def _keep_communes_not_built(ctx: BuildContext, result: BuildResult, failed: dict[str, str]) -> None:
    """Communes left out of this build, or whose voice failed, keep their published files."""
    built = {loc.id for loc in ctx.locales}
    for rel, entry in ctx.previous.items():
        if not entry.locale or entry.locale in built:
            continue
        if ctx.staging.carry_over(rel, entry.sha256):
            ctx.entries[rel] = entry
        else:  # damaged or replaced since it was published, and this build does not remake that commune
            result.warnings.append(f"{rel}: tệp đã phát hành bị hỏng hoặc bị thay nên bị bỏ khỏi tuần; "
                                   f"dựng lại xã {entry.locale} để làm lại (damaged published file dropped)")
    for locale_id, why in sorted(failed.items()):
        result.failures.append(f"{locale_id}: {why} (giữ nguyên bản đã phát hành trước đó)")


def _write_formats(ctx: BuildContext, station_week: StationWeek) -> None:
    """One commune's schedules, playlists, scripts, page and feed (`formats.FORMATS`). The writers
    are pure: a commune whose week (and this program) is as when its files were published keeps
    them, so a country's build after one commune's edit draws one commune's formats, not 3,321."""
    locale = station_week.locale_id
    # its repr: plain frozen data all the way down (tuples, dates, exact floats), the same in every
    # process, and 4x cheaper than asdict (17 ms a commune under a profiler, as much as its formats)
    key = content_key("formats", _code(), repr(station_week))
    published = [e for e in ctx.previous.values() if e.locale == locale and e.kind in FORMATS]
    kept = {e.path: e for e in published if e.key == key and ctx.staging.carry_over(e.path, e.sha256)} \
        if published and all(e.key == key for e in published) else {}
    if published and len(kept) == len(published):
        ctx.entries.update(kept)
        return
    for kind, writer in FORMATS.items():
        for name, data in writer(station_week).items():
            rel = f"{locale}/{name}"
            if rel in kept:  # carried over before another of the commune's files was found damaged
                ctx.entries[rel] = kept[rel]
                continue
            ctx.staging.write_bytes(rel, data)
            ctx.entries[rel] = Entry(rel, kind, ctx.staging.written[rel], None, locale, key=key)


def _silent_communes(plan: WeekPlan) -> list[str]:
    """A warning for communes whose loudspeakers would be silent all week (every script expired,
    not yet valid or not approved): a week published with nothing to air is not a success."""
    silent = [p.locale_id for p in plan.locales if not p.emergencies and not any(pr.items for pr in p.programs)]
    if not silent:
        return []
    named = ", ".join(silent[:5]) + (f" và {len(silent) - 5} xã khác" if len(silent) > 5 else "")
    return [f"{named}: không có tin nào phát trong tuần {plan.week.id}, loa sẽ im cả tuần (nothing airs this week); "
            "xem thời hạn 'valid' của các kịch bản, hoặc duyệt kịch bản"]


def _communes_gone(output: Path, week: Week, communes: set[str]) -> list[str]:
    """A warning for the communes the week before had that the project no longer has (a commune file
    deleted, or renamed: its folder is renamed too): their stations get nothing from this week on, and
    a station script running in the old folder looks there in vain, without a word."""
    before = Week.containing(week.monday - timedelta(days=7))
    published = Manifest.read(output / before.id, before)
    gone = sorted({e.locale for e in published.files if e.locale} - communes) if published else []
    if not gone:
        return []
    named = ", ".join(gone[:5]) + (f" và {len(gone) - 5} xã khác" if len(gone) > 5 else "")
    return [f"{named}: có trong tuần {before.id} nhưng không còn trong dự án, nên tuần {week.id} không có gì cho "
            "đài của xã (commune gone since last week); nếu chỉ đổi tên, đài phải chuyển sang thư mục mới; nếu lỡ "
            "xoá, đặt lại tệp của xã trong locales/ rồi dựng lại"]


def _published_names(week_folder: Path, week: Week) -> dict[str, tuple[str, str]]:
    published = Manifest.read(week_folder, week)
    return dict(published.names) if published else {}


def _write_site(ctx: BuildContext, names: dict[str, tuple[str, str]]) -> None:
    """The week's web pages above the communes (formats/site.py), from every commune of the week:
    those built now and those kept as published. `names`: (commune, province) of each, filled in
    (the manifest keeps them): a commune whose file cannot be read now keeps the names it was
    published with, not its folder's."""
    loaded = {loc.id: (loc.name, loc.province.name) for loc in ctx.project.locales}
    week_locales = sorted({e.locale for e in ctx.entries.values() if e.locale})
    for lid in week_locales:
        names[lid] = loaded.get(lid) or names.get(lid) or (lid, lid.split("/", 1)[0])
    for lid in set(names) - set(week_locales):
        del names[lid]
    communes = [site.CommuneLink(lid, *names[lid]) for lid in week_locales]
    feeds = {e.locale: (ctx.staging.path / e.path).read_bytes() for e in ctx.entries.values() if e.kind == "podcast"}
    settings = ctx.project.settings
    for rel, data in site.write(ctx.week, settings.name, settings.public_url, communes, feeds).items():
        ctx.staging.write_bytes(rel, data)
        ctx.entries[rel] = Entry(rel, "site", ctx.staging.written[rel], None, "")


def point_latest(output: Path) -> list[str]:
    """output/moi-nhat/: the web pages and feeds of the newest published week at addresses that do
    not change from week to week (formats/site.py `latest`); call with the lock held, after a week
    is published or changed. Returns warnings: the week is published whatever happens here."""
    weeks = published_weeks(output)
    if not weeks:
        return []

    def read(week_id: str) -> dict[str, bytes]:
        folder = output / week_id
        return {rel: (folder / rel).read_bytes() for rel, e in manifest.published(folder).items()
                if e.kind in ("web", "podcast", "site", "ics")
                and posixpath.basename(rel) in (site.PAGE_NAME, site.podcast.FEED, site.icalendar_schedule.FILE)}

    try:
        before = Week.containing(Week.parse(weeks[-1]).monday - timedelta(days=7)).id
        earlier = {rel: data for rel, data in read(before).items() if rel.endswith(".ics")} if before in weeks else {}
        mirror(output / site.LATEST, site.latest(weeks[-1], read(weeks[-1]), earlier))
    except (OSError, ValueError, ET.ParseError, manifest.UnreadableManifest) as exc:
        return [f"{site.LATEST}/: không cập nhật được địa chỉ cố định của trang nghe và podcast theo tuần "
                f"{weeks[-1]} ({exc}); tuần vẫn được phát hành, dựng lại để thử lại (stable addresses not updated)"]
    return []


def clip_folder(root: Path) -> Path:
    """Where synthesised sentences are kept between builds (not in git)."""
    return root / ".cache" / "clips"
