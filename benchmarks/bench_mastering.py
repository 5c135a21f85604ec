# ruff: noqa: E402  (the thread limits must be set before numpy is imported)
"""Mastering of a real province's segments, per core, phase by phase.

    python benchmarks/bench_mastering.py [--province "Lạng Sơn"] [--write]

Builds the province once (the example scripts, the offline voice, police numbers filled in as in
bench_province.py) to fill the clip cache, then takes every distinct segment that build mastered
(each sentence, the chime) and, pinned to one core, times for each:

- assembly: the sentence's clips resampled, trimmed and put in a row with their pauses, FFmpeg's
  atempo to the preset's pace;
- mastering: `master_samples` (band-pass, phase rotation, compression, loudness normalisation with
  the true-peak limiter, and back to the file's rate): the issue-17 target, 300x real time;
- encoding: LAME alone, on the mastered PCM;
- the whole segment as the build makes it (`master_segment`: the above, plus the verifying decode
  and measurement of the finished file, and the re-encode when it is off target).

Results go to benchmarks/RESULTS-mastering.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_var, "1")

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy

from broadcast.app import Workspace
from broadcast.audio.assemble import _Timeline
from broadcast.audio.encoding import encode_mp3
from broadcast.audio.layout import Segment
from broadcast.audio.mastering import master_samples
from broadcast.audio.segments import master_segment
from broadcast.master import SegmentStore
from broadcast.pcm import to_pcm16
from broadcast.tts import ClipCache

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_province import WEEK, make_project
from machine import cpu_model

RESULTS = Path(__file__).with_name("RESULTS-mastering.md")


def capture_segments(root: Path) -> tuple[dict, Path]:
    """Build cold once; return the segment tasks the build mastered and the clip cache folder."""
    captured: dict = {}
    make = SegmentStore.make

    def remember(self, tasks, clips, jobs, progress):
        captured.update(tasks)
        captured["__clips__"] = clips
        return make(self, tasks, clips, jobs, progress)

    SegmentStore.make = remember  # type: ignore[method-assign]
    try:
        Workspace(root).build(WEEK)
    finally:
        SegmentStore.make = make  # type: ignore[method-assign]
    clips = captured.pop("__clips__")
    return captured, Path(clips)


def measure(speech: list, out: Path) -> tuple[dict[str, float], float]:
    """Seconds spent in each phase over every segment, and the seconds of audio mastered."""
    totals = dict.fromkeys(("assemble", "master", "encode", "segment"), 0.0)
    audio = 0.0
    for segment, preset in speech:
        started = time.perf_counter()
        line = _Timeline(preset)
        line.sentence(segment.parts)
        x = line.signal()
        mastering = time.perf_counter()
        y = master_samples(x, line.rate, preset)
        encoding = time.perf_counter()
        encode_mp3(to_pcm16(y), preset.rate, preset.bitrate_kbps, out)
        whole = time.perf_counter()
        master_segment(segment, preset, out)
        done = time.perf_counter()
        totals["assemble"] += mastering - started
        totals["master"] += encoding - mastering
        totals["encode"] += whole - encoding
        totals["segment"] += done - whole
        audio += len(y) / preset.rate
    return totals, audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="Lạng Sơn")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "province"
        make_project(root, args.province)
        tasks, clip_folder = capture_segments(root)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        cache = ClipCache(clip_folder)
        speech = [(Segment(s.level, tuple(cache.get(k) for k in s.parts)), preset)
                  for s, preset, _ in tasks.values() if isinstance(s, Segment) and s.level is None]
        out = Path(tmp) / "segment.mp3"
        measure(speech, out)  # the first round warms caches and imports; the second is measured
        totals, audio = measure(speech, out)
    preset = speech[0][1]
    rows = {name: audio / seconds for name, seconds in totals.items()}
    for name, seconds in totals.items():
        print(f"{name:9s} {seconds:7.2f} s  {rows[name]:6.0f}x real time")
    lines = [
        "# Mastering a province's segments, per core",
        "",
        f"Machine: {cpu_model()}, pinned to 1 core ({os.cpu_count()} present); Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}.",
        f"Input: the {len(speech)} distinct sentences a cold build of {args.province} masters (preset "
        f"`{preset.name}`, offline voice), {audio / 60:.1f} min of mastered audio; second of two rounds.",
        "",
        "| phase | seconds | x real time per core |",
        "|---|---:|---:|",
        f"| assembly (clips, pauses, atempo) | {totals['assemble']:.2f} | {rows['assemble']:.0f}x |",
        f"| **mastering** (`master_samples`: band, phase, compression, loudness, true-peak limiter, "
        f"rate) | {totals['master']:.2f} | **{rows['master']:.0f}x** |",
        f"| MP3 encoding alone (LAME) | {totals['encode']:.2f} | {rows['encode']:.0f}x |",
        f"| the whole segment (`master_segment`: all of the above, the verifying decode and measurement) "
        f"| {totals['segment']:.2f} | {rows['segment']:.0f}x |",
        "",
        f"Reproduce: `python benchmarks/bench_mastering.py --province \"{args.province}\" --write`",
        "",
    ]
    print("\n".join(lines))
    if args.write:
        RESULTS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
