"""`broadcast build`: the weekly job. The only module that knows every stage.

load -> render -> speak -> synthesise -> master -> plan -> formats -> publish, in that order,
each stage handing plain data to the next. Everything is gathered before anything is
published; the week appears under output/<week> in one atomic step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .audio import MessageAudio, Rendered, Spoken, Tags, get_preset, render_message
from .audio.program import join
from .audio.segments import Pause, Segment, layout, render_segment
from .formats import FORMATS, ItemFile, ProgramFile, StationWeek
from .lint import Lexicons, content_problems
from .model import Locale, Problem, Project, Script, Week
from .plan import LocalePlan, durations_from, plan_week
from .project import ContentError, cache_folder, load_project, segment_folder
from .publish import Lock, Staging
from .render import RenderError, render
from .speech import Speech, speak
from .tts import ClipCache, SynthesisResult, clip_key, make_engine, synthesize_all
from .workers import process_pool

log = logging.getLogger(__name__)

REMINDER = "Xin nhắc lại."
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Message:
    """One script for one commune, as spoken: what the audio stage needs."""

    script: Script
    locale: Locale
    voice: str
    speech: Speech

    @property
    def parts(self) -> tuple[str, ...]:
        return self.speech.parts


@dataclass
class BuildResult:
    week: Week
    output: Path
    files: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        s = self.stats
        kinds: dict[str, int] = {}
        for entry in self.files:
            kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
        lines = [
            f"Tuần {self.week.id}: {s.get('locales', 0)} xã, {kinds.get('message', 0)} tệp tin, "
            f"{kinds.get('program', 0)} chương trình, {len(self.files)} tệp -> {self.output}",
            f"Tổng hợp giọng: {s.get('sentences', 0)} câu duy nhất, {s.get('engine_calls', 0)} lần gọi, "
            f"{s.get('cache_hits', 0)} có sẵn; làm lại {s.get('mastered', 0)} tệp, giữ nguyên {s.get('reused', 0)} tệp; "
            f"{s.get('seconds', 0):.1f} s",
        ]
        lines += [f"cảnh báo: {w}" for w in self.warnings]
        lines += [f"LỖI: {f}" for f in self.failures]
        return "\n".join(lines)


def speak_all(project: Project, week: Week, locales: list[Locale],
              scripts: list[Script]) -> tuple[list[Message], dict[str, Speech]]:
    """Every message's spoken form (and the station's opening, closing and reminder lines).

    Raises ContentError with every rendering or lexicon problem: nothing is built from bad content.
    """
    lexicons = Lexicons(project)
    messages: list[Message] = []
    problems: list[Problem] = list(content_problems(project))
    for locale in locales:
        lexicon = lexicons.of(locale)
        for script in scripts:
            try:
                text = render(script, locale, week)
            except RenderError as exc:
                problems.append(exc.problem)
                continue
            messages.append(Message(script, locale, project.voice_for(script, locale), speak(text, lexicon)))
    problems += lexicons.problems
    if problems:
        raise ContentError(problems)
    extras = {name: speak(text, lexicons.base) for name, text in
              (("opening", project.settings.opening), ("closing", project.settings.closing),
               ("reminder", REMINDER)) if text}
    return messages, extras


def requests_for(project: Project, messages: list[Message], extras: dict[str, Speech]) -> list[tuple[Any, str]]:
    """(voice, text) for every clip the messages and programs need; duplicates are fine."""
    voices = {v.id: v for v in project.voices}
    default_voice = voices[project.settings.default_voice]
    requests = [(voices[m.voice], part) for m in messages for part in m.parts]
    for voice_id in sorted({m.voice for m in messages}):
        requests += [(voices[voice_id], part) for part in extras["reminder"].parts]
    requests += [(default_voice, part) for name in ("opening", "closing") if name in extras
                 for part in extras[name].parts]
    return requests


def _placeholders(project: Project) -> list[Problem]:
    return [w for w in project.warnings if w.field == "placeholder"]


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _previous_manifest(output: Path, week: Week) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((output / week.id / MANIFEST).read_text(encoding="utf-8"))
        return {entry["path"]: entry for entry in data.get("files", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _spoken(speech: Speech, clips: dict[str, Any]) -> Spoken:
    return Spoken(tuple(tuple(tuple(clips[p] for p in s.parts) for s in para.sentences) for para in speech.paragraphs))


def build(root: Path, week: Week, locales: list[Locale] | None = None, jobs: int | None = None,
          allow_placeholders: bool = False, strict: bool = False, progress: bool | None = None,
          project: Project | None = None) -> BuildResult:
    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.monotonic()
        timings[stage] = round(now - since, 3)
        return now

    project = project or load_project(root)
    chosen = list(project.locales) if locales is None else locales
    if not allow_placeholders and _placeholders(project):
        raise ContentError(_placeholders(project) + [Problem(
            "", 0, "", "còn chỗ <<CẦN ĐIỀN>> chưa điền nên không dựng (placeholders left; nothing built)",
            "điền các giá trị trên, hoặc chạy 'broadcast build --allow-placeholders' để dựng thử")])
    t = time.monotonic()

    # render + speak: every message's spoken form, before any audio work
    scripts = [s for s in project.scripts if any(s.valid.covers(d) for d in week.days)]
    messages, extras = speak_all(project, week, chosen, scripts)
    t = lap("render+speak", t)

    # synthesise: each unique (voice, part) once, through the cache
    voices = {v.id: v for v in project.voices}
    synthesis = synthesize_all(requests_for(project, messages, extras), ClipCache(cache_folder(project.root)),
                               project.root, jobs=jobs, progress=progress, voices=voices)
    t = lap("synthesise", t)
    # a commune whose clips could not all be made fails alone; the others are still published
    failed_locales: dict[str, str] = {}
    failures = {(f.voice_id, f.sentence): f for f in synthesis.failures}
    for m in messages:
        for part in m.parts + extras["reminder"].parts:
            if (m.voice, part) in failures:
                failed_locales.setdefault(m.locale.id, f"{m.script.id}: {failures[(m.voice, part)]}")

    output = project.root / "output"
    result = BuildResult(week, output / week.id)
    with Lock(output):
        previous = _previous_manifest(output, week)
        staging = Staging(output, week.id, {rel: e.get("sha256") or "" for rel, e in previous.items()})
        try:
            _produce(project, week, chosen, messages, extras, synthesis, failed_locales, previous, staging,
                     result, jobs, timings, strict)
            t = time.monotonic()
            result.stats.update(
                locales=len(chosen), sentences=synthesis.stats.unique, engine_calls=synthesis.stats.engine_calls,
                cache_hits=synthesis.stats.cache_hits, fallback_uses=synthesis.stats.fallback_uses,
                reused=staging.reused, seconds=round(time.monotonic() - started, 3), stages=timings)
            _write_manifest(project, week, staging, result, chosen)
            result.output = staging.publish()
            lap("publish", t)
        except BaseException:
            staging.discard()
            raise
    return result


def _folder(locale: Locale) -> str:
    return locale.id  # "<province>/<commune>": both are slugs without diacritics


def _produce(project: Project, week: Week, chosen: list[Locale], messages: list[Message], extras: dict[str, Speech],
             synthesis: SynthesisResult, failed: dict[str, str], previous: dict[str, dict[str, Any]],
             staging: Staging, result: BuildResult, jobs: int | None, timings: dict[str, float], strict: bool) -> None:
    t = time.monotonic()
    # communes not in this build keep their published files
    built = {loc.id for loc in chosen if loc.id not in failed}
    for rel, entry in previous.items():
        if entry.get("locale") and entry["locale"] not in built and rel != MANIFEST:
            if staging.carry_over(rel, entry.get("sha256")):
                result.files.append(entry)
    for locale_id, why in sorted(failed.items()):
        result.failures.append(f"{locale_id}: {why} (giữ nguyên bản đã phát hành trước đó)")

    # master: one file per (commune, script), skipped when its inputs did not change; each
    # distinct segment (chime, sentence, reminder) is mastered and encoded once for all
    # communes, in parallel; a commune's message is its segments joined without re-encoding
    cache_dir = str(synthesis.cache.folder)
    mastered = 0
    durations: dict[tuple[str, str], float] = {}
    entries: dict[str, dict[str, Any]] = {}
    tasks: dict[str, tuple] = {}
    todo_audio = []
    for m in messages:
        if m.locale.id in failed:
            continue
        preset = get_preset(m.locale.preset)
        rel = f"{_folder(m.locale)}/messages/{m.script.id}.{preset.container}"
        tags = Tags(title=m.script.title, artist=m.locale.data.get("station") or m.locale.name,
                    album=f"Tuần {week.id}", date=week.days[0].isoformat(), script_id=m.script.id,
                    source=m.script.source)
        body = [tuple(tuple(synthesis.clips[(m.voice, p)].key for p in s.parts) for s in para.sentences)
                for para in m.speech.paragraphs]
        reminder = synthesis.clips[(m.voice, extras["reminder"].parts[0])].key
        key = _key("message", preset.name, body, reminder, m.script.repeat, m.script.level, tags)
        old = previous.get(rel)
        if old and old.get("key") == key and staging.carry_over(rel, old.get("sha256")):
            entries[rel] = old
            durations[(m.script.id, m.locale.id)] = old["seconds"]
            continue
        paths = []
        for part in layout(body, reminder, m.script.repeat, m.script.level, preset.name):
            part_key = (_key("pause", preset.name, part.seconds) if isinstance(part, Pause) else
                        _key("segment", preset.name, part.level, part.parts))
            path = segment_folder(project.root) / part_key[:2] / f"{part_key}.{preset.container}"
            if part_key not in tasks and not _segment_done(path):
                tasks[part_key] = (cache_dir, part, preset.name, str(path))
            paths.append(path)
        todo_audio.append((m, preset, rel, tags, key, paths))
    _master_all(list(tasks.items()), jobs)
    for m, preset, rel, tags, key, paths in todo_audio:
        tmp = staging.work / rel
        tmp.parent.mkdir(parents=True, exist_ok=True)
        rendered = join(paths, preset.name, tmp, tags)
        staging.adopt(rel, tmp, rendered.sha256)
        mastered += 1
        peaks = [json.loads(p.with_suffix(".json").read_text())["true_peak_dbtp"] for p in paths]
        voice = synthesis.clips[(m.voice, m.parts[0])].produced_by if m.parts else m.voice
        entries[rel] = {"path": rel, "kind": "message", "sha256": staging.written[rel],
                        "seconds": round(rendered.duration, 3), "locale": m.locale.id, "scripts": [m.script.id],
                        "voice": voice, "engine": project_voice_engine(project, voice), "key": key,
                        "true_peak_dbtp": max(peaks)}
        durations[(m.script.id, m.locale.id)] = rendered.duration
    # made in this build; the others came from .cache/segments
    result.stats["segments"] = sum(1 for _, part, _, _ in tasks.values() if isinstance(part, Segment))
    result.stats["pauses"] = len(tasks) - result.stats["segments"]
    timings["master"] = round(time.monotonic() - t, 3)
    result.stats["mastered"] = mastered
    t = time.monotonic()
    # plan with the exact durations, then programs and every format per commune
    # the station's opening and closing lines: made once per preset, and their length is taken
    # off every slot so a program never runs past its slot
    lines: dict[tuple[str, str], tuple[Path, float] | None] = {}
    for preset_name in sorted({loc.preset for loc in chosen}):
        for name in ("opening", "closing"):
            lines[(preset_name, name)] = _station_line(project, extras, synthesis, name, preset_name, staging)
    overhead = max((sum(line.duration for n in ("opening", "closing") if (line := lines[(p, n)]))
                    for p in {loc.preset for loc in chosen}), default=0.0)
    plan = plan_week(project, week, durations_from(durations), [loc for loc in chosen if loc.id not in failed],
                     overhead=overhead)
    timings["plan"] = round(time.monotonic() - t, 3)
    for shortfall in plan.shortfalls:
        result.warnings.append(str(shortfall))
    t = time.monotonic()
    titles = {s.id: s for s in project.scripts}
    by_id = {loc.id: loc for loc in chosen}

    def programs_of(locale_plan: LocalePlan) -> None:
        locale = by_id[locale_plan.locale_id]
        _programs(project.settings.name, week, locale, locale_plan, entries, titles, lines[(locale.preset, "opening")],
                  lines[(locale.preset, "closing")], previous, staging)

    # threads, not processes: joining is copying bytes, and file writes and hashing release the GIL
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        list(pool.map(programs_of, plan.locales))  # re-raises the first failure
    result.files.extend(entries.values())
    timings["programs+formats"] = round(time.monotonic() - t, 3)
    if strict and result.warnings:
        result.failures.append(f"{len(result.warnings)} cảnh báo với --strict (warnings under --strict)")


def _master_task(task: tuple) -> Any:
    """Worker: load the segment's clips from the cache by key, then assemble, master, encode.

    Streams: no audio passes between processes, so memory stays bounded however many
    communes are built."""
    cache_dir, segment, preset, path = task
    cache = ClipCache(cache_dir)

    def clip(key: str) -> Any:
        loaded = cache.get(key)
        if loaded is None:
            raise ContentError([Problem("", 0, "", f"câu {key[:12]} mất khỏi cache", "chạy lại lệnh build")])
        return loaded

    if isinstance(segment, Segment):
        segment = Segment(segment.level, tuple(clip(k) for k in segment.parts))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    rendered = render_segment(segment, preset, Path(path))
    # its measurements beside it, written last: a segment without them is unfinished
    info = Path(path).with_suffix(".json")
    tmp = info.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"seconds": rendered.duration, "loudness_lufs": rendered.loudness_lufs,
                               "true_peak_dbtp": rendered.true_peak_dbtp}))
    os.replace(tmp, info)
    return rendered


def _segment_done(path: Path) -> bool:
    return path.is_file() and path.with_suffix(".json").is_file()


def _master_all(tasks: list[tuple[str, tuple]], jobs: int | None) -> dict[str, Any]:
    workers = min(jobs or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        return {key: _master_task(task) for key, task in tasks}
    # workers.process_pool: one BLAS thread per worker, workers die with this process, and
    # Ctrl-C or SIGTERM cancels the queue instead of mastering it to the end
    with process_pool(workers) as pool:
        return dict(zip([key for key, _ in tasks], pool.map(_master_task, [task for _, task in tasks])))


def project_voice_engine(project: Project, voice_id: str) -> str:
    return next((v.engine for v in project.voices if v.id == voice_id), "")


def _station_line(project: Project, extras: dict[str, Speech], synthesis: SynthesisResult, name: str,
                  preset: str, staging: Staging) -> Rendered | None:
    """The station's opening or closing line, mastered once per preset, shared by every program."""
    voice = project.settings.default_voice
    if name not in extras or any((voice, p) not in synthesis.clips for p in extras[name].parts):
        return None  # not configured, or its voice failed (listed among the synthesis failures)
    body = _spoken(extras[name], {p: synthesis.clip(voice, p) for p in extras[name].parts})
    path = staging.work / "parts" / f"{name}-{preset}.{get_preset(preset).container}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return render_message(MessageAudio(body=body), preset, path, Tags(title=name, artist=project.settings.name))


