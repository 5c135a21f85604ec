"""The audio stage's ffmpeg calls: tempo change and MP3 encoding, with fixed flags.

ffmpeg is used only where numpy would be worse: `atempo` (a WSOLA time-stretch, pitch kept)
and libmp3lame. Loudness, filters and limiting are done in numpy (`dsp`), because ffmpeg's
`loudnorm` is slow and its two-pass mode needs a second run per file. Failures are wrapped
here once, as `AudioError`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcast.tts.base import TTSError, bilingual
from broadcast.tts.ffmpeg import decode as decode_clip
from broadcast.tts.ffmpeg import ffmpeg_exe

from .dsp import from_pcm16
from .model import AudioError

# Byte-identical output: no encoder version strings, no metadata copied from the input,
# no ID3 header from the muxer (mutagen writes the tags), and no Xing/LAME frame: CBR needs
# none, players then all count the same frames, and files concatenate frame by frame.
_BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
def run(args: list[str], stdin: bytes | None = None, what: str = "") -> bytes:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1", *args]
    try:
        out = subprocess.run(cmd, input=stdin, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise AudioError(bilingual(f"ffmpeg không chạy được ({what}): {e}", f"ffmpeg failed ({what})")) from e
    if out.returncode != 0:
        lines = out.stderr.decode(errors="replace").strip().splitlines()
        detail = lines[-1] if lines else f"mã thoát {out.returncode}"
        raise AudioError(bilingual(f"ffmpeg lỗi khi {what}: {detail}", f"ffmpeg failed while {what}"))
    return out.stdout


def _raw_in(rate: int, fmt: str) -> list[str]:
    return ["-f", fmt, "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]


def stretch(x: np.ndarray, rate: int, tempo: float) -> np.ndarray:
    """Speak `tempo` times as fast (0.92: 8 % slower) without changing pitch."""
    if tempo == 1.0 or not len(x):
        return x
    out = run(
        [*_raw_in(rate, "f32le"), "-af", f"atempo={tempo:.4f}", *_BITEXACT, "-f", "f32le", "pipe:1"],
        stdin=x.astype("<f4").tobytes(),
        what="đổi nhịp độ (changing tempo)",
    )
    return np.frombuffer(out, dtype="<f4").astype(np.float64)


def encode_mp3(pcm16: bytes, rate: int, bitrate_kbps: int, path: Path) -> None:
    """Encode 16-bit mono PCM to a CBR MP3 at `path` (untagged).

    LAME in-process (lameenc), not an ffmpeg subprocess: a week's build encodes thousands of
    short segments, and starting ffmpeg cost more than the encoding itself.
    """
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(5)  # -q 5: fast, and no audible difference for speech band-limited to 7.5 kHz
    path.write_bytes(bytes(encoder.encode(pcm16)) + bytes(encoder.flush()))


def decode(path: Path, rate: int) -> np.ndarray:
    """Decode a file the way a player would (every frame: without a LAME tag nothing is trimmed)."""
    try:
        clip = decode_clip(Path(path), rate=rate, what=path.name)
    except TTSError as e:
        raise AudioError(e.message) from e
    return from_pcm16(clip.samples)


@dataclass(frozen=True)
class Ebur128:
    """ffmpeg's own EBU R128 reading of a file: an independent check on our numpy meter."""

    integrated_lufs: float
    true_peak_dbtp: float


def measure_ebur128(path: Path) -> Ebur128:
    """Integrated loudness and true peak of a file, measured by ffmpeg's `ebur128` filter."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-i",
        str(path),
        "-af",
        "ebur128=peak=true",
        "-f",
        "null",
        "-",
    ]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise AudioError(bilingual(f"ffmpeg không chạy được (ebur128): {e}", "ffmpeg failed (ebur128)")) from e
    summary = out.stderr.decode(errors="replace").rsplit("Summary:", 1)[-1]
    found = {k: re.search(rf"{k}:\s+(-?[\d.]+|-inf)", summary) for k in ("I", "Peak")}
    if out.returncode != 0 or not all(found.values()):
        raise AudioError(bilingual(f"ffmpeg không đo được {path.name}", "ffmpeg could not measure the file"))
    return Ebur128(float(found["I"].group(1)), float(found["Peak"].group(1)))
