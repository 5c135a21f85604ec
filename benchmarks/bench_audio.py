# ruff: noqa: E402  (the thread limits must be set before numpy is imported)
"""Mastering throughput of `broadcast.audio`, as a multiple of real time on one core.

    python benchmarks/bench_audio.py [--seconds 28] [--runs 5]

For each preset: (1) master + encode (+ the verifying decode and measurement) of an
assembled message, the stage the 100x target is about; (2) the whole `master_message`,
which adds assembly (resampling, trimming, the ffmpeg `atempo` pass, the chime).
The process and its ffmpeg children are pinned to one CPU. Results go to
benchmarks/RESULTS-audio.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_var, "1")

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy

from broadcast.audio import AudioFile, MessageAudio, Tags, get_preset, master_message, preset_names
from broadcast.audio.assemble import assemble_samples
from broadcast.audio.encoding import encode_samples
from broadcast.audio.mastering import master_samples
from broadcast.audio.testsignal import sample_message
from broadcast.ffmpeg import ffmpeg_exe
from machine import cpu_model

RESULTS = Path(__file__).with_name("RESULTS-audio.md")
TAGS = Tags(title="Cảnh giác lừa đảo qua điện thoại", artist="Xã Chi Lăng", album="Tuần 2026-W49", track=1)


def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def best_of(runs: int, fn) -> float:
    fn()  # warm-up: imports, filter design, allocator growth
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_preset(name: str, message: MessageAudio, folder: Path, runs: int) -> tuple:
    preset = get_preset(name)
    out = folder / f"bench{preset.suffix}"
    assembled = assemble_samples(message, preset)
    seconds = len(assembled) / preset.work_rate
    master_t = best_of(runs, lambda: encode_samples(master_samples(assembled, preset.work_rate, preset), preset, out, TAGS))
    render_t = best_of(runs, lambda: master_message(message, preset, out, TAGS))
    rendered: AudioFile = master_message(message, preset, out, TAGS)
    print(
        f"{name:11s} {seconds:6.1f} s audio  master+encode {seconds / master_t:6.1f}x  "
        f"master_message {seconds / render_t:6.1f}x  {rendered.loudness_lufs} LUFS {rendered.true_peak_dbtp} dBTP"
    )
    return name, seconds, seconds / master_t, seconds / render_t, rendered


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=28.0, help="body length; the message says it twice")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # ffmpeg children inherit it

    message = sample_message(args.seconds, repeat=2, seed=5)
    with tempfile.TemporaryDirectory() as folder:
        rows = [bench_preset(name, message, Path(folder), args.runs) for name in preset_names()]

    lines = [
        "# broadcast.audio — mastering throughput",
        "",
        f"Machine: {cpu_model()}, pinned to 1 core ({os.cpu_count()} present); "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}; {ffmpeg_version()}.",
        f"Input: a synthetic speech-like message (`broadcast.audio.testsignal.sample_message`), body "
        f"{args.seconds:.0f} s said twice with a reminder, chime; median of {args.runs} runs after a warm-up.",
        "",
        "| preset | audio (s) | master + encode (x real time) | master_message (x real time) | LUFS | dBTP |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, secs, m, r, rendered in rows:
        lines.append(
            f"| {name} | {secs:.1f} | {m:.0f}x | {r:.0f}x | {rendered.loudness_lufs} | {rendered.true_peak_dbtp} |"
        )
    lines += [
        "",
        "*master + encode*: band-pass, phase rotation, compression, loudness normalisation, true-peak",
        "limiting, encoding, and the decode + measurement that verifies the file (target: >= 100x for `loa`).",
        "*master_message* adds assembly: resampling and trimming the clips, one ffmpeg `atempo` pass, the chime.",
        "",
        f"Reproduce: `{Path(sys.executable).name} benchmarks/bench_audio.py "
        f"--seconds {args.seconds:.0f} --runs {args.runs}`",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
