"""Clip cache: content keys, atomic writes, crash safety, parallel writers; and the driver's
hit/miss accounting across runs."""

from __future__ import annotations

import math
import multiprocessing
import struct
import subprocess
import sys
import threading
from pathlib import Path

from broadcast.tts import Clip, ClipCache, VoiceSpec, clip_key, synthesize_all
from broadcast.tts.cache import TMP_PREFIX, encode_clip
from broadcast.tts.espeak import EspeakEngine
from broadcast.wav import read_wav

SRC = str(Path(__file__).resolve().parents[1] / "src")


def tone(seconds: float = 0.2, freq: float = 440.0, rate: int = 16000) -> Clip:
    n = int(seconds * rate)
    return Clip(struct.pack(f"<{n}h", *(int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n))), rate)


KEY = clip_key("espeak", "1", {"voice": "vi"}, "Xin chào bà con.")


# ---------------------------------------------------------------- keys and basic storage


def test_key_depends_on_every_ingredient():
    base = ("espeak", "v1", {"voice": "vi", "rate": 150}, "Câu một.")
    k = clip_key(*base)
    assert len(k) == 64
    assert clip_key("espeak", "v1", {"rate": 150, "voice": "vi"}, "Câu một.") == k  # param order irrelevant
    assert clip_key("gtts", *base[1:]) != k
    assert clip_key("espeak", "v2", *base[2:]) != k
    assert clip_key("espeak", "v1", {"voice": "vi", "rate": 151}, "Câu một.") != k
    assert clip_key("espeak", "v1", base[2], "Câu một!") != k


