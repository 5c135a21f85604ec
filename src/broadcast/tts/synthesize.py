"""The synthesis driver: every unique (voice, sentence) spoken at most once, through the cache.

    requests ─► unique (voice id, sentence) ─► cache key per item ─► hits
                                                  └─► misses, deduplicated by key:
          "process" engines: process pool, one engine per worker
          "thread" engines:  bounded thread pool, one shared engine
          "inline" engines:  in this thread
    failures ─► the voice's configured `fallback` (if any), recorded as such ─► result

Workers write clips into the cache and hand back keys, never audio, so memory stays
bounded whatever the batch size. Two error tiers as in beets: one sentence failing is
logged, counted and named in the result; a broken cache folder (OSError on put) is the
same per sentence, so a batch job reports all of them at once.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ThreadPoolExecutor,
    as_completed,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broadcast.pcm import Clip

from ..errors import EnvironmentProblem
from ..events import Progress, ignore
from ..workers import process_pool
from .base import Engine, MissingRecording, TTSError, bilingual, sentence_label
from .cache import ClipCache, clip_key
from .registry import make_engine
from .voices import VoiceLike

log = logging.getLogger(__name__)

DEFAULT_THREADS = 4


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SpokenClip:
    """Where the audio for one (voice, sentence) is. Load it with `load()`."""

    voice_id: str  # the voice that was asked for
    sentence: str
    produced_by: str  # the voice that actually spoke it (differs when a fallback was used)
    key: str
    path: Path
    duration: float
    cached: bool  # True if it was already in the cache before this run

    def load(self) -> Clip:
        clip = ClipCache(self.path.parent.parent).get(self.key)
        if clip is None:
            raise TTSError(
                bilingual(
                    f"tệp âm thanh trong cache đã mất hoặc hỏng: {self.path}",
                    "cached clip vanished or is damaged; run the build again",
                )
            )
        return clip

    @property
    def fallback_used(self) -> bool:
        return self.produced_by != self.voice_id


@dataclass(frozen=True)
class SynthesisFailure:
    voice_id: str
    sentence: str
    message: str
    missing_recording: bool = False

    def __str__(self) -> str:
        return f"[{self.voice_id}] {sentence_label(self.sentence)}: {self.message}"


@dataclass
class SynthesisStats:
    requests: int = 0  # (voice, sentence) pairs asked for, with repeats
    unique: int = 0  # unique (voice id, sentence) pairs
    cache_hits: int = 0
    engine_calls: int = 0  # synthesize() calls made (including ones that failed)
    failures: int = 0
    fallback_uses: int = 0
    retries: int = 0  # retries made by online engines
    audio_seconds: float = 0.0  # total duration of the clips produced by engine calls
    seconds: float = 0.0  # wall time of the whole call

    def summary(self) -> str:
        return (
            f"{self.unique} câu duy nhất, {self.cache_hits} có sẵn trong cache, "
            f"{self.engine_calls} lần gọi động cơ, {self.failures} lỗi, "
            f"{self.fallback_uses} lần dùng giọng dự phòng, {self.seconds:.1f} s "
            f"({self.unique} unique, {self.cache_hits} cached, {self.engine_calls} engine calls, "
            f"{self.failures} failed, {self.fallback_uses} fallbacks)"
        )


@dataclass
class SynthesisResult:
    clips: dict[tuple[str, str], SpokenClip]
    failures: list[SynthesisFailure]
    stats: SynthesisStats
    cache: ClipCache

    @property
    def ok(self) -> bool:
        return not self.failures

    def __getitem__(self, item: tuple[str, str]) -> SpokenClip:
        return self.clips[item]

    def __contains__(self, item: tuple[str, str]) -> bool:
        return item in self.clips

    def clip(self, voice_id: str, sentence: str) -> Clip:
        """The audio for (voice id, sentence), read from the cache."""
        return self.clips[(voice_id, sentence)].load()


# --------------------------------------------------------------------------- workers

# One engine per worker process (libespeak-ng is per-process state), built on first use.
_worker_engines: dict[tuple[str, str, str], Engine] = {}


def _params_json(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, ensure_ascii=False, default=str)


def _worker_synthesize(engine: str, params_json: str, base_dir: str, sentence: str, key: str, cache_dir: str):
    """Runs in a worker process: speak, store in the cache, return (key, duration, retries)."""
    ident = (engine, params_json, base_dir)
    eng = _worker_engines.get(ident)
    if eng is None:
        eng = _worker_engines[ident] = make_engine(engine, json.loads(params_json), Path(base_dir))
    before = eng.retries
    clip = eng.speak(sentence)
    ClipCache(cache_dir).put(key, clip)
    return key, clip.duration, eng.retries - before


def _threads(eng: Engine, jobs: int) -> int:
    """Threads for an engine: an online service's own cap; an offline engine's, at most --jobs."""
    wanted = int(getattr(eng, "max_concurrency", DEFAULT_THREADS))
    return wanted if eng.ONLINE else max(1, min(wanted, jobs))


def _local_synthesize(eng: Engine, sentence: str, key: str, cache: ClipCache):
    clip = eng.speak(sentence)
    cache.put(key, clip)
    return key, clip.duration, 0  # retries of in-process engines are counted per round




# --------------------------------------------------------------------------- driver


@dataclass
class _Item:
    voice_id: str  # requested
    sentence: str
    chain: list[str] = field(default_factory=list)  # voices tried, in order
    errors: list[str] = field(default_factory=list)
    missing: bool = False


def synthesize_all(
    requests: Sequence[tuple[VoiceLike, str]],
    cache: ClipCache,
    base_dir: Path,
    jobs: int | None = None,
    progress: Progress | None = None,
    voices: Mapping[str, VoiceLike] | None = None,
) -> SynthesisResult:
    """Speak every (voice, sentence) in `requests`, each unique one at most once, via `cache`.

    `jobs`: worker processes for offline engines (default: all cores; 1 = in this process).
    `progress`: told how many sentences are to be made and each one done (or failed).
    `voices`: every known profile by id, to resolve `fallback` ids (the voices in
    `requests` are always known).
    Returns a `SynthesisResult`: clips by (voice id, sentence) -> `SpokenClip` (cache path,
    duration, which voice produced it), failures (each naming voice and sentence), stats.
    """
    t0 = time.monotonic()
    base_dir = Path(base_dir)
    # once, here: a cache that cannot be made (.cache is a file, a disk refusing) is the machine's
    # problem, raised as such, not a voice failure repeated for every sentence
    cache.folder.mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or os.cpu_count() or 1)
    stats = SynthesisStats(requests=len(requests))

    known: dict[str, VoiceLike] = dict(voices or {})
    items: dict[tuple[str, str], _Item] = {}
    for voice, sentence in requests:
        known.setdefault(voice.id, voice)
        if (voice.id, sentence) not in items:
            items[(voice.id, sentence)] = _Item(voice.id, sentence)
    stats.unique = len(items)

    clips: dict[tuple[str, str], SpokenClip] = {}
    engines: dict[str, Engine | TTSError] = {}

    def engine_for(voice_id: str) -> Engine | TTSError:
        if voice_id not in engines:
            voice = known.get(voice_id)
            if voice is None:
                engines[voice_id] = TTSError(
                    bilingual(f"không có hồ sơ giọng '{voice_id}'", f"no voice profile '{voice_id}'")
                )
            else:
                try:
                    engines[voice_id] = make_engine(voice.engine, dict(voice.params or {}), base_dir)
                except TTSError as e:
                    engines[voice_id] = e
        return engines[voice_id]

    pending = list(items.values())
    bar = progress or Progress("synthesise", ignore)
    bar.start(len(pending))
    try:
        while pending:
            pending = _round(pending, known, engine_for, cache, base_dir, jobs, stats, clips, bar)
    finally:
        for eng in engines.values():
            if isinstance(eng, Engine):
                eng.close()

    failures = []
    for item in items.values():
        if (item.voice_id, item.sentence) not in clips:
            failures.append(
                SynthesisFailure(item.voice_id, item.sentence, " | ".join(item.errors), missing_recording=item.missing)
            )
    stats.failures = len(failures)
    stats.seconds = time.monotonic() - t0
    for f in failures:
        log.error("%s", f)
    log.info("tổng hợp giọng đọc: %s", stats.summary())
    return SynthesisResult(clips=clips, failures=failures, stats=stats, cache=cache)


def _round(pending, known, engine_for, cache, base_dir, jobs, stats, clips, bar) -> list[_Item]:
    """One pass: every item through the voice at the end of its chain. Returns items to
    retry with their fallback voice."""
    # which voice each item tries now
    work: dict[str, list[_Item]] = {}  # key -> items waiting on it
    plans: dict[str, tuple[Engine, str]] = {}  # key -> (engine, sentence)
    retry: list[_Item] = []

    def failed(item: _Item, message: str, missing: bool = False) -> None:
        voice_id = item.chain[-1]
        item.errors.append(f"{voice_id}: {message}" if voice_id != item.voice_id or len(item.chain) > 1 else message)
        item.missing = item.missing or missing
        nxt = getattr(known.get(voice_id), "fallback", None)
        if nxt and nxt not in item.chain:
            log.warning(
                "giọng %s lỗi, dùng giọng dự phòng %s cho %s (fallback)", voice_id, nxt, sentence_label(item.sentence)
            )
            retry.append(item)
        else:
            bar.advance()

    for item in pending:
        voice_id = item.voice_id if not item.chain else known[item.chain[-1]].fallback
        item.chain.append(voice_id)
        eng = engine_for(voice_id)
        if isinstance(eng, TTSError):
            failed(item, eng.message)
            continue
        try:
            key = clip_key(eng.NAME, eng.version(), eng.sound_params(), item.sentence)
        except (TTSError, OSError) as e:
            failed(item, getattr(e, "message", str(e)))
            continue
        clip = cache.get(key)
        if clip is not None:
            stats.cache_hits += 1
            _record(item, key, clip.duration, True, cache, clips, stats)
            bar.advance()
            continue
        work.setdefault(key, []).append(item)
        plans.setdefault(key, (eng, item.sentence))

    def done(key: str, duration: float, retries: int) -> None:
        stats.retries += retries
        stats.audio_seconds += duration
        for item in work[key]:
            _record(item, key, duration, False, cache, clips, stats)
            bar.advance()

    def fail(key: str, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, TTSError) else f"{type(exc).__name__}: {exc}"
        for item in work[key]:
            failed(item, message, missing=isinstance(exc, MissingRecording))

    by_pool: dict[str, list[str]] = {"process": [], "thread": [], "inline": []}
    for key, (eng, _) in plans.items():
        by_pool[eng.POOL if eng.POOL in by_pool else "inline"].append(key)

    # offline engines: a process pool only when it pays for the worker start-up
    proc_keys = by_pool["process"]
    if proc_keys and (jobs <= 1 or len(proc_keys) < max(plans[k][0].POOL_MIN_TASKS for k in proc_keys)):
        by_pool["inline"] = proc_keys + by_pool["inline"]
        proc_keys = []

    local = {id(plans[k][0]): plans[k][0] for k in by_pool["thread"] + by_pool["inline"]}
    retries_before = {i: eng.retries for i, eng in local.items()}
    executors: list[Executor] = []
    futures: dict[Future, str] = {}
    # the process pool (workers.process_pool) is left last: on Ctrl-C or SIGTERM it cancels
    # the queue and terminates its workers; on success it waits for them
    with ExitStack() as processes:
        try:
            if proc_keys:
                pool = processes.enter_context(process_pool(min(jobs, len(proc_keys))))
                for key in proc_keys:
                    eng, sentence = plans[key]
                    futures[pool.submit(
                        _worker_synthesize, eng.NAME, _params_json(eng.params), str(base_dir), sentence, key,
                        str(cache.folder),
                    )] = key
            if by_pool["thread"]:
                width = max(_threads(plans[k][0], jobs) for k in by_pool["thread"])
                threads = ThreadPoolExecutor(max_workers=width, thread_name_prefix="tts")
                executors.append(threads)
                for key in by_pool["thread"]:
                    eng, sentence = plans[key]
                    futures[threads.submit(_local_synthesize, eng, sentence, key, cache)] = key
            stats.engine_calls += len(futures)

            for key in by_pool["inline"]:  # meanwhile the pools work
                eng, sentence = plans[key]
                stats.engine_calls += 1
                try:
                    done(*_local_synthesize(eng, sentence, key, cache))
                except EnvironmentProblem:  # the cache, not the voice: the whole command stops
                    raise
                except (TTSError, OSError) as e:
                    fail(key, e)

            orphans: list[str] = []
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    done(*fut.result())
                except BrokenProcessPool:
                    orphans.append(key)
                except EnvironmentProblem:
                    raise
                except Exception as e:
                    fail(key, e)
            if orphans:
                # A worker died (crashed, was killed, or the calling script lacks an
                # `if __name__ == "__main__":` guard so workers cannot start): finish here.
                log.warning(
                    "tiến trình con tổng hợp giọng bị dừng; làm tiếp %d câu trong tiến trình này "
                    "(a synthesis worker process died; continuing in this process)",
                    len(orphans),
                )
                for key in orphans:
                    eng, sentence = plans[key]
                    try:
                        done(*_local_synthesize(eng, sentence, key, cache))
                    except EnvironmentProblem:  # the cache, not the voice: the whole command stops
                        raise
                    except (TTSError, OSError) as e:
                        fail(key, e)
        except BaseException:  # Ctrl-C or SIGTERM: what is under way gives up at its next wait
            for eng in local.values():
                eng.stop()
            raise
        finally:
            for ex in executors:
                ex.shutdown(wait=True, cancel_futures=True)
            stats.retries += sum(eng.retries - retries_before[i] for i, eng in local.items())
    return retry


def _record(item: _Item, key, duration, cached, cache: ClipCache, clips, stats) -> None:
    produced_by = item.chain[-1]
    if produced_by != item.voice_id:
        stats.fallback_uses += 1
    clips[(item.voice_id, item.sentence)] = SpokenClip(
        voice_id=item.voice_id,
        sentence=item.sentence,
        produced_by=produced_by,
        key=key,
        path=cache.path(key),
        duration=duration,
        cached=cached,
    )
