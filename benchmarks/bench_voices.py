"""Speaking rate (syllables per second) and real-time factor of each voice that runs on this machine.

A Vietnamese word is one syllable, so the rate is words / seconds of the clip the engine returns
("overall", pauses inside the sentences included) and words / seconds of sound (silences of more than
20 ms left out: "articulation"). The rate that airs is the overall rate times the preset's tempo
(`loa`: 0.92). Online voices (gTTS, Edge, FPT.AI, Viettel AI, Zalo AI) need their services, which this
machine cannot reach: they are listed as not measured.

Run:  PYTHONPATH=src python benchmarks/bench_voices.py [--write]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

from machine import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from broadcast.audio import get_preset  # noqa: E402
from broadcast.tts import make_engine  # noqa: E402

TEXT = ("Bà con tuyệt đối không chuyển tiền cho người lạ qua mạng xã hội. Khi bị đe dọa hãy giữ bình tĩnh và báo "
        "ngay cho công an xã. Không cung cấp mã xác thực cho bất kỳ ai kể cả người tự xưng là cán bộ ngân hàng.")


def measure(params: dict) -> tuple[float, float, float]:
    engine = make_engine("espeak", params, ROOT)
    engine.synthesize("Xin chào.")  # warm up
    started = time.perf_counter()
    clip = engine.synthesize(TEXT)
    elapsed = time.perf_counter() - started
    x = np.frombuffer(clip.samples, dtype="<i2").astype(float) / 32768
    frame = int(0.02 * clip.rate)
    blocks = x[: len(x) // frame * frame].reshape(-1, frame)
    sounding = float((np.sqrt((blocks ** 2).mean(axis=1)) > 0.01).sum() * 0.02)
    words = len(re.findall(r"\w+", TEXT))
    return words / clip.duration, words / sounding, elapsed / clip.duration


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    tempo = get_preset("loa").tempo
    rows = []
    for rate in (100, 120, 140, 160, 180):
        overall, articulation, rtf = measure({"voice": "vi", "rate": rate})
        rows.append((f"espeak rate {rate}", overall, articulation, overall * tempo, rtf))
    for target in (3.0, 3.3, 3.6):
        overall, articulation, rtf = measure({"voice": "vi", "syllables_per_second": target})
        rows.append((f"espeak syllables_per_second {target}", overall, articulation, overall * tempo, rtf))
    lines = ["# Benchmark: speaking rate and real-time factor of the voices", "",
             "`benchmarks/bench_voices.py`: three sentences of a warning (41 syllables), one core.", "",
             f"- Machine: {machine()}", f"- Date: {time.strftime('%Y-%m-%d')}",
             f"- Target for loudspeakers: 3.0–3.5 syllables/s as aired (after the `loa` preset's tempo {tempo})", "",
             "| Voice | syllables/s (clip) | syllables/s (sound) | as aired with `loa` | real-time factor |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {o:.2f} | {a:.2f} | {air:.2f} | {rtf:.4f} |" for name, o, a, air, rtf in rows]
    lines += ["", "Online voices (gtts, edge, fpt, viettel, zalo): not measured here, the machine has no route to "
              "their services; their tests run against fake servers on 127.0.0.1.", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "RESULTS-voices.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