def test_put_get_stats_prune(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    assert cache.get(KEY) is None and cache.stats() == (0, 0)
    clip = tone()
    path = cache.put(KEY, clip)
    assert path == tmp_path / "clips" / KEY[:2] / f"{KEY}.wav"
    assert cache.get(KEY) == clip and KEY in cache
    # the stored file is a plain WAV that other tools can read
    assert read_wav(path) == clip
    other = clip_key("espeak", "1", {}, "khác")
    cache.put(other, tone(0.1))
    count, size = cache.stats()
    assert count == 2 and size == path.stat().st_size + cache.path(other).stat().st_size
    removed, freed = cache.prune({KEY})
    assert removed == 1 and freed > 0
    assert cache.get(other) is None and cache.get(KEY) == clip
    assert cache.writable()[0]


# ---------------------------------------------------------------- crash safety

CRASH_SCRIPT = """
import os, sys
sys.path.insert(0, {src!r})
from broadcast.tts import cache as c
from broadcast.pcm import Clip
def die(*a):  # killed between write and rename
    os._exit(9)
c.os.replace = die
c.ClipCache({folder!r}).put({key!r}, Clip(b"\\x01\\x02" * 8000, 16000))
"""


def test_worker_killed_between_write_and_rename(tmp_path):
    folder = tmp_path / "clips"
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT.format(src=SRC, folder=str(folder), key=KEY)])
    assert proc.returncode == 9
    cache = ClipCache(folder)
    leftovers = list((folder / KEY[:2]).iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(TMP_PREFIX)  # the temp file only
    assert cache.get(KEY) is None and cache.stats() == (0, 0)
    clip = tone()
    cache.put(KEY, clip)
    assert cache.get(KEY) == clip
    # stale temp files are swept by prune; fresh ones (a live writer's) are left alone
    assert cache.prune({KEY}) == (0, 0)
    removed, _ = cache.prune({KEY}, stale_tmp_seconds=0)
    assert removed == 1 and cache.get(KEY) == clip


def test_truncated_temp_and_corrupted_final_files_are_misses(tmp_path):
    cache = ClipCache(tmp_path)
    clip = tone()
    blob = encode_clip(clip)
    shard = tmp_path / KEY[:2]
    shard.mkdir()
    (shard / f"{TMP_PREFIX}abc.part").write_bytes(blob[: len(blob) // 2])
    assert cache.get(KEY) is None

    final = cache.path(KEY)
    final.write_bytes(blob[: len(blob) // 2])  # truncated under the final name
    assert cache.get(KEY) is None
    damaged = bytearray(blob)
    damaged[-100] ^= 0xFF  # one flipped byte in the samples
    final.write_bytes(bytes(damaged))
    assert cache.get(KEY) is None
    final.write_bytes(blob + b"\0\0")  # trailing garbage
    assert cache.get(KEY) is None
    final.write_bytes(b"")
    assert cache.get(KEY) is None
    cache.put(KEY, clip)
    assert cache.get(KEY) == clip


def _hammer(folder: str, key: str, seed: int, n: int) -> None:
    cache = ClipCache(folder)
    for i in range(n):
        cache.put(key, tone(0.05 + 0.01 * ((seed + i) % 5)))


def test_parallel_writers_of_the_same_key(tmp_path):
    folder = str(tmp_path)
    valid = {tone(0.05 + 0.01 * j).samples for j in range(5)}
    bad: list[object] = []
    stop = threading.Event()

    def reader() -> None:
        cache = ClipCache(folder)
        while not stop.is_set():
            c = cache.get(KEY)
            if c is not None and c.samples not in valid:
                bad.append(c)

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(folder, KEY, s, 40)) for s in range(2)]
    threads = [threading.Thread(target=_hammer, args=(folder, KEY, s, 40)) for s in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers + threads:
        t.start()
    for p in procs:
        p.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    stop.set()
    for t in readers:
        t.join()
    assert not bad
    assert ClipCache(folder).get(KEY).samples in valid
    assert ClipCache(folder).stats()[0] == 1
    assert not [p for p in (tmp_path / KEY[:2]).iterdir() if p.name.startswith(TMP_PREFIX)]


# ---------------------------------------------------------------- the driver

SENTENCES = [
    "Kính thưa bà con nhân dân!",
    "Bà con tuyệt đối không chuyển tiền cho người lạ.",
    "Hãy báo ngay cho công an xã.",
]


def test_second_run_makes_no_engine_calls(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    north = VoiceSpec("bac", "espeak", {"voice": "vi"})
    south = VoiceSpec("nam", "espeak", {"voice": "vi-vn-x-south"})
    reqs = [(north, s) for s in SENTENCES] + [(south, SENTENCES[0]), (north, SENTENCES[0])]

    first = synthesize_all(reqs, cache, tmp_path, jobs=1)
    assert first.ok
    assert (first.stats.requests, first.stats.unique, first.stats.engine_calls, first.stats.cache_hits) == (5, 4, 4, 0)
    clip = first.clip("bac", SENTENCES[1])
    assert 1.5 < clip.duration < 6
    assert first[("nam", SENTENCES[0])].produced_by == "nam"

    second = synthesize_all(reqs, cache, tmp_path, jobs=1)
    assert second.stats.engine_calls == 0 and second.stats.cache_hits == 4
    assert second.clip("bac", SENTENCES[1]) == clip  # same audio, from the cache
    assert all(c.cached for c in second.clips.values())

    changed = [(north, "Hãy báo ngay cho công an phường.")] + reqs[1:4]  # one sentence edited
    third = synthesize_all(changed, cache, tmp_path, jobs=1)
    assert third.stats.engine_calls == 1 and third.stats.cache_hits == 3


def test_same_engine_and_params_under_two_ids_is_spoken_once(tmp_path):
    cache = ClipCache(tmp_path)
    a, b = VoiceSpec("a", "espeak", {}), VoiceSpec("b", "espeak", {"voice": "vi"})
    r = synthesize_all([(a, SENTENCES[0]), (b, SENTENCES[0])], cache, tmp_path, jobs=1)
    assert r.stats.unique == 2 and r.stats.engine_calls == 1
    assert r[("a", SENTENCES[0])].key == r[("b", SENTENCES[0])].key


def test_process_pool_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(EspeakEngine, "POOL_MIN_TASKS", 1)
    cache = ClipCache(tmp_path / "clips")
    voice = VoiceSpec("bac", "espeak", {})
    texts = [f"Đây là câu thử số {i}." for i in range(6)]
    r = synthesize_all([(voice, t) for t in texts], cache, tmp_path, jobs=2)
    assert r.ok and r.stats.engine_calls == 6
    assert cache.stats()[0] == 6
    assert all(0.5 < r.clip("bac", t).duration < 5 for t in texts)
    again = synthesize_all([(voice, t) for t in texts], cache, tmp_path, jobs=2)
    assert again.stats.engine_calls == 0


def test_failures_name_voice_and_sentence_and_fallback_is_recorded(tmp_path, caplog):
    cache = ClipCache(tmp_path / "clips")
    (tmp_path / "rec").mkdir()
    recorded = VoiceSpec("ede", "recorded", {"folder": "rec"}, fallback="bac")
    lone = VoiceSpec("ede-only", "recorded", {"folder": "rec"})
    broken = VoiceSpec("hong", "no-such-engine", {})
    north = VoiceSpec("bac", "espeak", {})
    reqs = [(recorded, SENTENCES[0]), (lone, SENTENCES[1]), (broken, SENTENCES[2])]
    r = synthesize_all(reqs, cache, tmp_path, jobs=1, voices={"bac": north})
    assert r.stats.fallback_uses == 1
    spoken = r[("ede", SENTENCES[0])]
    assert spoken.produced_by == "bac" and spoken.fallback_used
    assert {(f.voice_id, f.sentence) for f in r.failures} == {("ede-only", SENTENCES[1]), ("hong", SENTENCES[2])}
    assert r.stats.failures == 2 and not r.ok
    by_voice = {f.voice_id: f for f in r.failures}
    assert by_voice["ede-only"].missing_recording
    assert "espeak" in by_voice["hong"].message  # the unknown engine lists the valid ones
    assert "Hãy báo ngay" in str(by_voice["hong"])


def test_progress_log_lines_when_not_a_terminal(tmp_path, caplog):
    caplog.set_level("INFO", logger="broadcast")
    voice = VoiceSpec("bac", "espeak", {})
    synthesize_all([(voice, s) for s in SENTENCES], ClipCache(tmp_path), tmp_path, jobs=1)
    lines = [r.getMessage() for r in caplog.records]
    assert any("3/3" in line for line in lines)
    assert any("engine calls" in line for line in lines)


UNGUARDED_SCRIPT = """
import sys
sys.path.insert(0, {src!r})
from pathlib import Path
from broadcast.tts import ClipCache, VoiceSpec, synthesize_all
from broadcast.tts.espeak import EspeakEngine
EspeakEngine.POOL_MIN_TASKS = 1
# no `if __name__ == "__main__":` guard: every worker process dies while starting
voice = VoiceSpec("bac", "espeak", {{}})
r = synthesize_all([(voice, f"Câu số {{i}}.") for i in range(4)], ClipCache({folder!r}), Path("."), jobs=2)
print(r.ok, r.stats.engine_calls, len(r.clips))
"""


def test_dead_worker_processes_do_not_lose_or_corrupt_clips(tmp_path):
    folder = tmp_path / "clips"
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT.format(src=SRC, folder=str(folder)), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "True 4 4", proc.stderr[-2000:]
    cache = ClipCache(folder)
    assert cache.stats()[0] == 4
    for p in folder.rglob("*.wav"):
        assert cache.get(p.stem) is not None
