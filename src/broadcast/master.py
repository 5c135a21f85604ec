"""Master stage: every (script, commune) message as a finished file, made from shared segments.

Each distinct segment (the chime, one sentence, the reminder, a pause length) is mastered and
encoded once for all communes and kept in the `SegmentStore` between builds; a message file
is its segments' frames joined without re-encoding (see audio/segments.py). A message whose
inputs did not change since the published week is carried over as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .audio import AudioFile, MessageAudio, Preset, Tags, master_message
from .audio.join import join_files
from .audio.layout import Pause, Segment, layout
from .audio.segments import SOUND_VERSION, master_segment
from .context import BuildContext
from .errors import AudioError, bilingual
from .events import Progress, ignore
from .manifest import Entry
from .messages import Announcements, Message, spoken_clips
from .model import Project, Week
from .speech import Speech
from .tts import ClipCache, SynthesisResult
from .workers import process_pool

SIDECAR = ".json"
THREADS_UP_TO = 120  # segments mastered in threads of this process; more go to worker processes


def content_key(*parts: Any) -> str:
    """A name for what a file is made of: same inputs, same key."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SegmentInfo:
    """What was measured on a mastered segment when it was made (its sidecar)."""

    seconds: float
    loudness_lufs: float
    true_peak_dbtp: float
    sha256: str