def _programs(project_name: str, week: Week, locale: Locale, plan: LocalePlan, entries: dict[str, dict[str, Any]],
              scripts: dict[str, Script], opening: Rendered | None, closing: Rendered | None,
              previous: dict[str, dict[str, Any]], staging: Staging) -> None:
    """One commune's program files and schedules. Runs in a thread beside other communes: it
    writes only this commune's entries.

    A program's tags name the week and station, not the slot (the file name does that), so two
    slots that air the same messages in the same order get byte-identical files, stored once
    (a hard link): the rotation repeats, and most communes' weeks have half as many distinct
    programs as slots."""
    folder = _folder(locale)
    made: dict[str, str] = {}  # program key -> the first file written with it
    lines_digest = tuple(line.sha256 if line else "" for line in (opening, closing))
    preset = get_preset(locale.preset)
    station = locale.data.get("station") or locale.name

    def item(script_id: str) -> ItemFile:
        rel = f"{folder}/messages/{script_id}.{preset.container}"
        return ItemFile(script_id, scripts[script_id].title, scripts[script_id].level,
                        f"messages/{script_id}.{preset.container}", entries[rel]["seconds"])

    def program_file(name: str, program, items: tuple[ItemFile, ...], title: str, kind: str) -> ProgramFile:
        rel = f"{folder}/{name}.{preset.container}"
        parts = [entries[f"{folder}/{i.file}"] for i in items]
        key = _key("program", preset.name, [p["sha256"] for p in parts], *lines_digest, title, station)
        old = previous.get(rel)
        if old and old.get("key") == key and staging.carry_over(rel, old.get("sha256")):
            seconds = old["seconds"]
            entries[rel] = old
        elif key in made:
            staging.link(rel, made[key])
            seconds = entries[made[key]]["seconds"]
            entries[rel] = {**entries[made[key]], "path": rel, "kind": kind}
        else:
            tmp = staging.work / rel
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tags = Tags(title=title, artist=station, album=f"Tuần {week.id}", date=week.days[0].isoformat())
            paths = [opening and opening.path] + [staging.path / p["path"] for p in parts] + [closing and closing.path]
            rendered = join([p for p in paths if p is not None], preset.name, tmp, tags)
            staging.adopt(rel, rendered.path, rendered.sha256)
            seconds = rendered.duration
            entries[rel] = {"path": rel, "kind": kind, "sha256": staging.written[rel], "seconds": round(seconds, 3),
                            "locale": locale.id, "scripts": [i.script_id for i in items], "key": key}
        made.setdefault(key, rel)
        return ProgramFile(name, program, f"{name}.{preset.container}", seconds, items)

    programs = []
    for program in plan.programs:
        items = tuple(item(a.script_id) for a in program.items)
        title = f"{project_name} ({len(items)} tin) — {station}"
        programs.append(program_file(program.name, program, items, title, "program"))
    emergencies = []
    for airing in plan.emergencies:
        items = (item(airing.script_id),)
        name = f"KHAN-CAP_{airing.script_id}"  # sorts before the dated programs: seen first
        emergencies.append(program_file(name, None, items, f"KHẨN CẤP — {scripts[airing.script_id].title}",
                                        "emergency"))
    station_week = StationWeek(week, locale.id, locale.name, station, locale.data["province"]["name"],
                               tuple(programs), tuple(emergencies))
    for writer_name, writer in FORMATS.items():
        for name, data in writer(station_week).items():
            rel = f"{folder}/{name}"
            staging.write_bytes(rel, data)
            entries[rel] = {"path": rel, "kind": writer_name, "sha256": staging.written[rel], "seconds": None,
                            "locale": locale.id, "scripts": [], "key": None}


