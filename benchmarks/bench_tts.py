"""Measure espeak synthesis speed through the driver (sentences/s and x real time).

    PYTHONPATH=src python benchmarks/bench_tts.py [--sentences 400] [--jobs 1 2]

Each run uses a fresh cache folder, so every sentence is an engine call; a second pass over
the same cache measures the all-hits path.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from broadcast.tts import ClipCache, VoiceSpec, synthesize_all

WORDS = (
    "bà con nhân dân tuyệt đối không chuyển tiền cho người lạ cảnh giác với các cuộc gọi giả danh "
    "công an viện kiểm sát tòa án yêu cầu cung cấp mã OTP tài khoản ngân hàng hãy báo ngay cho "
    "chính quyền địa phương khi nhận được tin nhắn đường link lạ lừa đảo trúng thưởng đầu tư"
).split()


def sentences(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
        out.append(f"{' '.join(words).capitalize()} số {i}.")
    return out


def run(n: int, jobs: int, voice: VoiceSpec) -> None:
    texts = sentences(n)
    with tempfile.TemporaryDirectory() as tmp:
        cache = ClipCache(Path(tmp) / "clips")
        t0 = time.perf_counter()
        r = synthesize_all([(voice, s) for s in texts], cache, Path("."), jobs=jobs)
        dt = time.perf_counter() - t0
        assert r.ok, r.failures[:3]
        audio = r.stats.audio_seconds
        t1 = time.perf_counter()
        r2 = synthesize_all([(voice, s) for s in texts], cache, Path("."), jobs=jobs)
        dt2 = time.perf_counter() - t1
        assert r2.stats.engine_calls == 0
    print(
        f"jobs={jobs:<2} {n} sentences, {audio:7.1f} s audio in {dt:6.2f} s: "
        f"{n / dt:7.1f} sentences/s, {audio / dt:6.0f}x real time; all-cached pass {dt2:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=400)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    ap.add_argument("--voice", default="vi")
    args = ap.parse_args()
    voice = VoiceSpec("bench", "espeak", {"voice": args.voice})
    for jobs in args.jobs:
        run(args.sentences, jobs, voice)


if __name__ == "__main__":
    main()