class SegmentStore:
    """Mastered segments kept between builds: `<folder>/<2 hex>/<key>.<container>`, each with a
    JSON sidecar written last: its measurements, its length in bytes and its sha256. A segment
    is used only when its bytes match its sidecar; one without a readable, matching sidecar is
    unfinished or damaged (a killed build, a bad disk, a hand edit) and is made again."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._verified: dict[Path, SegmentInfo] = {}  # read and checked once per build

    def path(self, key: str, container: str) -> Path:
        return self.folder / key[:2] / f"{key}.{container}"

    def info(self, path: Path) -> SegmentInfo | None:
        """The segment's measurements, or None unless its bytes are exactly what was made."""
        if path in self._verified:
            return self._verified[path]
        try:
            data = json.loads(path.with_suffix(SIDECAR).read_text(encoding="utf-8"))
            blob = path.read_bytes()
            if len(blob) != data["bytes"] or hashlib.sha256(blob).hexdigest() != data["sha256"]:
                return None
            info = SegmentInfo(float(data["seconds"]), float(data["loudness_lufs"]), float(data["true_peak_dbtp"]),
                               str(data["sha256"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._verified[path] = info
        return info

    def save_info(self, path: Path, audio: AudioFile) -> None:
        sidecar = path.with_suffix(SIDECAR)
        tmp = sidecar.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # segments are made in threads too
        tmp.write_text(json.dumps({"seconds": audio.duration, "loudness_lufs": audio.loudness_lufs,
                                   "true_peak_dbtp": audio.true_peak_dbtp, "bytes": path.stat().st_size,
                                   "sha256": audio.sha256}), encoding="utf-8")
        os.replace(tmp, sidecar)

    def stats(self) -> tuple[int, int]:
        """(segments, bytes) kept."""
        files = [p for p in self.folder.rglob("*") if p.is_file()] if self.folder.is_dir() else []
        return sum(p.suffix != SIDECAR for p in files), sum(p.stat().st_size for p in files)

    def clear(self) -> int:
        """Drop every segment (they are remade on demand, so this is always safe); returns how many."""
        count, _ = self.stats()
        if self.folder.is_dir():
            import shutil

            shutil.rmtree(self.folder)
        return count

    def make(self, tasks: dict[str, tuple[Segment | Pause, Preset, Path]], clips: Path, jobs: int | None,
             progress: Progress) -> None:
        """Master and encode every segment in `tasks` (key -> (segment, preset, path)), in
        parallel; the segments' speech parts are clip keys, read from the clip cache `clips`."""
        work = [(str(clips), segment, preset, str(path)) for segment, preset, path in tasks.values()]
        progress.start(len(work))
        workers = min(jobs or os.cpu_count() or 1, len(work))
        if workers <= 1:
            for task in work:
                self.save_info(Path(task[3]), _segment_worker(task))
                progress.advance()
            return
        if len(work) <= THREADS_UP_TO:
            # an edit's few segments: starting worker processes (~1.2 s) would cost more than they
            # save; numpy, scipy and the encoder release the GIL for most of a segment (2 threads:
            # 1.6x), and the bytes are the same as from a worker process
            threads = ThreadPoolExecutor(max_workers=workers)
            try:
                for task, audio in zip(work, threads.map(_segment_worker, work)):
                    self.save_info(Path(task[3]), audio)
                    progress.advance()
            finally:  # Ctrl-C: what is queued is dropped, not mastered to the end
                threads.shutdown(wait=True, cancel_futures=True)
            return
        # workers.process_pool: one BLAS thread per worker, workers die with this process, and
        # Ctrl-C or SIGTERM cancels the queue instead of mastering it to the end
        with process_pool(workers) as pool:
            for task, audio in zip(work, pool.map(_segment_worker, work)):
                self.save_info(Path(task[3]), audio)
                progress.advance()


def _segment_worker(task: tuple[str, Segment | Pause, Preset, str]) -> AudioFile:
    """Worker: load the segment's clips from the cache by key, then assemble, master, encode.

    No audio passes between processes, so memory stays bounded however many communes are built."""
    clip_folder, segment, preset, path = task
    cache = ClipCache(clip_folder)
    if isinstance(segment, Segment):
        clips = tuple(cache.get(key) for key in segment.parts)
        if any(clip is None for clip in clips):
            raise AudioError(bilingual("một câu đã tổng hợp mất khỏi bộ nhớ đệm .cache/clips",
                                       "a synthesised clip vanished from the cache; run the build again"))
        segment = Segment(segment.level, clips)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return master_segment(segment, preset, Path(path))


@dataclass(frozen=True)
class MessagePlan:
    """How one message file is made: its key, where it goes, and the segments it joins."""

    message: Message
    preset: Preset
    rel: str
    tags: Tags
    key: str
    parts: tuple[tuple[str, Segment | Pause], ...]  # (segment key, segment)
    sound: str  # what the audio is made of, without the tags (which name the week): the podcast guid


def message_tags(message: Message, week: Week) -> Tags:
    return Tags(title=message.script.title, artist=message.locale.station, album=f"Tuần {week.id}",
                date=week.days[0].isoformat(), script_id=message.script.id, source=message.script.source)


def plan_message(message: Message, week: Week, synthesis: SynthesisResult, announcements: Announcements) -> MessagePlan:
    preset = message.locale.preset
    rel = f"{message.locale.id}/messages/{message.script.id}.{preset.container}"
    tags = message_tags(message, week)
    body = [tuple(tuple(synthesis.clips[(message.voice, p)].key for p in s.parts) for s in para.sentences)
            for para in message.speech.paragraphs]
    script = message.script
    reminder = synthesis.clips[(message.voice, announcements.reminder.parts[0])].key if script.repeat > 1 else None
    key = content_key("message", SOUND_VERSION, preset.name, body, reminder, script.repeat, script.level, tags)
    sound = content_key("sound", SOUND_VERSION, preset.name, body, reminder, script.repeat, script.level)
    parts = tuple((content_key("pause", preset.name, part.seconds) if isinstance(part, Pause) else
                   content_key("segment", SOUND_VERSION, preset.name, part.level, part.parts), part)
                  for part in layout(body, reminder, script.repeat, script.level, preset))
    return MessagePlan(message, preset, rel, tags, key, parts, sound)


def make_segments(store: SegmentStore, plans: Iterable[MessagePlan], clips: Path, jobs: int | None,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Master every segment the plans need that the store does not hold yet; returns counts."""
    tasks: dict[str, tuple[Segment | Pause, Preset, Path]] = {}
    for plan in plans:
        container = plan.preset.container
        for key, part in plan.parts:
            path = store.path(key, container)
            if key not in tasks and store.info(path) is None:
                tasks[key] = (part, plan.preset, path)
    store.make(tasks, clips, jobs, progress or Progress("master", ignore))
    segments = sum(isinstance(part, Segment) for part, _, _ in tasks.values())
    return {"segments": segments, "pauses": len(tasks) - segments}


def join_message(store: SegmentStore, plan: MessagePlan, path: Path) -> tuple[AudioFile, float]:
    """The message file at `path`: its segments joined; returns it with its highest true peak."""
    paths = [store.path(key, plan.preset.container) for key, _ in plan.parts]
    infos = [store.info(p) for p in paths]
    if any(info is None for info in infos):
        raise AudioError(bilingual("một đoạn âm thanh đã xử lý bị mất hoặc hỏng trong .cache/segments",
                                   "a mastered segment is missing or damaged; run the build again"))
    audio = join_files(paths, plan.preset, path, plan.tags)
    return audio, max(info.true_peak_dbtp for info in infos if info is not None)


def master_messages(ctx: BuildContext, messages: list[Message], progress: Progress) -> dict[tuple[str, str], float]:
    """Stage every message file of the communes being built; returns their lengths by
    (script id, locale id). Unchanged messages are carried over from the published week."""
    store = SegmentStore(segment_folder(ctx.project.root))
    durations: dict[tuple[str, str], float] = {}
    todo = []
    for message in messages:
        plan = plan_message(message, ctx.week, ctx.synthesis, ctx.announcements)
        old = ctx.previous.get(plan.rel)
        if old and old.key == plan.key and old.seconds is not None and ctx.staging.carry_over(plan.rel, old.sha256):
            ctx.entries[plan.rel] = old
            durations[(message.script.id, message.locale.id)] = old.seconds
        else:
            todo.append(plan)
    ctx.stats.update(make_segments(store, todo, ctx.synthesis.cache.folder, ctx.jobs, progress))

    def join(plan: MessagePlan) -> None:
        """One message file from its segments. Runs in a thread beside others (joining is reading,
        hashing and writing bytes, which release the GIL); each writes only its own entries."""
        message = plan.message
        tmp = ctx.staging.work / plan.rel
        tmp.parent.mkdir(parents=True, exist_ok=True)
        audio, peak = join_message(store, plan, tmp)
        ctx.staging.adopt(plan.rel, tmp, audio.sha256)
        produced_by = ctx.synthesis.clips[(message.voice, message.parts[0])].produced_by if message.parts \
            else message.voice
        ctx.entries[plan.rel] = Entry(plan.rel, "message", ctx.staging.written[plan.rel], round(audio.duration, 3),
                                      message.locale.id, (message.script.id,), plan.key, produced_by,
                                      _engine(ctx.project, produced_by), peak, sound=plan.sound)
        durations[(message.script.id, message.locale.id)] = audio.duration

    with ThreadPoolExecutor(max_workers=ctx.jobs or os.cpu_count() or 1) as pool:
        list(pool.map(join, todo))  # re-raises the first failure
    ctx.stats["mastered"] = len(todo)
    return durations


@dataclass(frozen=True)
class AnnouncementFiles:
    """The opening and closing lines of one preset, made once for every program."""

    opening: AudioFile | None
    closing: AudioFile | None

    @property
    def seconds(self) -> float:
        return sum(line.duration for line in (self.opening, self.closing) if line)

    @property
    def digest(self) -> tuple[str, str]:
        return (self.opening.sha256 if self.opening else "", self.closing.sha256 if self.closing else "")


def master_announcements(ctx: BuildContext) -> dict[str, AnnouncementFiles]:
    """The station's opening and closing lines, mastered once per preset in use and kept in the
    segment store between builds (each build re-mastered them: 0.3 s)."""
    store = SegmentStore(segment_folder(ctx.project.root))

    def make(name: str, speech: Speech | None, preset: Preset) -> AudioFile | None:
        voice = ctx.project.settings.default_voice
        if speech is None or any((voice, p) not in ctx.synthesis.clips for p in speech.parts):
            return None  # not configured, or its voice failed (listed among the synthesis failures)
        tags = Tags(title=name, artist=ctx.project.settings.name)
        clips = [[[ctx.synthesis.clips[(voice, part)].key for part in sentence.parts] for sentence in para.sentences]
                 for para in speech.paragraphs]
        path = store.path(content_key("announcement", SOUND_VERSION, preset.name, clips, tags), preset.container)
        info = store.info(path)
        if info is not None:
            return AudioFile(path, info.seconds, info.sha256, info.loudness_lufs, info.true_peak_dbtp)
        body = spoken_clips(speech, lambda part: ctx.synthesis.clip(voice, part))
        audio = master_message(MessageAudio(body=body), preset, path, tags)  # written whole, then renamed
        store.save_info(path, audio)
        return audio

    presets = sorted({loc.preset for loc in ctx.locales}, key=lambda preset: preset.name)
    return {preset.name: AnnouncementFiles(make("opening", ctx.announcements.opening, preset),
                                           make("closing", ctx.announcements.closing, preset)) for preset in presets}


def _engine(project: Project, voice_id: str) -> str:
    return next((v.engine for v in project.voices if v.id == voice_id), "")


def segment_folder(root: Path) -> Path:
    """Mastered segments kept between builds, so an edit re-masters only what changed."""
    return root / ".cache" / "segments"