def _write_manifest(project: Project, week: Week, staging: Staging, result: BuildResult,
                    chosen: list[Locale]) -> None:
    files = sorted(result.files, key=lambda e: e["path"])
    result.files = files
    manifest = {
        "schema": 1,
        "generator": f"broadcast {__version__}",
        "project": project.settings.name,
        "week": {"id": week.id, "start": week.days[0].isoformat(), "end": week.days[-1].isoformat()},
        "locales": sorted({e["locale"] for e in files if e.get("locale")}),
        "files": files,
        "failures": result.failures,
        "warnings": result.warnings,
        "build": result.stats,  # the only section that may differ between identical rebuilds
    }
    staging.write_bytes(MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def clip_keys_in_use(project: Project, week: Week) -> set[str]:
    """Cache keys of every clip the current scripts need, for every commune (and fallback voices)."""
    messages, extras = speak_all(project, week, list(project.locales), list(project.scripts))
    voices = {v.id: v for v in project.voices}
    engines: dict[str, Any] = {}
    keys = set()
    for voice, text in requests_for(project, messages, extras):
        chain = [voice] + ([voices[voice.fallback]] if voice.fallback in voices else [])
        for v in chain:
            if v.id not in engines:
                engines[v.id] = make_engine(v.engine, v.params, project.root)
            engine = engines[v.id]
            keys.add(clip_key(engine.NAME, engine.version(), engine.params, text))
    return keys


def say(project: Project, text: str, voice_id: str, path: Path, lexicon_locale: Locale | None = None) -> Any:
    """Speak `text` (already rendered) with `voice_id` into `path` (.mp3 or .wav), as a message would sound."""
    lexicons = Lexicons(project)
    if lexicons.problems:
        raise ContentError(lexicons.problems)
    speech = speak(text, lexicons.of(lexicon_locale) if lexicon_locale else lexicons.base)
    voices = {v.id: v for v in project.voices}
    voice = voices[voice_id]
    parts = speech.parts
    synthesis = synthesize_all([(voice, p) for p in parts], ClipCache(cache_folder(project.root)), project.root,
                               jobs=1, progress=False, voices=voices)
    if synthesis.failures:
        raise ContentError([Problem("", 0, "", str(f), "kiểm tra giọng đọc bằng 'broadcast doctor'")
                            for f in synthesis.failures])
    body = _spoken(speech, {p: synthesis.clip(voice_id, p) for p in parts})
    preset = "phat-thanh" if path.suffix.lower() == ".wav" else \
        (project.settings.preset if get_preset(project.settings.preset).container == "mp3" else "loa")
    return render_message(MessageAudio(body=body), preset, path, Tags(title=text[:60], artist=project.settings.name))
